/* VT-d second-level page tables (drivers/iommu_vtd_pt.c) over host memory. */
#include <string.h>
#include "unit.h"
#include "drivers/iommu.h"
#include "drivers/iommu_vtd_pt.h"

static int live_tables, alloc_budget;
static u64 flushed_bytes;

static u64 alloc(void)
{
	void *p;

	if (alloc_budget-- <= 0)
		return 0;
	p = aligned_alloc(4096, 4096);
	memset(p, 0, 4096);
	live_tables++;
	return (u64)(uintptr_t)p;
}

static void release(u64 pa)
{
	free((void *)(uintptr_t)pa);
	live_tables--;
}

static void flush(const void *p, u64 len) { flushed_bytes += len; }

static void fresh(struct vtd_pt *pt, unsigned levels, bool coherent)
{
	live_tables = 0;
	alloc_budget = 1 << 20;
	flushed_bytes = 0;
	CHECK_EQ(vtd_pt_init(pt, levels, 1ULL << 46, alloc, release, coherent ? NULL : flush), 0);
}

TEST(map_lookup_unmap)
{
	struct vtd_pt pt;
	unsigned perm = 0;

	fresh(&pt, 4, true);
	CHECK_EQ(vtd_pt_map(&pt, 0x100000, 0x7000000, 0x3000, IOMMU_READ | IOMMU_WRITE), 0);
	CHECK_EQ(live_tables, 4); /* root, and one table at each lower level */
	CHECK_EQ(vtd_pt_lookup(&pt, 0x101234, &perm), 0x7001234);
	CHECK_EQ(perm, IOMMU_READ | IOMMU_WRITE);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x103000, NULL), (u64)-1);
	CHECK_EQ(vtd_pt_lookup(&pt, 0xff000, NULL), (u64)-1);
	CHECK_EQ(vtd_pt_unmap(&pt, 0x101000, 0x1000), 0);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x101000, NULL), (u64)-1);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x102000, NULL), 0x7002000);
	/* Unmapping what was never mapped is no error. */
	CHECK_EQ(vtd_pt_unmap(&pt, 0x40000000, 0x1000), 0);
	vtd_pt_destroy(&pt);
	CHECK_EQ(live_tables, 0);
}

TEST(entry_layout)
{
	struct vtd_pt pt;

	fresh(&pt, 3, true);
	CHECK_EQ(vtd_pt_map(&pt, 0x40201000, 0x5000, 0x1000, IOMMU_WRITE), 0);
	/* 3 levels: bits 38:30, 29:21, 20:12. */
	u64 *l3 = (u64 *)(uintptr_t)pt.root;
	CHECK_EQ(l3[1] & 0xfff, VTD_SL_R | VTD_SL_W);
	u64 *l2 = (u64 *)(uintptr_t)(l3[1] & VTD_SL_ADDR);
	CHECK_EQ(l2[1] & 0xfff, VTD_SL_R | VTD_SL_W);
	u64 *l1 = (u64 *)(uintptr_t)(l2[1] & VTD_SL_ADDR);
	CHECK_EQ(l1[1], 0x5000 | VTD_SL_W);
	vtd_pt_destroy(&pt);
	CHECK_EQ(live_tables, 0);
}

TEST(permissions)
{
	struct vtd_pt pt;
	unsigned perm = 0;

	fresh(&pt, 4, true);
	CHECK_EQ(vtd_pt_map(&pt, 0, 0x10000, 0x1000, IOMMU_READ), 0);
	CHECK_EQ(vtd_pt_lookup(&pt, 0, &perm), 0x10000);
	CHECK_EQ(perm, IOMMU_READ);
	CHECK_EQ(vtd_pt_map(&pt, 0x1000, 0x11000, 0x1000, IOMMU_WRITE), 0);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x1000, &perm), 0x11000);
	CHECK_EQ(perm, IOMMU_WRITE);
	/* No permission at all, or an unknown bit: refused. */
	CHECK_EQ(vtd_pt_map(&pt, 0x2000, 0x12000, 0x1000, 0), -EINVAL);
	CHECK_EQ(vtd_pt_map(&pt, 0x2000, 0x12000, 0x1000, 4), -EINVAL);
	/* The same mapping again is fine; another one over it is not. */
	CHECK_EQ(vtd_pt_map(&pt, 0, 0x10000, 0x1000, IOMMU_READ), 0);
	CHECK_EQ(vtd_pt_map(&pt, 0, 0x10000, 0x1000, IOMMU_READ | IOMMU_WRITE), -EEXIST);
	CHECK_EQ(vtd_pt_map(&pt, 0, 0x20000, 0x1000, IOMMU_READ), -EEXIST);
	/* A refused range changes nothing, even its pages that were free. */
	CHECK_EQ(vtd_pt_map(&pt, 0x3000, 0x30000, 0x1000, IOMMU_READ), 0);
	CHECK_EQ(vtd_pt_map(&pt, 0x2000, 0x40000, 0x2000, IOMMU_READ), -EEXIST);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x2000, NULL), (u64)-1);
	vtd_pt_destroy(&pt);
}

