/*
 * CRC-32/IEEE 802.3 (the CRC of zlib, PNG and Ethernet): polynomial
 * 0x04c11db7, reflected (0xedb88320), initial value and final XOR 0xffffffff.
 * crc32("123456789") is 0xcbf43926.
 *
 * Incremental use: crc = crc32_update(CRC32_INIT, a, na);
 * crc = crc32_update(crc, b, nb); result = crc32_final(crc).
 */
#ifndef LIB_CRC32_H
#define LIB_CRC32_H

#include "hv/types.h"

#define CRC32_INIT 0xffffffffu

u32 crc32_update(u32 state, const void *buf, size_t len);

static inline u32 crc32_final(u32 state)
{
	return state ^ 0xffffffffu;
}

/* The CRC of one buffer. */
static inline u32 crc32(const void *buf, size_t len)
{
	return crc32_final(crc32_update(CRC32_INIT, buf, len));
}

#endif
