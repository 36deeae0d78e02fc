/* The nested page-table builder over fake memory that counts table allocations. */
#include "unit.h"
#include "arch/x86/nested_pt.h"

/* The tables are left allocated at exit on purpose. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

static int tables_allocated, alloc_budget = 1 << 20;


static u64 zeroed_alloc(void)
{
	void *p;

	if (tables_allocated >= alloc_budget)
		return 0;
	p = aligned_alloc(4096, 4096);
	for (int i = 0; i < 512; i++)
		((u64 *)p)[i] = 0;
	tables_allocated++;
	return (u64)(uintptr_t)p;
}

static void reset(int budget)
{
	tables_allocated = 0;
	alloc_budget = budget;
}

TEST(uses_2m_pages_when_aligned)
{
	struct nested_pt pt;
	u64 sz = 0;

	reset(100);
	CHECK_EQ(nested_pt_init(&pt, &pt_format_npt, zeroed_alloc), 0);
	CHECK_EQ(nested_pt_map(&pt, 0, 0x40000000, 16 << 20), 0);
	CHECK_EQ(tables_allocated, 3); /* PML4, PDPT, one PD: no page tables */
	CHECK_EQ(nested_pt_lookup(&pt, 0x123456, &sz), 0x40123456);
	CHECK_EQ(sz, SZ_2M);
	CHECK_EQ(nested_pt_lookup(&pt, 16 << 20, NULL), ~0ULL);
	/* The leaf carries P, RW, US and PS. */
	u64 *pml4 = (u64 *)(uintptr_t)pt.root;
	u64 *pdpt = (u64 *)(uintptr_t)(pml4[0] & PT_ADDR_MASK);
	u64 *pd = (u64 *)(uintptr_t)(pdpt[0] & PT_ADDR_MASK);
	CHECK_EQ(pd[1], 0x40200000 | 0x87);
	CHECK_EQ(pml4[0] & 0xfff, 0x7);
}

TEST(falls_back_to_4k_pages)
{
	struct nested_pt pt;
	u64 sz = 0;

	reset(100);
	CHECK_EQ(nested_pt_init(&pt, &pt_format_npt, zeroed_alloc), 0);
	/* hpa not 2 MiB aligned: 4 KiB pages throughout */
	CHECK_EQ(nested_pt_map(&pt, 0x200000, 0x1001000, 0x201000), 0);
	CHECK_EQ(nested_pt_lookup(&pt, 0x200010, &sz), 0x1001010);
	CHECK_EQ(sz, PAGE_SIZE);
	CHECK_EQ(nested_pt_lookup(&pt, 0x400000, NULL), 0x1201000);
	CHECK_EQ(nested_pt_lookup(&pt, 0x401000, NULL), ~0ULL);
	/* A head that is not 2 MiB aligned, then a 2 MiB page */
	CHECK_EQ(nested_pt_map(&pt, 0x1ff000, 0x3ff000, PAGE_SIZE), 0);
	CHECK_EQ(nested_pt_map(&pt, 0x40000000, 0x80000000, SZ_2M + PAGE_SIZE), 0);
	CHECK_EQ(nested_pt_lookup(&pt, 0x40000000, &sz), 0x80000000);
	CHECK_EQ(sz, SZ_2M);
	CHECK_EQ(nested_pt_lookup(&pt, 0x40200000, &sz), 0x80200000);
	CHECK_EQ(sz, PAGE_SIZE);
}

/* Device memory (a passed-through BAR): 4 KiB uncached leaves even where
 * 2 MiB would fit; all or nothing when part of the range is taken. */
