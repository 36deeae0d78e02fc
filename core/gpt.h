/*
 * Reading a disk's GUID Partition Table (UEFI 2.10, 5.2-5.3): the protective
 * MBR, the primary header at LBA 1 and the backup at the last LBA, each with
 * its header CRC32 and its entry array's CRC32. A host-testable parser: it
 * reads the disk through a callback and trusts nothing it has not checked.
 * core/gpt_scan.c runs it on every disk at boot.
 */
#ifndef CORE_GPT_H
#define CORE_GPT_H

#include "hv/types.h"

#define GPT_LBA 512 /* logical block size this parser supports (the blockdev unit) */
#define GPT_NAME_MAX 36 /* UTF-16 code units in an entry's name (UEFI 5.3.3) */
/* Bounds on what a header may ask us to read: 4 x the usual 128 x 128 bytes. */
#define GPT_MAX_ENTRIES 1024
#define GPT_MAX_ENTRY_SIZE 1024
#define GPT_MAX_ARRAY_BYTES (64 * 1024)

/* A partition that may be used: named, inside the usable area, alone. */
struct gpt_part {
	char name[GPT_NAME_MAX + 1]; /* ASCII */
	u64 first_lba, last_lba;     /* inclusive (UEFI's StartingLBA, EndingLBA) */
	unsigned index;              /* its entry number, for messages */
};

struct gpt_disk {
	const char *name; /* for messages: "nvme0" */
	u64 nr_lbas;
	/* Reads count LBAs from lba into buf; 0 or a negative errno. */
	int (*read)(void *ctx, u64 lba, u32 count, void *buf);
	void *ctx;
	/* One line per problem or notable fact, without a newline. */
	void (*report)(void *ctx, const char *msg);
	void *report_ctx;
};

/* Which header gpt_read used. */
enum gpt_source { GPT_PRIMARY, GPT_BACKUP };

/*
 * Reads d's GPT into parts[0..*nr) (at most max). Returns 0 (a table was
 * found; *source says which copy), -ENOENT (no protective or hybrid MBR: not
 * a GPT disk), -EINVAL (both copies damaged: the disk must not be used),
 * -EIO (a read failed), -ENOMEM. Entries that cannot be used (unnamed names
 * are skipped silently; non-ASCII, duplicate, overlapping, outside the
 * usable area) are reported and left out.
 */
int gpt_read(const struct gpt_disk *d, struct gpt_part *parts, unsigned max, unsigned *nr,
	     enum gpt_source *source);

#endif
