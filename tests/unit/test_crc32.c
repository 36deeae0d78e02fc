/* CRC-32/IEEE against published check values and its bitwise definition. */
#include "unit.h"
#include "lib/crc32.h"

#include <string.h>

static u32 bitwise_entry(u32 c)
{
	for (int k = 0; k < 8; k++)
		c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
	return c;
}

TEST(table_matches_definition)
{
	for (unsigned i = 0; i < 256; i++) {
		u8 b = (u8)i;

		CHECK_EQ(crc32_update(0, &b, 1), bitwise_entry(i));
	}
}

/* The catalogue's check value, and other well-known ones (zlib's crc32). */
TEST(known_vectors)
{
	static const u8 zeros[32];
	static const u8 ones[32] = { [0 ... 31] = 0xff };

	CHECK_EQ(crc32("123456789", 9), 0xcbf43926u);
	CHECK_EQ(crc32("", 0), 0);
	CHECK_EQ(crc32("a", 1), 0xe8b7be43u);
	CHECK_EQ(crc32("abc", 3), 0x352441c2u);
	CHECK_EQ(crc32("The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
	/* 32 zero bytes and 32 0xff bytes (as zlib.crc32 computes them). */
	CHECK_EQ(crc32(zeros, 32), 0x190a55adu);
	CHECK_EQ(crc32(ones, 32), 0xff6cab0bu);
}

TEST(incremental_equals_whole)
{
	static u8 buf[1000];
	u32 whole, st;

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + 3);
	whole = crc32(buf, sizeof(buf));
	for (size_t cut = 0; cut <= sizeof(buf); cut += 37) {
		st = crc32_update(CRC32_INIT, buf, cut);
		st = crc32_update(st, buf + cut, sizeof(buf) - cut);
		CHECK_EQ(crc32_final(st), whole);
	}
	buf[500] ^= 1;
	CHECK(crc32(buf, sizeof(buf)) != whole);
}

int main(void)
{
	RUN(table_matches_definition);
	RUN(known_vectors);
	RUN(incremental_equals_whole);
	return unit_done();
}
