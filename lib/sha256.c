/*
 * SHA-256 as FIPS 180-4 specifies it: the functions of 4.1.2, the constants
 * of 4.2.2, the initial hash value of 5.3.3, padding of 5.1.1 and the
 * computation of 6.2.2. Written for clarity over speed; a 4 KiB page takes
 * 64 compressions.
 */
#include "lib/sha256.h"

#include "lib/string.h"

/* FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const u32 sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline u32 rotr(u32 x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/* FIPS 180-4, 4.1.2 (4.2)-(4.7). */
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22))
#define BSIG1(x) (rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25))
#define SSIG0(x) (rotr(x, 7) ^ rotr(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (rotr(x, 17) ^ rotr(x, 19) ^ ((x) >> 10))

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* FIPS 180-4, 6.2.2: one 512-bit block into the hash value. */
static void sha256_block(u32 h[8], const u8 *m)
{
	u32 w[64];
	u32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];

	for (int t = 0; t < 16; t++)
		w[t] = be32(m + 4 * t);
	for (int t = 16; t < 64; t++)
		w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];
	for (int t = 0; t < 64; t++) {
		u32 t1 = hh + BSIG1(e) + CH(e, f, g) + sha256_k[t] + w[t];
		u32 t2 = BSIG0(a) + MAJ(a, b, c);

		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

void sha256_init(struct sha256 *s)
{
	/* FIPS 180-4, 5.3.3: H(0). */
	static const u32 h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, h0, sizeof(h0));
	s->total = 0;
	s->fill = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const u8 *p = data;

	s->total += len;
	if (s->fill) {
		size_t take = MIN(len, (size_t)(SHA256_BLOCK_LEN - s->fill));

		memcpy(s->block + s->fill, p, take);
		s->fill += (u32)take;
		p += take;
		len -= take;
		if (s->fill < SHA256_BLOCK_LEN)
			return;
		sha256_block(s->h, s->block);
		s->fill = 0;
	}
	for (; len >= SHA256_BLOCK_LEN; p += SHA256_BLOCK_LEN, len -= SHA256_BLOCK_LEN)
		sha256_block(s->h, p);
	if (len) {
		memcpy(s->block, p, len);
		s->fill = (u32)len;
	}
}

void sha256_final(struct sha256 *s, u8 digest[SHA256_DIGEST_LEN])
{
	/* FIPS 180-4, 5.1.1: a 1 bit, zeros up to 448 mod 512 bits, then the
	 * message length in bits as a 64-bit big-endian number. */
	u64 bits = s->total * 8;
	u8 pad[SHA256_BLOCK_LEN + 8] = { 0x80 };
	size_t zeros = (s->fill < 56 ? 56 : 120) - s->fill;

	for (int i = 0; i < 8; i++)
		pad[zeros + i] = (u8)(bits >> (56 - 8 * i));
	sha256_update(s, pad, zeros + 8);
	for (int i = 0; i < 8; i++) {
		digest[4 * i] = (u8)(s->h[i] >> 24);
		digest[4 * i + 1] = (u8)(s->h[i] >> 16);
		digest[4 * i + 2] = (u8)(s->h[i] >> 8);
		digest[4 * i + 3] = (u8)s->h[i];
	}
	/* The state holds key-derived bytes when HMAC uses it. */
	memset(s, 0, sizeof(*s));
}

void sha256(const void *data, size_t len, u8 digest[SHA256_DIGEST_LEN])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, digest);
}