TEST(refuses_unaligned_and_out_of_range)
{
	struct vtd_pt pt;

	fresh(&pt, 3, true);
	CHECK_EQ(vtd_pt_map(&pt, 0x1001, 0x2000, 0x1000, IOMMU_READ), -EINVAL);
	CHECK_EQ(vtd_pt_map(&pt, 0x1000, 0x2001, 0x1000, IOMMU_READ), -EINVAL);
	CHECK_EQ(vtd_pt_map(&pt, 0x1000, 0x2000, 0x800, IOMMU_READ), -EINVAL);
	CHECK_EQ(vtd_pt_map(&pt, 0x1000, 0x2000, 0, IOMMU_READ), -EINVAL);
	CHECK_EQ(vtd_pt_unmap(&pt, 0x1800, 0x1000), -EINVAL);
	/* 3 levels reach 2^39; the output stops at pa_limit (2^46 here). */
	CHECK_EQ(vtd_pt_iova_limit(&pt), 1ULL << 39);
	CHECK_EQ(vtd_pt_map(&pt, (1ULL << 39) - 0x1000, 0, 0x1000, IOMMU_READ), 0);
	CHECK_EQ(vtd_pt_map(&pt, 1ULL << 39, 0, 0x1000, IOMMU_READ), -EINVAL);
	CHECK_EQ(vtd_pt_map(&pt, (1ULL << 39) - 0x1000, 0x1000, 0x2000, IOMMU_READ), -EINVAL);
	CHECK_EQ(vtd_pt_map(&pt, 0, 1ULL << 46, 0x1000, IOMMU_READ), -EINVAL);
	CHECK_EQ(vtd_pt_map(&pt, 0, (u64)-4096, 0x2000, IOMMU_READ), -EINVAL);
	CHECK_EQ(vtd_pt_lookup(&pt, 1ULL << 40, NULL), (u64)-1);
	vtd_pt_destroy(&pt);
	CHECK_EQ(live_tables, 0);
	CHECK_EQ(vtd_pt_init(&pt, 5, 1ULL << 46, alloc, release, NULL), -EINVAL);
}

TEST(out_of_memory_changes_no_leaf)
{
	struct vtd_pt pt;

	fresh(&pt, 4, true);
	alloc_budget = 3; /* enough for the first 2 MiB, not for a second page table */
	CHECK_EQ(vtd_pt_map(&pt, 0x1ff000, 0x1000, 0x2000, IOMMU_READ), -ENOMEM);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x1ff000, NULL), (u64)-1);
	alloc_budget = 10;
	CHECK_EQ(vtd_pt_map(&pt, 0x1ff000, 0x1000, 0x2000, IOMMU_READ), 0);
	CHECK_EQ(vtd_pt_lookup(&pt, 0x200000, NULL), 0x2000);
	vtd_pt_destroy(&pt);
	CHECK_EQ(live_tables, 0);
}

TEST(non_coherent_flushes_what_it_writes)
{
	struct vtd_pt pt;

	fresh(&pt, 4, false);
	CHECK_EQ(flushed_bytes, 4096); /* the root */
	CHECK_EQ(vtd_pt_map(&pt, 0, 0x10000, 0x2000, IOMMU_READ), 0);
	/* Three new tables and their three entries, then two leaves. */
	CHECK_EQ(flushed_bytes, 4096 + 3 * (4096 + 8) + 2 * 8);
	flushed_bytes = 0;
	CHECK_EQ(vtd_pt_unmap(&pt, 0, 0x2000), 0);
	CHECK_EQ(flushed_bytes, 16);
	vtd_pt_destroy(&pt);
}

TEST(large_identity_map)
{
	struct vtd_pt pt;

	fresh(&pt, 3, true);
	CHECK_EQ(vtd_pt_map(&pt, 0, 0, 64ULL << 20, IOMMU_READ | IOMMU_WRITE), 0);
	CHECK_EQ(live_tables, 1 + 1 + 32);
	for (u64 a = 0; a < (64ULL << 20); a += 0x123000)
		CHECK_EQ(vtd_pt_lookup(&pt, a, NULL), a);
	vtd_pt_destroy(&pt);
	CHECK_EQ(live_tables, 0);
}

int main(void)
{
	RUN(map_lookup_unmap);
	RUN(entry_layout);
	RUN(permissions);
	RUN(refuses_unaligned_and_out_of_range);
	RUN(out_of_memory_changes_no_leaf);
	RUN(non_coherent_flushes_what_it_writes);
	RUN(large_identity_map);
	return unit_done();
}
