/* The disk self-test (core/disktest.h). */
#include "core/disktest.h"
#include "drivers/iommu.h"
#include "core/blk_sync.h"
#include "hv/blockdev.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "asm/cpu.h"
#include "lib/string.h"

#define TEST_BYTES (1024 * 1024)
#define ARENA_PAGES 1024 /* 4 MiB: the worst shape uses a page per 1 KiB */
#define NR_SHAPES 4
#define TIMEOUT_MS 60000

static u32 seed;
static u8 *arena;
static u64 arena_used;

static u8 pattern(u64 off)
{
	u32 v = (u32)((off >> 2) * 2654435761u) ^ seed;

	return (u8)(v >> (8 * (off & 3)));
}

static u8 *arena_get(u64 bytes, u64 offset_in_page)
{
	u8 *p = arena + arena_used + offset_in_page;

	arena_used += ALIGN_UP(bytes + offset_in_page, PAGE_SIZE);
	return arena_used <= ARENA_PAGES * PAGE_SIZE ? p : NULL;
}

/*
 * Segments for len bytes in one of four shapes: one page-aligned buffer;
 * two halves apart; 64 pieces each at the start of its own page (pieces
 * ending inside a page: PRPs cannot chain them, the driver bounces); one
 * buffer starting 1 KiB into a page (PRP1 with an offset).
 */
static bool shape(struct blk_req *r, unsigned kind, u32 len)
{
	unsigned n = kind == 0 ? 1 : kind == 1 ? 2 : kind == 2 ? 64 : 1;

	r->nr_segs = (u16)n;
	for (unsigned i = 0; i < n; i++) {
		r->seg[i].len = len / n;
		r->seg[i].buf = arena_get(len / n, kind == 3 ? 1024 : 0);
		if (!r->seg[i].buf)
			return false;
	}
	return true;
}

static void fill(struct blk_req *r, u64 off)
{
	for (unsigned i = 0; i < r->nr_segs; i++)
		for (u32 b = 0; b < r->seg[i].len; b++)
			((u8 *)r->seg[i].buf)[b] = pattern(off++);
}

/* The first byte offset that differs, or ~0. */
static u64 compare(const struct blk_req *r, u64 off)
{
	for (unsigned i = 0; i < r->nr_segs; i++)
		for (u32 b = 0; b < r->seg[i].len; b++, off++)
			if (((const u8 *)r->seg[i].buf)[b] != pattern(off))
				return off;
	return ~0ULL;
}

/* n requests of len bytes covering [0, n * len), shapes from first_shape on. */
static int run(struct blockdev *bd, struct blk_req **reqs, unsigned n, u32 len,
	       enum blk_op op, unsigned first_shape, u64 *bad)
{
	int ret;

	arena_used = 0;
	for (unsigned i = 0; i < n; i++) {
		struct blk_req *r = reqs[i];

		memset(r, 0, sizeof(*r));
		r->op = op;
		r->sector = (u64)i * len / BLK_SECTOR;
		r->nr_sectors = len / BLK_SECTOR;
		if (!shape(r, (first_shape + i) % NR_SHAPES, len))
			return -ENOMEM;
		if (op == BLK_WRITE)
			fill(r, (u64)i * len);
		else
			for (unsigned s = 0; s < r->nr_segs; s++)
				memset(r->seg[s].buf, 0, r->seg[s].len);
	}
	ret = blk_wait_all(bd, reqs, n, TIMEOUT_MS);
	if (ret || op != BLK_READ)
		return ret;
	for (unsigned i = 0; i < n && *bad == ~0ULL; i++)
		*bad = compare(reqs[i], (u64)i * len);
	return 0;
}

void disktest_run(const char *name)
{
	static struct blk_req *reqs[16];
	struct blockdev *bd = blockdev_find(name);
	struct blk_req flush = { .op = BLK_FLUSH }, *fp = &flush, outside = { .op = BLK_READ };
	u64 bad = ~0ULL;
	int ret;

	if (!bd || bd->nr_sectors * BLK_SECTOR < TEST_BYTES || bd->read_only) {
		kprintf("disktest: %s: FAIL: %s\n", name,
			!bd ? "no such blockdev" : bd->read_only ? "read-only" : "smaller than 1 MiB");
		return;
	}
	arena = (u8 *)(uintptr_t)page_alloc(ARENA_PAGES, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(reqs); i++)
		if (!reqs[i])
			reqs[i] = kzalloc(sizeof(*reqs[i]));
	if (!arena || !reqs[ARRAY_SIZE(reqs) - 1]) {
		kprintf("disktest: %s: FAIL: out of memory\n", name);
		return;
	}
	/* The disk's DMA lands here (drivers/iommu.h). */
	iommu_grant_host((u64)(uintptr_t)arena, ARENA_PAGES * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
	seed = (u32)rdtsc(); /* a pattern no earlier run left on the disk */
	/* 16 x 64 KiB writes in flight together, then a flush, then 8 x 128
	 * KiB reads (each two commands) in other shapes. */
	ret = run(bd, reqs, 16, TEST_BYTES / 16, BLK_WRITE, 0, &bad);
	if (!ret)
		ret = blk_wait_all(bd, &fp, 1, TIMEOUT_MS);
	if (!ret)
		ret = run(bd, reqs, 8, TEST_BYTES / 8, BLK_READ, 1, &bad);
	/* And one past the end, which must never reach the driver. */
	outside.sector = bd->nr_sectors;
	outside.nr_sectors = 1;
	outside.nr_segs = 1;
	outside.seg[0] = (struct blk_seg){ arena, BLK_SECTOR };
	if (ret)
		kprintf("disktest: %s: FAIL: I/O error %d\n", name, ret);
	else if (bad != ~0ULL)
		kprintf("disktest: %s: FAIL: byte %lu read back differs\n", name, bad);
	else if (blockdev_submit(bd, &outside) != -EINVAL)
		kprintf("disktest: %s: FAIL: a read past the end was not refused\n", name);
	else
		kprintf("disktest: %s: PASS: wrote 1024 KiB (16 requests in flight), flushed, read "
			"it back (8 requests) and compared; a read past the end refused\n", name);
	if (ret != -ETIMEDOUT) {
		iommu_revoke_host((u64)(uintptr_t)arena, ARENA_PAGES * PAGE_SIZE);
		page_free((u64)(uintptr_t)arena, ARENA_PAGES);
	}
}
