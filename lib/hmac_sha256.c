/*
 * HMAC (RFC 2104, section 2) over SHA-256 (FIPS 180-4):
 *   H(K xor opad, H(K xor ipad, text)), ipad = 0x36.., opad = 0x5c..,
 * K padded with zeros to the block length B = 64, or first hashed when it is
 * longer than B.
 */
#include "lib/hmac_sha256.h"

#include "lib/string.h"

void hmac_sha256_key_init(struct hmac_sha256_key *k, const void *key, size_t keylen)
{
	u8 kb[SHA256_BLOCK_LEN] = { 0 };
	u8 pad[SHA256_BLOCK_LEN];

	if (keylen > SHA256_BLOCK_LEN)
		sha256(key, keylen, kb);
	else if (keylen)
		memcpy(kb, key, keylen);

	for (int i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = kb[i] ^ 0x36;
	sha256_init(&k->inner);
	sha256_update(&k->inner, pad, sizeof(pad));
	for (int i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = kb[i] ^ 0x5c;
	sha256_init(&k->outer);
	sha256_update(&k->outer, pad, sizeof(pad));

	/* Key bytes do not outlive the call on the stack. */
	memset(kb, 0, sizeof(kb));
	memset(pad, 0, sizeof(pad));
}

void hmac_sha256_key_wipe(struct hmac_sha256_key *k)
{
	memset(k, 0, sizeof(*k));
}

void hmac_sha256_start(struct hmac_sha256 *m, const struct hmac_sha256_key *k)
{
	m->inner = k->inner;
	m->outer = k->outer;
}

void hmac_sha256_init(struct hmac_sha256 *m, const void *key, size_t keylen)
{
	struct hmac_sha256_key k;

	hmac_sha256_key_init(&k, key, keylen);
	hmac_sha256_start(m, &k);
	hmac_sha256_key_wipe(&k);
}

void hmac_sha256_update(struct hmac_sha256 *m, const void *data, size_t len)
{
	sha256_update(&m->inner, data, len);
}

void hmac_sha256_final(struct hmac_sha256 *m, u8 mac[HMAC_SHA256_LEN])
{
	u8 ih[SHA256_DIGEST_LEN];

	sha256_final(&m->inner, ih);
	sha256_update(&m->outer, ih, sizeof(ih));
	sha256_final(&m->outer, mac);
	memset(ih, 0, sizeof(ih));
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 u8 mac[HMAC_SHA256_LEN])
{
	struct hmac_sha256 m;

	hmac_sha256_init(&m, key, keylen);
	hmac_sha256_update(&m, data, len);
	hmac_sha256_final(&m, mac);
}

bool hmac_equal(const u8 *a, const u8 *b, size_t n)
{
	volatile u8 diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}
