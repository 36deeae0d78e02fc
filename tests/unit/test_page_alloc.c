/*
 * The page allocator's parts, as the hypervisor runs them: the memory-map
 * digest (mm_ranges), the bitmap allocator (mm_bitmap) and the heap (mm_heap)
 * over pages of real host memory.
 */
#include "unit.h"
#include <string.h>
#include "core/mm_bitmap.h"
#include "core/mm_heap.h"
#include "core/mm_ranges.h"
#include "asm/idmap.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* ---- mm_ranges ---- */

TEST(ranges_merge_and_split)
{
	struct mm_ranges rs;

	mm_ranges_init(&rs);
	mm_ranges_add(&rs, 0x5000, 0x8000);
	mm_ranges_add(&rs, 0x1000, 0x2000);
	mm_ranges_add(&rs, 0x2000, 0x3000); /* touches: merges */
	CHECK_EQ(rs.n, 2);
	CHECK_EQ(rs.r[0].start, 0x1000);
	CHECK_EQ(rs.r[0].end, 0x3000);
	mm_ranges_add(&rs, 0x2800, 0x6000); /* bridges both */
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(rs.r[0].end, 0x8000);

	mm_ranges_remove(&rs, 0x4000, 0x5000); /* middle: split */
	CHECK_EQ(rs.n, 2);
	CHECK_EQ(rs.r[0].end, 0x4000);
	CHECK_EQ(rs.r[1].start, 0x5000);
	mm_ranges_remove(&rs, 0x0, 0x1800);   /* head */
	CHECK_EQ(rs.r[0].start, 0x1800);
	mm_ranges_remove(&rs, 0x3000, 0x6000); /* tail of one, head of the next */
	CHECK_EQ(rs.n, 2);
	CHECK_EQ(rs.r[0].end, 0x3000);
	CHECK_EQ(rs.r[1].start, 0x6000);
	mm_ranges_remove(&rs, 0, ~0ULL);
	CHECK_EQ(rs.n, 0);
}

TEST(ranges_from_overlapping_map)
{
	/* A messy map: duplicates, overlaps, a reserved hole inside usable RAM,
	 * unaligned edges, low memory, and an entry that wraps past 2^64. */
	const struct mem_range map[] = {
		{ 0, 0x9fc00, MEM_USABLE },
		{ 0x9fc00, 0x400, 2 },
		{ 0x100000, 0x3ff00000, MEM_USABLE },       /* 1 MiB .. 1 GiB */
		{ 0x200000, 0x100000, MEM_USABLE },         /* duplicate inside */
		{ 0x3fff0000, 0x20000, 2 },                 /* reserved overlapping the top */
		{ 0x800800, 0x1000, 4 },                    /* unaligned reserved inside */
		{ 0x40000000, 0x100, MEM_USABLE },          /* less than a page */
		{ 0x100000000ULL, 0x40000123, MEM_USABLE }, /* 4 GiB .. 5 GiB + unaligned */
		{ 0xfffffffffffff000ULL, 0x2000, 2 },       /* wraps */
	};
	struct mm_ranges rs;

	mm_ranges_from_map(&rs, map, ARRAY_SIZE(map), MiB);
	CHECK(!rs.overflow);
	CHECK_EQ(rs.n, 3);
	CHECK_EQ(rs.r[0].start, MiB);
	CHECK_EQ(rs.r[0].end, 0x800000);         /* reserved page rounded outward */
	CHECK_EQ(rs.r[1].start, 0x802000);
	CHECK_EQ(rs.r[1].end, 0x3fff0000);
	CHECK_EQ(rs.r[2].start, 4 * GiB);
	CHECK_EQ(rs.r[2].end, 5 * GiB);          /* unaligned end rounded down */
}

TEST(ranges_overflow_loses_memory_not_safety)
{
	struct mm_ranges rs;

	mm_ranges_init(&rs);
	mm_ranges_add(&rs, 0, 2 * MM_MAX_RANGES * PAGE_SIZE + PAGE_SIZE);
	/* Punch holes until there is no room for another split. */
	for (unsigned i = 0; i < MM_MAX_RANGES + 8; i++)
		mm_ranges_remove(&rs, (2 * i + 1) * PAGE_SIZE, (2 * i + 2) * PAGE_SIZE);
	CHECK(rs.overflow);
	CHECK_EQ(rs.n, MM_MAX_RANGES);
	/* No range may cover a hole that was punched. */
	for (unsigned i = 0; i < rs.n; i++)
		for (unsigned h = 0; h < MM_MAX_RANGES + 8; h++) {
			u64 hs = (2 * h + 1) * PAGE_SIZE;

			CHECK(!(rs.r[i].start <= hs && hs < rs.r[i].end));
		}
}

