/*
 * The GPT parser (core/gpt.c) against good and damaged tables: a damaged
 * primary falls back to the backup, both damaged refuses the disk, and no
 * header or entry, however absurd, makes it read outside the disk or its
 * buffers (every read is checked here; ASan watches the buffers).
 */
#include "unit.h"
#include "core/gpt.h"
#include "gpt_image.h"
#include <stdlib.h>
#include <string.h>

void *kmalloc(size_t size) { return malloc(size); }
void kfree(void *p) { free(p); }

#define NR_LBAS 2048 /* 1 MiB */
static u8 disk[NR_LBAS * 512];
static unsigned bad_reads, nr_reads;
static bool fail_reads;
static char messages[4096];

static int disk_read(void *ctx, u64 lba, u32 count, void *buf)
{
	nr_reads++;
	if (lba >= NR_LBAS || count > NR_LBAS - lba) {
		bad_reads++;
		return -EIO;
	}
	if (fail_reads)
		return -EIO;
	memcpy(buf, disk + lba * 512, (size_t)count * 512);
	return 0;
}

static void report(void *ctx, const char *msg)
{
	strncat(messages, msg, sizeof(messages) - strlen(messages) - 2);
	strcat(messages, "\n");
}

static const struct gpt_disk d = {
	.name = "disk0", .nr_lbas = NR_LBAS, .read = disk_read, .report = report,
};

static const struct gpt_image_part two[] = {
	{ "root", 34, 1033 },
	{ "data", 1034, 2000 },
};

static struct gpt_part parts[16];
static unsigned nr;
static enum gpt_source src;

static void fresh(void)
{
	memset(disk, 0, sizeof(disk));
	gpt_image_build(disk, NR_LBAS, 128, two, 2);
	messages[0] = 0;
	bad_reads = nr_reads = 0;
	fail_reads = false;
}

static int parse(void)
{
	memset(parts, 0, sizeof(parts));
	src = 99;
	return gpt_read(&d, parts, 16, &nr, &src);
}

static u8 *primary(void) { return disk + 512; }
static u8 *backup(void) { return disk + (NR_LBAS - 1) * 512; }

TEST(good_table)
{
	fresh();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(src, GPT_PRIMARY);
	CHECK_EQ(nr, 2);
	CHECK(!strcmp(parts[0].name, "root") && parts[0].first_lba == 34 && parts[0].last_lba == 1033);
	CHECK(!strcmp(parts[1].name, "data") && parts[1].first_lba == 1034);
	CHECK_EQ(messages[0], 0);
	CHECK_EQ(bad_reads, 0);
}

TEST(no_protective_mbr_is_not_gpt)
{
	fresh();
	disk[510] = 0;
	CHECK_EQ(parse(), -ENOENT);
	fresh();
	disk[446 + 4] = 0x83; /* a plain MBR partition */
	CHECK_EQ(parse(), -ENOENT);
}

TEST(bad_primary_header_crc_uses_backup)
{
	fresh();
	primary()[GH_FIRST_USABLE] ^= 1; /* CRC now wrong */
	CHECK_EQ(parse(), 0);
	CHECK_EQ(src, GPT_BACKUP);
	CHECK_EQ(nr, 2);
	CHECK(strstr(messages, "bad header CRC; using the backup"));
}

TEST(bad_primary_entries_crc_uses_backup)
{
	fresh();
	disk[2 * 512 + GE_NAME] = 'R'; /* the primary array only */
	CHECK_EQ(parse(), 0);
	CHECK_EQ(src, GPT_BACKUP);
	CHECK(!strcmp(parts[0].name, "root"));
	CHECK(strstr(messages, "bad entry-array CRC"));
}

TEST(bad_backup_is_reported_primary_used)
{
	fresh();
	backup()[0] = 'X';
	CHECK_EQ(parse(), 0);
	CHECK_EQ(src, GPT_PRIMARY);
	CHECK(strstr(messages, "backup GPT header"));
}

