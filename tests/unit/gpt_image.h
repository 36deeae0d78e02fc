/*
 * Host helper: writes a GPT disk image into memory as a partitioning tool
 * would (UEFI 2.10, 5.2.3 and 5.3), for the GPT tests and the fuzzer's
 * seeds. Entries of 128 bytes; the primary array at LBA 2, the backup array
 * just before the backup header at the last LBA.
 */
#ifndef GPT_IMAGE_H
#define GPT_IMAGE_H

#include <string.h>
#include "hv/types.h"
#include "lib/crc32.h"

struct gpt_image_part {
	const char *name; /* ASCII, written as UTF-16LE */
	u64 first, last;
};

/* Byte offsets in a header (Table 5-5) and an entry (Table 5-6). */
enum {
	GH_HEADER_SIZE = 12, GH_HEADER_CRC = 16, GH_MY_LBA = 24, GH_ALTERNATE = 32,
	GH_FIRST_USABLE = 40, GH_LAST_USABLE = 48, GH_ENTRY_LBA = 72, GH_NR_ENTRIES = 80,
	GH_ENTRY_SIZE = 84, GH_ENTRIES_CRC = 88,
	GE_FIRST = 32, GE_LAST = 40, GE_NAME = 56,
};

static inline void gi_put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static inline void gi_put64(u8 *p, u64 v) { memcpy(p, &v, 8); }
static inline u32 gi_get32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static inline u64 gi_get64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

/* Recomputes the entry-array CRC, then the header CRC, of the header at lba,
 * reading the array where the header says (which must be inside disk). */
static inline void gpt_image_fix_crcs(u8 *disk, u64 nr_lbas, u64 lba)
{
	u8 *h = disk + lba * 512;
	u64 entry_lba = gi_get64(h + GH_ENTRY_LBA);
	u64 bytes = (u64)gi_get32(h + GH_NR_ENTRIES) * gi_get32(h + GH_ENTRY_SIZE);
	u32 hsize = gi_get32(h + GH_HEADER_SIZE);

	if (entry_lba < nr_lbas && bytes <= (nr_lbas - entry_lba) * 512)
		gi_put32(h + GH_ENTRIES_CRC, crc32(disk + entry_lba * 512, bytes));
	if (hsize > 512)
		hsize = 512;
	gi_put32(h + GH_HEADER_CRC, 0);
	gi_put32(h + GH_HEADER_CRC, crc32(h, hsize));
}

static inline void gpt_image_header(u8 *disk, u64 nr_lbas, u64 my, u64 alt, u64 entry_lba,
				    u32 nr_entries, u64 first_usable, u64 last_usable)
{
	u8 *h = disk + my * 512;

	memset(h, 0, 512);
	memcpy(h, "EFI PART", 8);
	gi_put32(h + 8, 0x00010000);
	gi_put32(h + GH_HEADER_SIZE, 92);
	gi_put64(h + GH_MY_LBA, my);
	gi_put64(h + GH_ALTERNATE, alt);
	gi_put64(h + GH_FIRST_USABLE, first_usable);
	gi_put64(h + GH_LAST_USABLE, last_usable);
	memset(h + 56, 0xab, 16); /* DiskGUID */
	gi_put64(h + GH_ENTRY_LBA, entry_lba);
	gi_put32(h + GH_NR_ENTRIES, nr_entries);
	gi_put32(h + GH_ENTRY_SIZE, 128);
	gpt_image_fix_crcs(disk, nr_lbas, my);
}

/* A whole valid GPT on disk (nr_lbas sectors, zeroed by the caller) with
 * nr_entries entries (a multiple of 4), parts in the first entries. */
static inline void gpt_image_build(u8 *disk, u64 nr_lbas, u32 nr_entries,
				   const struct gpt_image_part *parts, unsigned n)
{
	u64 array_lbas = (u64)nr_entries * 128 / 512;
	u8 *mbr = disk, *entries = disk + 2 * 512;

	/* Protective MBR (5.2.3): one record of type 0xEE from LBA 1. */
	mbr[446 + 4] = 0xee;
	gi_put32(mbr + 446 + 8, 1);
	gi_put32(mbr + 446 + 12, nr_lbas - 1 > 0xffffffffu ? 0xffffffffu : (u32)(nr_lbas - 1));
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	for (unsigned i = 0; i < n; i++) {
		u8 *e = entries + i * 128;

		memset(e, 0x11 + i, 16); /* a type GUID (any non-zero one) */
		memset(e + 16, 0x51 + i, 16);
		gi_put64(e + GE_FIRST, parts[i].first);
		gi_put64(e + GE_LAST, parts[i].last);
		for (unsigned c = 0; parts[i].name[c] && c < 36; c++)
			e[GE_NAME + 2 * c] = (u8)parts[i].name[c];
	}
	memcpy(disk + (nr_lbas - 1 - array_lbas) * 512, entries, array_lbas * 512);
	gpt_image_header(disk, nr_lbas, 1, nr_lbas - 1, 2, nr_entries, 2 + array_lbas,
			 nr_lbas - 2 - array_lbas);
	gpt_image_header(disk, nr_lbas, nr_lbas - 1, 1, nr_lbas - 1 - array_lbas, nr_entries,
			 2 + array_lbas, nr_lbas - 2 - array_lbas);
}

#endif
