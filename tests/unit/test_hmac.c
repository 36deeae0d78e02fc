/*
 * SHA-256 against FIPS 180-4's examples (the NIST "abc" and two-block
 * messages, one million 'a') and HMAC-SHA-256 against RFC 4231's test
 * cases 1-7; incremental use equals one call at every split.
 */
#include "unit.h"
#include "lib/hmac_sha256.h"
#include "lib/sha256.h"

#include <string.h>

static void unhex(const char *h, u8 *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (u8)v;
	}
}

static bool digest_is(const u8 *d, const char *hex, size_t n)
{
	u8 want[64];

	unhex(hex, want, n);
	return memcmp(d, want, n) == 0;
}

TEST(sha256_nist_examples)
{
	u8 d[32];

	sha256("abc", 3, d);
	CHECK(digest_is(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 32));
	sha256("", 0, d);
	CHECK(digest_is(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 32));
	sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	CHECK(digest_is(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", 32));
}

TEST(sha256_million_a)
{
	static u8 a[1000];
	struct sha256 s;
	u8 d[32];

	memset(a, 'a', sizeof(a));
	sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		sha256_update(&s, a, sizeof(a));
	sha256_final(&s, d);
	CHECK(digest_is(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", 32));
}

/* Padding's boundary cases: 55, 56, 63, 64 bytes; split at every offset. */
TEST(sha256_split_equals_whole)
{
	u8 msg[200];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (u8)(i * 7 + 1);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		u8 whole[32];

		sha256(msg, len, whole);
		for (size_t cut = 0; cut <= len; cut += (len > 70 ? 13 : 1)) {
			struct sha256 s;
			u8 d[32];

			sha256_init(&s);
			sha256_update(&s, msg, cut);
			sha256_update(&s, msg + cut, len - cut);
			sha256_final(&s, d);
			CHECK(memcmp(d, whole, 32) == 0);
		}
	}
}

struct rfc4231_case {
	u8 key[131];
	size_t keylen;
	u8 data[160];
	size_t datalen;
	const char *mac;   /* hex */
	size_t maclen;     /* test case 5 is truncated to 128 bits */
};

static void make_case(int n, struct rfc4231_case *c)
{
	static const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char *t7 = "This is a test using a larger than block-size key and a larger "
				"than block-size data. The key needs to be hashed before being "
				"used by the HMAC algorithm.";

	memset(c, 0, sizeof(*c));
	c->maclen = 32;
	switch (n) {
	case 1:
		memset(c->key, 0x0b, c->keylen = 20);
		memcpy(c->data, "Hi There", c->datalen = 8);
		c->mac = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
		break;
	case 2:
		memcpy(c->key, "Jefe", c->keylen = 4);
		memcpy(c->data, "what do ya want for nothing?", c->datalen = 28);
		c->mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
		break;
	case 3:
		memset(c->key, 0xaa, c->keylen = 20);
		memset(c->data, 0xdd, c->datalen = 50);
		c->mac = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
		break;
	case 4:
		for (int i = 0; i < 25; i++)
			c->key[i] = (u8)(i + 1);
		c->keylen = 25;
		memset(c->data, 0xcd, c->datalen = 50);
		c->mac = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
		break;
	case 5:
		memset(c->key, 0x0c, c->keylen = 20);
		memcpy(c->data, "Test With Truncation", c->datalen = 20);
		c->mac = "a3b6167473100ee06e0c796c2955552b";
		c->maclen = 16;
		break;
	case 6:
		memset(c->key, 0xaa, c->keylen = 131);
		memcpy(c->data, t6, c->datalen = strlen(t6));
		c->mac = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
		break;
	case 7:
		memset(c->key, 0xaa, c->keylen = 131);
		memcpy(c->data, t7, c->datalen = strlen(t7));
		c->mac = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";
		break;
	}
}

TEST(rfc4231_vectors)
{
	for (int n = 1; n <= 7; n++) {
		struct rfc4231_case c;
		u8 mac[32];

		make_case(n, &c);
		hmac_sha256(c.key, c.keylen, c.data, c.datalen, mac);
		if (!digest_is(mac, c.mac, c.maclen)) {
			fprintf(stderr, "RFC 4231 test case %d\n", n);
			CHECK(0);
		}
	}
}

/* A prepared key and data fed in pieces give the same MAC. */
TEST(prepared_key_and_pieces)
{
	for (int n = 1; n <= 7; n++) {
		struct rfc4231_case c;
		struct hmac_sha256_key k;
		u8 whole[32];

		make_case(n, &c);
		hmac_sha256(c.key, c.keylen, c.data, c.datalen, whole);
		hmac_sha256_key_init(&k, c.key, c.keylen);
		for (size_t cut = 0; cut <= c.datalen; cut++) {
			struct hmac_sha256 m;
			u8 mac[32];

			hmac_sha256_start(&m, &k);
			hmac_sha256_update(&m, c.data, cut);
			hmac_sha256_update(&m, c.data + cut, c.datalen - cut);
			hmac_sha256_final(&m, mac);
			CHECK(memcmp(mac, whole, 32) == 0);
		}
		hmac_sha256_key_wipe(&k);
	}
}

/* A 64-byte key is used as it is, a 65-byte one hashed (RFC 2104, 2). */
TEST(key_length_boundary)
{
	u8 k64[64], k65[65], hk[32], a[32], b[32];

	memset(k64, 0x42, sizeof(k64));
	memset(k65, 0x42, sizeof(k65));
	sha256(k65, sizeof(k65), hk);
	hmac_sha256(k65, sizeof(k65), "x", 1, a);
	hmac_sha256(hk, sizeof(hk), "x", 1, b);
	CHECK(memcmp(a, b, 32) == 0);
	hmac_sha256(k64, sizeof(k64), "x", 1, b);
	CHECK(memcmp(a, b, 32) != 0);
}

TEST(equal_compare)
{
	u8 a[32] = { 1, 2, 3 }, b[32] = { 1, 2, 3 };

	CHECK(hmac_equal(a, b, 32));
	b[31] ^= 1;
	CHECK(!hmac_equal(a, b, 32));
	b[31] ^= 1;
	b[0] ^= 0x80;
	CHECK(!hmac_equal(a, b, 32));
}

int main(void)
{
	RUN(sha256_nist_examples);
	RUN(sha256_million_a);
	RUN(sha256_split_equals_whole);
	RUN(rfc4231_vectors);
	RUN(prepared_key_and_pieces);
	RUN(key_length_boundary);
	RUN(equal_compare);
	return unit_done();
}