TEST(both_damaged_refused)
{
	fresh();
	primary()[GH_HEADER_CRC] ^= 0xff;
	disk[(NR_LBAS - 33) * 512 + 100] ^= 1; /* backup array */
	CHECK_EQ(parse(), -EINVAL);
	CHECK_EQ(nr, 0);
	CHECK(strstr(messages, "the disk is not used"));
}

TEST(header_at_wrong_lba_refused)
{
	fresh();
	gi_put64(primary() + GH_MY_LBA, 7);
	gpt_image_fix_crcs(disk, NR_LBAS, 1);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(src, GPT_BACKUP);
	CHECK(strstr(messages, "MyLBA"));
}

TEST(read_errors)
{
	fresh();
	fail_reads = true;
	CHECK(parse() < 0);
	CHECK_EQ(nr, 0);
}

/* A header field set to v with valid CRCs: the parser must refuse it on its
 * merits, and read nothing outside the disk. */
static void absurd(unsigned off, unsigned size, u64 v)
{
	fresh();
	for (int which = 0; which < 2; which++) {
		u64 lba = which ? NR_LBAS - 1 : 1;
		u8 *h = disk + lba * 512;

		if (size == 4)
			gi_put32(h + off, (u32)v);
		else
			gi_put64(h + off, v);
		gpt_image_fix_crcs(disk, NR_LBAS, lba);
	}
	if (parse() != -EINVAL) {
		fprintf(stderr, "field at %u = 0x%llx accepted\n", off, (unsigned long long)v);
		unit_failed_checks++;
	}
	CHECK_EQ(bad_reads, 0);
}

TEST(absurd_headers_refused)
{
	absurd(GH_ENTRY_SIZE, 4, 0);
	absurd(GH_ENTRY_SIZE, 4, 127);
	absurd(GH_ENTRY_SIZE, 4, 129);
	absurd(GH_ENTRY_SIZE, 4, 384);        /* not 128 x 2^n */
	absurd(GH_ENTRY_SIZE, 4, 0x80000000u);
	absurd(GH_NR_ENTRIES, 4, 0xffffffffu);
	absurd(GH_NR_ENTRIES, 4, 100000);
	absurd(GH_ENTRY_LBA, 8, NR_LBAS - 1);   /* over the backup header */
	absurd(GH_ENTRY_LBA, 8, NR_LBAS + 5);   /* beyond the disk */
	absurd(GH_ENTRY_LBA, 8, ~0ULL - 3);     /* overflows */
	absurd(GH_ENTRY_LBA, 8, 0);             /* over the MBR */
	absurd(GH_ENTRY_LBA, 8, 100);           /* in the usable area */
	absurd(GH_LAST_USABLE, 8, NR_LBAS);     /* beyond the disk */
	absurd(GH_FIRST_USABLE, 8, 2015);       /* after the last usable */
	absurd(GH_HEADER_SIZE, 4, 91);
	absurd(GH_HEADER_SIZE, 4, 513);
	absurd(GH_HEADER_SIZE, 4, 0xffffffffu);
}

TEST(large_entries_are_read_at_their_stride)
{
	/* 256-byte entries (128 x 2): the names must be found at the stride. */
	fresh();
	memset(disk, 0, sizeof(disk));
	gpt_image_build(disk, NR_LBAS, 128, two, 2);
	for (int which = 0; which < 2; which++) {
		u64 lba = which ? NR_LBAS - 1 : 1;
		u8 *h = disk + lba * 512;
		u8 *arr = disk + gi_get64(h + GH_ENTRY_LBA) * 512;

		memcpy(arr + 256, arr + 128, 128); /* entry 1 moves to stride 256 */
		memset(arr + 128, 0, 128);
		gi_put32(h + GH_ENTRY_SIZE, 256);
		gi_put32(h + GH_NR_ENTRIES, 64);
		gpt_image_fix_crcs(disk, NR_LBAS, lba);
	}
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 2);
	CHECK(!strcmp(parts[1].name, "data"));
}

