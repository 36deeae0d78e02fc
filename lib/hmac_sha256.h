/*
 * HMAC-SHA-256 (RFC 2104 with FIPS 180-4's SHA-256; RFC 4231 has its test
 * vectors): the MAC of each migration stream section (docs/migration.md).
 *
 *   struct hmac_sha256 m; hmac_sha256_init(&m, key, keylen);
 *   hmac_sha256_update(&m, p, n); ...; hmac_sha256_final(&m, mac);
 *
 * A prepared key (hmac_sha256_key) holds the inner and outer states after
 * the padded key, so that a stream of many sections hashes the key's two
 * blocks once, not per section.
 */
#ifndef LIB_HMAC_SHA256_H
#define LIB_HMAC_SHA256_H

#include "hv/types.h"
#include "lib/sha256.h"

#define HMAC_SHA256_LEN SHA256_DIGEST_LEN

/* The key, absorbed: SHA-256 states after K xor ipad and K xor opad. */
struct hmac_sha256_key {
	struct sha256 inner, outer;
};

struct hmac_sha256 {
	struct sha256 inner, outer;
};

/* Any key length: RFC 2104, 2: a key longer than the block is hashed first. */
void hmac_sha256_key_init(struct hmac_sha256_key *k, const void *key, size_t keylen);
/* Wipes a prepared key. */
void hmac_sha256_key_wipe(struct hmac_sha256_key *k);

void hmac_sha256_start(struct hmac_sha256 *m, const struct hmac_sha256_key *k);
void hmac_sha256_init(struct hmac_sha256 *m, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256 *m, const void *data, size_t len);
/* Writes the 32-byte MAC and wipes *m. */
void hmac_sha256_final(struct hmac_sha256 *m, u8 mac[HMAC_SHA256_LEN]);
/* The MAC of one buffer. */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 u8 mac[HMAC_SHA256_LEN]);

/* Compares two MACs in time independent of where they differ: a peer must
 * not learn how many leading bytes of a forged MAC were right. */
bool hmac_equal(const u8 *a, const u8 *b, size_t n);

#endif
