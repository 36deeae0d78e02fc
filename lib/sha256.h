/*
 * SHA-256 (FIPS 180-4, section 6.2): the hash under HMAC-SHA-256, which
 * authenticates the migration stream (lib/hmac_sha256.h, docs/migration.md).
 * Freestanding and allocation-free, so the hypervisor and the host tests
 * build the same file.
 *
 *   struct sha256 h; sha256_init(&h); sha256_update(&h, p, n); ...;
 *   sha256_final(&h, digest);
 */
#ifndef LIB_SHA256_H
#define LIB_SHA256_H

#include "hv/types.h"

#define SHA256_DIGEST_LEN 32
#define SHA256_BLOCK_LEN 64

struct sha256 {
	u32 h[8];                    /* the intermediate hash value H(i) */
	u64 total;                   /* bytes hashed so far (the message length l / 8) */
	u8 block[SHA256_BLOCK_LEN];  /* a partial block waiting for more bytes */
	u32 fill;                    /* bytes in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Pads (FIPS 180-4, 5.1.1), writes the 32-byte digest and wipes *s. */
void sha256_final(struct sha256 *s, u8 digest[SHA256_DIGEST_LEN]);
/* The digest of one buffer. */
void sha256(const void *data, size_t len, u8 digest[SHA256_DIGEST_LEN]);

#endif