TEST(ranges_carve)
{
	struct mm_ranges rs;

	mm_ranges_init(&rs);
	mm_ranges_add(&rs, 0x1000, 0x3000);
	mm_ranges_add(&rs, 0x201000, 0x800000);
	CHECK_EQ(mm_ranges_carve(&rs, 0x3000, PAGE_SIZE, ~0ULL), 0x201000);
	CHECK_EQ(mm_ranges_carve(&rs, 0x1000, SZ_2M, ~0ULL), 0x400000);
	CHECK_EQ(mm_ranges_carve(&rs, 0x1000, PAGE_SIZE, 0x2000), 0x1000);
	CHECK_EQ(mm_ranges_carve(&rs, 0x1000, PAGE_SIZE, 0x2000), 0); /* limit */
	CHECK_EQ(mm_ranges_carve(&rs, 0x10000000, PAGE_SIZE, ~0ULL), 0); /* too big */
	CHECK_EQ(mm_ranges_total(&rs), 0x2000 + 0x5ff000 - 0x5000);
}

/* ---- mm_bitmap ---- */

static u64 bits[PAGE_BITMAP_WORDS(8192)];

TEST(bitmap_alloc_free_and_alignment)
{
	struct page_bitmap pb;
	const u64 base = 0x100000; /* 1 MiB: not 2 MiB aligned, like real RAM */
	u64 a, b, c;

	page_bitmap_init(&pb, base, 8192, bits);
	CHECK_EQ(page_bitmap_alloc(&pb, 1, PAGE_SIZE), 0); /* nothing free yet */
	CHECK_EQ(page_bitmap_free(&pb, base, 8192), 0);
	CHECK_EQ(pb.nfree, 8192);

	a = page_bitmap_alloc(&pb, 1, PAGE_SIZE);
	CHECK_EQ(a, base);
	b = page_bitmap_alloc(&pb, 512, SZ_2M);
	CHECK_EQ(b, 0x200000);
	CHECK_EQ(b % SZ_2M, 0);
	c = page_bitmap_alloc(&pb, 3, PAGE_SIZE);
	CHECK_EQ(c, base + PAGE_SIZE); /* the gap below the aligned block is used */
	CHECK_EQ(pb.nfree, 8192 - 516);

	/* 64 KiB alignment crossing word boundaries. */
	u64 d = page_bitmap_alloc(&pb, 70, 0x10000);
	CHECK(d != 0);
	CHECK_EQ(d % 0x10000, 0);
	CHECK(d >= base + 4 * PAGE_SIZE);
	CHECK(d + 70 * PAGE_SIZE <= b || d >= b + SZ_2M);

	CHECK_EQ(page_bitmap_free(&pb, b, 512), 0);
	CHECK_EQ(page_bitmap_alloc(&pb, 512, SZ_2M), b); /* reused */
	CHECK_EQ(page_bitmap_free(&pb, a, 1), 0);
	CHECK_EQ(page_bitmap_alloc(&pb, 1, PAGE_SIZE), a); /* the hint went back down */
}

TEST(bitmap_bad_free_and_double_free)
{
	struct page_bitmap pb;

	page_bitmap_init(&pb, 0x100000, 100, bits);
	CHECK_EQ(page_bitmap_free(&pb, 0x100000, 100), 0);
	CHECK_EQ(page_bitmap_free(&pb, 0x100000, 2), 2);           /* double free counted */
	CHECK_EQ(pb.nfree, 100);
	CHECK_EQ(page_bitmap_free(&pb, 0x100800, 1), -EINVAL);    /* unaligned */
	CHECK_EQ(page_bitmap_free(&pb, 0xff000, 1), -EINVAL);     /* below */
	CHECK_EQ(page_bitmap_free(&pb, 0x100000 + 99 * PAGE_SIZE, 2), -EINVAL); /* past the end */
	CHECK_EQ(page_bitmap_free(&pb, 0x100000, ~0ULL), -EINVAL); /* huge count */
	CHECK_EQ(pb.nfree, 100);
}