/* Changes the entries of both copies with f, then fixes the CRCs. */
static void edit_entries(void (*f)(u8 *arr))
{
	fresh();
	f(disk + 2 * 512);
	f(disk + (NR_LBAS - 33) * 512);
	gpt_image_fix_crcs(disk, NR_LBAS, 1);
	gpt_image_fix_crcs(disk, NR_LBAS, NR_LBAS - 1);
}

static void outside(u8 *arr) { gi_put64(arr + 128 + GE_LAST, NR_LBAS + 100); }
static void reversed(u8 *arr) { gi_put64(arr + 128 + GE_LAST, 1000); }
static void before_usable(u8 *arr) { gi_put64(arr + GE_FIRST, 1); }
static void overlap(u8 *arr) { gi_put64(arr + 128 + GE_FIRST, 1000); }
static void non_ascii(u8 *arr) { arr[GE_NAME + 3] = 0x30; /* U+3000 */ }
static void space(u8 *arr) { arr[GE_NAME + 2] = ' '; }
static void unnamed(u8 *arr) { memset(arr + GE_NAME, 0, 72); }
static void duplicate(u8 *arr) { memcpy(arr + 128 + GE_NAME, arr + GE_NAME, 72); }
static void long_name(u8 *arr)
{
	for (int i = 0; i < 36; i++)
		arr[GE_NAME + 2 * i] = 'a'; /* 36 characters, no terminator */
}

TEST(bad_entries_skipped_alone)
{
	edit_entries(outside);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 1);
	CHECK(!strcmp(parts[0].name, "root"));
	CHECK(strstr(messages, "outside the usable area"));

	edit_entries(reversed);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 1);

	edit_entries(before_usable);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 1);
	CHECK(!strcmp(parts[0].name, "data"));

	edit_entries(overlap);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 1);
	CHECK(!strcmp(parts[0].name, "root"));
	CHECK(strstr(messages, "overlaps"));
}

TEST(names)
{
	edit_entries(non_ascii);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 1);
	CHECK(strstr(messages, "not ASCII"));

	edit_entries(space);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 1);

	edit_entries(unnamed);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 1);
	CHECK_EQ(messages[0], 0); /* unnamed partitions are simply not offered */

	edit_entries(duplicate);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 0); /* which one was meant? neither is offered */
	CHECK(strstr(messages, "used twice"));

	edit_entries(long_name);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nr, 2);
	CHECK_EQ(strlen(parts[0].name), 36);
}

TEST(more_partitions_than_room)
{
	struct gpt_part few[1];

	fresh();
	CHECK_EQ(gpt_read(&d, few, 1, &nr, &src), 0);
	CHECK_EQ(nr, 1);
	CHECK(strstr(messages, "more than 1 partitions"));
}

TEST(tiny_disks)
{
	static const struct gpt_disk small = { .name = "s", .nr_lbas = 3, .read = disk_read,
					       .report = report };
	static const struct gpt_disk empty = { .name = "e", .nr_lbas = 0, .read = disk_read,
					       .report = report };

	fresh();
	CHECK_EQ(gpt_read(&small, parts, 16, &nr, &src), -ENOENT);
	CHECK_EQ(gpt_read(&empty, parts, 16, &nr, &src), -ENOENT);
	CHECK_EQ(bad_reads, 0);
}

int main(void)
{
	RUN(good_table);
	RUN(no_protective_mbr_is_not_gpt);
	RUN(bad_primary_header_crc_uses_backup);
	RUN(bad_primary_entries_crc_uses_backup);
	RUN(bad_backup_is_reported_primary_used);
	RUN(both_damaged_refused);
	RUN(header_at_wrong_lba_refused);
	RUN(read_errors);
	RUN(absurd_headers_refused);
	RUN(large_entries_are_read_at_their_stride);
	RUN(bad_entries_skipped_alone);
	RUN(names);
	RUN(more_partitions_than_room);
	RUN(tiny_disks);
	return unit_done();
}
