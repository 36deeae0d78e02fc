/*
 * Byte offsets of the snapshot's file header and section header
 * (docs/snapshot.md), and little-endian helpers: shared by the writer, the
 * reader and snap_verify. Not for users of the format (include/hv/snapshot.h).
 */
#ifndef CORE_SNAPSHOT_LAYOUT_H
#define CORE_SNAPSHOT_LAYOUT_H

#include "hv/snapshot.h"
#include "hv/types.h"

/* The file header, SNAP_HEADER_LEN bytes. */
#define SNAP_HDR_MAGIC 0     /* 8 bytes */
#define SNAP_HDR_VERSION 8   /* u16 */
#define SNAP_HDR_HDRLEN 10   /* u16 */
#define SNAP_HDR_COUNT 12    /* u32: sections, the end section included */
#define SNAP_HDR_TOTAL 16    /* u64: bytes, this header included */
#define SNAP_HDR_FLAGS 24    /* u32: 0 in version 1 */
#define SNAP_HDR_CRC 28      /* u32: CRC-32 of bytes 0-27 */

/* A section header, SNAP_SECTION_HEADER_LEN bytes. */
#define SNAP_SH_TYPE 0       /* u32 */
#define SNAP_SH_INSTANCE 4   /* u32 */
#define SNAP_SH_LENGTH 8     /* u64: payload bytes */
#define SNAP_SH_INDEX 16     /* u32: the section's position, 0 first */
#define SNAP_SH_NAME 20      /* SNAP_NAME_LEN bytes, NUL-padded */
#define SNAP_SH_CRC 36       /* u32: CRC-32 of the payload, then of bytes 0-35 */

_Static_assert(SNAP_SH_NAME + SNAP_NAME_LEN == SNAP_SH_CRC, "section header layout");
_Static_assert(SNAP_SH_CRC + 4 == SNAP_SECTION_HEADER_LEN, "section header layout");
_Static_assert(SNAP_HDR_CRC + 4 == SNAP_HEADER_LEN, "file header layout");

struct snap_section_hdr {
	u32 type, instance, index, crc;
	u64 length;
	char name[SNAP_NAME_LEN]; /* as stored */
};

static inline u16 snap_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static inline u32 snap_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static inline u64 snap_le64(const u8 *p)
{
	return (u64)snap_le32(p) | (u64)snap_le32(p + 4) << 32;
}

static inline void snap_st16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static inline void snap_st32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline void snap_st64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* Reads and decodes the section header at off: -ERANGE when it does not
 * fit. raw (SNAP_SECTION_HEADER_LEN bytes) gets the bytes as stored. */
int snap_section_hdr_at(const struct snapshot *s, u64 off, struct snap_section_hdr *h, u8 *raw);

/* The section's CRC as stored must equal this: the payload's CRC-32
 * continued over the header's first SNAP_SH_CRC bytes. */
u32 snap_section_crc(const struct snapshot *s, u64 payload_off, u64 len, const u8 *raw);

#endif