TEST(bitmap_out_of_memory_and_fragmentation)
{
	struct page_bitmap pb;
	u64 got[64];

	page_bitmap_init(&pb, 0, 128, bits);
	page_bitmap_free(&pb, PAGE_SIZE, 127); /* page 0 stays allocated */
	CHECK_EQ(page_bitmap_alloc(&pb, 128, PAGE_SIZE), 0);
	CHECK_EQ(page_bitmap_alloc(&pb, 0, PAGE_SIZE), 0);
	CHECK_EQ(page_bitmap_alloc(&pb, 1, 3 * PAGE_SIZE), 0); /* not a power of two */
	CHECK_EQ(page_bitmap_alloc(&pb, 1, 512), 0);          /* below a page */
	/* Checkerboard: 63 free pages, but never two in a row. */
	for (int i = 0; i < 63; i++) {
		got[i] = page_bitmap_alloc(&pb, 2, PAGE_SIZE);
		CHECK(got[i] != 0);
	}
	CHECK_EQ(pb.nfree, 1);
	for (int i = 0; i < 63; i++)
		page_bitmap_free(&pb, got[i], 1);
	CHECK_EQ(pb.nfree, 64);
	CHECK_EQ(page_bitmap_alloc(&pb, 2, PAGE_SIZE), 0);
	CHECK(page_bitmap_alloc(&pb, 1, PAGE_SIZE) != 0);
	/* An aligned request must not be satisfied by the unaligned run at the end. */
	CHECK_EQ(page_bitmap_alloc(&pb, 1, 128 * PAGE_SIZE), 0);
}

/* ---- mm_heap, over a page_bitmap of real host memory ---- */

#define ARENA_PAGES 256
static struct page_bitmap arena_pb;
static u64 arena_bits[PAGE_BITMAP_WORDS(ARENA_PAGES)];
static u8 *arena;

static void *get_pages(void *ctx, u64 n)
{
	return (void *)(uintptr_t)page_bitmap_alloc(&arena_pb, n, PAGE_SIZE);
}

static void put_pages(void *ctx, void *p, u64 n)
{
	CHECK_EQ(page_bitmap_free(&arena_pb, (u64)(uintptr_t)p, n), 0);
}

static void arena_setup(struct heap *h)
{
	if (!arena)
		arena = aligned_alloc(PAGE_SIZE, ARENA_PAGES * PAGE_SIZE);
	page_bitmap_init(&arena_pb, (u64)(uintptr_t)arena, ARENA_PAGES, arena_bits);
	page_bitmap_free(&arena_pb, (u64)(uintptr_t)arena, ARENA_PAGES);
	memset(h, 0, sizeof(*h));
	h->get_pages = get_pages;
	h->put_pages = put_pages;
}

TEST(heap_sizes_alignment_and_reuse)
{
	struct heap h;
	void *p[40];
	size_t sizes[] = { 0, 1, 15, 16, 17, 100, 2032, 2033, 4080, 4081, 70000 };

	arena_setup(&h);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = heap_alloc(&h, sizes[i]);
		CHECK(p[i] != NULL);
		CHECK_EQ((uintptr_t)p[i] % 16, 0);
		CHECK(heap_block_size(p[i]) >= sizes[i]);
		memset(p[i], 0xa5, sizes[i]); /* ASan catches an overrun */
	}
	CHECK_EQ(heap_block_size(p[6]), 2032);         /* the largest small class */
	CHECK_EQ(heap_block_size(p[8]), PAGE_SIZE - 16); /* 4080 fits one page */
	CHECK_EQ(heap_block_size(p[9]), 2 * PAGE_SIZE - 16);
	CHECK_EQ(h.live_blocks, ARRAY_SIZE(sizes));
	/* Distinct, non-overlapping blocks. */
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++)
		for (unsigned j = i + 1; j < ARRAY_SIZE(sizes); j++) {
			uintptr_t a = (uintptr_t)p[i], b = (uintptr_t)p[j];

			CHECK(a + heap_block_size(p[i]) <= b || b + heap_block_size(p[j]) <= a);
		}

	u64 free_before = arena_pb.nfree;
	CHECK_EQ(heap_free(&h, p[10]), 0); /* large: pages go back */
	CHECK_EQ(arena_pb.nfree, free_before + 18);
	CHECK_EQ(heap_free(&h, p[5]), 0);
	CHECK_EQ(heap_alloc(&h, 100), p[5]); /* a small block is reused, same class */
	for (unsigned i = 0; i < 10; i++)
		CHECK_EQ(heap_free(&h, p[i]), 0);
	CHECK_EQ(h.live_blocks, 0);
	CHECK_EQ(heap_free(&h, NULL), 0);
}

TEST(heap_rejects_bad_and_double_free)
{
	struct heap h;
	u8 *small, *big;

	arena_setup(&h);
	small = heap_alloc(&h, 40);
	big = heap_alloc(&h, 3 * PAGE_SIZE);
	CHECK_EQ(heap_free(&h, small), 0);
	CHECK_EQ(heap_free(&h, small), -EINVAL); /* twice */
	CHECK_EQ(heap_free(&h, big + 16), -EINVAL); /* inside a block */
	CHECK_EQ(heap_free(&h, big + 8), -EINVAL);  /* misaligned */
	CHECK_EQ(h.live_blocks, 1);
	CHECK_EQ(heap_free(&h, big), 0);
	CHECK_EQ(h.live_blocks, 0);
}