TEST(map_uc)
{
	const struct pt_format *fmts[] = { &pt_format_npt, &pt_format_ept };

	for (unsigned i = 0; i < 2; i++) {
		struct nested_pt pt;
		const u64 *e;
		u64 sz = 0;
		int at;

		reset(100);
		CHECK_EQ(nested_pt_init(&pt, fmts[i], zeroed_alloc), 0);
		CHECK_EQ(nested_pt_map_uc(&pt, 0xd0000000, 0xfe000000, SZ_2M), 0);
		CHECK_EQ(nested_pt_lookup(&pt, 0xd0100010, &sz), 0xfe100010);
		CHECK_EQ(sz, PAGE_SIZE);
		e = pt_walk(pt.root, 0xd0000000, 0, pt.fmt, NULL, &at);
		CHECK(e && (*e & ~PT_ADDR_MASK) == fmts[i]->leaf_uc);
		CHECK(fmts[i]->leaf_uc != fmts[i]->leaf);
		/* Over the end of the first: refused, the first unchanged. */
		CHECK_EQ(nested_pt_map_uc(&pt, 0xd01fc000, 0xfd000000, 0x5000), -EEXIST);
		CHECK_EQ(nested_pt_lookup(&pt, 0xd01fc000, NULL), 0xfe1fc000);
		CHECK_EQ(nested_pt_lookup(&pt, 0xd0200000, NULL), ~0ULL);
		CHECK_EQ(nested_pt_map_uc(&pt, 0xd0200000, 0xfd000000, 0x1000), 0);
		CHECK_EQ(nested_pt_map_uc(&pt, 0xd0000800, 0xfd000000, 0x1000), -EINVAL);
	}
}

TEST(map_uc_rolls_back)
{
	struct nested_pt pt;

	reset(100);
	CHECK_EQ(nested_pt_init(&pt, &pt_format_npt, zeroed_alloc), 0);
	CHECK_EQ(nested_pt_map_uc(&pt, 0xd0003000, 0xfe000000, 0x1000), 0);
	/* The 4th page is taken: the three before it are cleared again. */
	CHECK_EQ(nested_pt_map_uc(&pt, 0xd0000000, 0xfd000000, 0x5000), -EEXIST);
	CHECK_EQ(nested_pt_lookup(&pt, 0xd0000000, NULL), ~0ULL);
	CHECK_EQ(nested_pt_lookup(&pt, 0xd0002000, NULL), ~0ULL);
	CHECK_EQ(nested_pt_lookup(&pt, 0xd0003000, NULL), 0xfe000000);
	CHECK_EQ(nested_pt_lookup(&pt, 0xd0004000, NULL), ~0ULL);
}

TEST(rejects_overlap_misalignment_and_exhaustion)
{
	struct nested_pt pt;

	reset(100);
	CHECK_EQ(nested_pt_init(&pt, &pt_format_npt, zeroed_alloc), 0);
	CHECK_EQ(nested_pt_map(&pt, 0, 0, SZ_2M), 0);
	CHECK_EQ(nested_pt_map(&pt, 0x1000, 0x5000, PAGE_SIZE), -EEXIST); /* inside the 2 MiB page */
	CHECK_EQ(nested_pt_map(&pt, 0x200000, 0x5000, PAGE_SIZE), 0);
	CHECK_EQ(nested_pt_map(&pt, 0x200000, 0x6000, PAGE_SIZE), -EEXIST);
	CHECK_EQ(nested_pt_map(&pt, 0x1234, 0, PAGE_SIZE), -EINVAL);
	CHECK_EQ(nested_pt_map(&pt, 1ULL << 48, 0, PAGE_SIZE), -EINVAL);
	reset(2); /* root already allocated before; two more tables are not enough for a new PDPT+PD+PT */
	CHECK_EQ(nested_pt_map(&pt, 0x8000000000ULL, 0, PAGE_SIZE), -ENOMEM);
	reset(0);
	CHECK_EQ(nested_pt_init(&pt, &pt_format_npt, zeroed_alloc), -ENOMEM);
}

/* The walker itself (arch/x86/pt_walk.c) on corners the nested tables do not
 * build: a 1 GiB leaf on the way, a stop at the PDPT, a missing table. */
