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

int main(void)
{
	RUN(uses_2m_pages_when_aligned);
	RUN(falls_back_to_4k_pages);
	RUN(rejects_overlap_misalignment_and_exhaustion);
	return unit_done();
}