TEST(heap_out_of_memory)
{
	struct heap h;
	unsigned n = 0;

	arena_setup(&h);
	CHECK(heap_alloc(&h, ARENA_PAGES * PAGE_SIZE) == NULL); /* one header too many */
	CHECK(heap_alloc(&h, ~(size_t)0) == NULL);               /* no overflow */
	while (heap_alloc(&h, 1000))
		n++;
	CHECK_EQ(n, ARENA_PAGES * 4); /* four 1 KiB blocks a page, then NULL */
	CHECK_EQ(arena_pb.nfree, 0);
	CHECK(heap_alloc(&h, 5000) == NULL);
}

/* ---- the identity map beyond 4 GiB (arch/x86/idmap_pt.c) ---- */

static void *tables[16];
static unsigned nr_tables, table_budget;

static u64 alloc_table(void)
{
	if (nr_tables == table_budget)
		return 0;
	tables[nr_tables] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	memset(tables[nr_tables], 0, PAGE_SIZE);
	return (u64)(uintptr_t)tables[nr_tables++];
}

static u64 *table_at(u64 entry)
{
	CHECK(entry & 1);
	return (u64 *)(uintptr_t)(entry & 0x000ffffffffff000ULL);
}

TEST(idmap_maps_2m_pages_and_reports_oom)
{
	u64 *pml4 = aligned_alloc(PAGE_SIZE, PAGE_SIZE), done = 0;

	memset(pml4, 0, PAGE_SIZE);
	nr_tables = 0;
	table_budget = 16;
	/* 4 GiB .. 5 GiB + 2 MiB, and across the 512 GiB boundary of one PML4 entry. */
	CHECK_EQ(idmap_map_2m(pml4, 4 * GiB, 5 * GiB + 1, alloc_table, &done), 0);
	CHECK_EQ(done, 5 * GiB + SZ_2M);
	CHECK_EQ(nr_tables, 3); /* a PDPT, two PDs */
	u64 *pdpt = table_at(pml4[0]);
	u64 *pd4 = table_at(pdpt[4]);
	CHECK_EQ(pd4[0], 4 * GiB | 0x83);
	CHECK_EQ(pd4[511], (4 * GiB + 511 * SZ_2M) | 0x83);
	CHECK_EQ(table_at(pdpt[5])[0], 5 * GiB | 0x83);
	CHECK_EQ(table_at(pdpt[5])[1], 0);
	CHECK_EQ(pdpt[6], 0);
	/* Mapping again changes nothing and allocates nothing. */
	CHECK_EQ(idmap_map_2m(pml4, 4 * GiB, 5 * GiB, alloc_table, &done), 0);
	CHECK_EQ(nr_tables, 3);

	table_budget = 4; /* one more table: the PD under pdpt[511], then no PDPT for 512 GiB+ */
	CHECK_EQ(idmap_map_2m(pml4, 512 * GiB - SZ_2M, 512 * GiB + SZ_2M, alloc_table, &done),
		 -ENOMEM);
	CHECK_EQ(done, 512 * GiB);
	CHECK_EQ(table_at(pdpt[511])[511], (512 * GiB - SZ_2M) | 0x83);
	/* Uncached: PCD|PWT on the 2 MiB pages covering the range, nothing else. */
	CHECK_EQ(idmap_set_uncached_in(pml4, 4 * GiB + SZ_2M - 4, 8), 0);
	CHECK_EQ(pd4[0], 4 * GiB | 0x9b);
	CHECK_EQ(pd4[1], (4 * GiB + SZ_2M) | 0x9b);
	CHECK_EQ(pd4[2], (4 * GiB + 2 * SZ_2M) | 0x83);
	CHECK_EQ(idmap_set_uncached_in(pml4, 6 * GiB, 4096), -EINVAL); /* not mapped */
	CHECK_EQ(idmap_set_uncached_in(pml4, ~0ULL - 10, 100), -EINVAL); /* wraps */
	for (unsigned i = 0; i < nr_tables; i++)
		free(tables[i]);
	free(pml4);
}

int main(void)
{
	RUN(ranges_merge_and_split);
	RUN(ranges_from_overlapping_map);
	RUN(ranges_overflow_loses_memory_not_safety);
	RUN(ranges_carve);
	RUN(bitmap_alloc_free_and_alignment);
	RUN(bitmap_bad_free_and_double_free);
	RUN(bitmap_out_of_memory_and_fragmentation);
	RUN(heap_sizes_alignment_and_reuse);
	RUN(heap_rejects_bad_and_double_free);
	RUN(heap_out_of_memory);
	RUN(idmap_maps_2m_pages_and_reports_oom);
	free(arena);
	return unit_done();
}