TEST(walker_large_leaves_and_stops)
{
	struct nested_pt pt;
	u64 *pml4, *pdpt, *e, sz = 0;
	int at = -1;

	reset(100);
	CHECK_EQ(nested_pt_init(&pt, &pt_format_npt, zeroed_alloc), 0);
	/* No PDPT yet. */
	CHECK(pt_walk(pt.root, 0x40000000, 0, pt.fmt, NULL, &at) == NULL);
	CHECK_EQ(tables_allocated, 1);
	/* Stop at the PDPT (level 2): created on the way, returned not present. */
	e = pt_walk(pt.root, 0x40000000, 2, pt.fmt, zeroed_alloc, &at);
	CHECK(e != NULL);
	CHECK_EQ(at, 2);
	CHECK_EQ(tables_allocated, 2);
	CHECK_EQ(*e, 0);
	pml4 = (u64 *)(uintptr_t)pt.root;
	pdpt = (u64 *)(uintptr_t)(pml4[0] & PT_ADDR_MASK);
	CHECK(e == &pdpt[1]);
	/* A 1 GiB leaf there ends every deeper walk at level 2. */
	*e = 0x80000000 | pt_format_npt.large;
	at = -1;
	CHECK(pt_walk(pt.root, 0x40201000, 0, pt.fmt, zeroed_alloc, &at) == e);
	CHECK_EQ(at, 2);
	CHECK_EQ(tables_allocated, 2); /* nothing created under a leaf */
	CHECK_EQ(nested_pt_lookup(&pt, 0x7fffffff, &sz), 0xbfffffff);
	CHECK_EQ(sz, SZ_1G);
	CHECK_EQ(nested_pt_map(&pt, 0x40200000, 0, SZ_2M), -EEXIST);
	CHECK_EQ(nested_pt_map(&pt, 0x40001000, 0, PAGE_SIZE), -EEXIST);
}

/* EPT entries are present when any of R, W, X is set: an execute-only
 * table entry is walked through (SDM vol. 3, 29.3.2). */
TEST(ept_present_is_any_of_rwx)
{
	struct nested_pt pt;
	u64 *pml4, *pdpt, *pd, sz = 0;

	reset(100);
	CHECK_EQ(nested_pt_init(&pt, &pt_format_ept, zeroed_alloc), 0);
	CHECK_EQ(nested_pt_map(&pt, 0x200000, 0x40000000, SZ_2M), 0);
	CHECK_EQ(nested_pt_map(&pt, 0x400000, 0x50000000, PAGE_SIZE), 0);
	pml4 = (u64 *)(uintptr_t)pt.root;
	pdpt = (u64 *)(uintptr_t)(pml4[0] & PT_ADDR_MASK);
	pd = (u64 *)(uintptr_t)(pdpt[0] & PT_ADDR_MASK);
	CHECK_EQ(pd[1] & 0xff, 0xb7); /* R, W, X, WB, large */
	pml4[0] = (pml4[0] & PT_ADDR_MASK) | BIT(2); /* X only */
	CHECK_EQ(nested_pt_lookup(&pt, 0x212345, &sz), 0x40012345);
	CHECK_EQ(sz, SZ_2M);
	CHECK_EQ(nested_pt_lookup(&pt, 0x400fff, &sz), 0x50000fff);
	CHECK_EQ(sz, PAGE_SIZE);
	pml4[0] &= PT_ADDR_MASK; /* none of R, W, X: not present */
	CHECK_EQ(nested_pt_lookup(&pt, 0x212345, NULL), ~0ULL);
}

int main(void)
{
	RUN(uses_2m_pages_when_aligned);
	RUN(map_uc);
	RUN(map_uc_rolls_back);
	RUN(falls_back_to_4k_pages);
	RUN(rejects_overlap_misalignment_and_exhaustion);
	RUN(walker_large_leaves_and_stops);
	RUN(ept_present_is_any_of_rwx);
	return unit_done();
}
