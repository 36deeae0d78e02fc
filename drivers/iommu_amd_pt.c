/*
 * AMD-Vi I/O page tables, host translation (48882, 2.2.3): four levels
 * (DTE Mode 4, a 48-bit I/O virtual address), 4 KiB leaves. A directory
 * entry (2.2.3, Figure 15 "I/O Page Table Entry Format", Next Level 1-6)
 * names the table below; a leaf (Next Level 0) the page. Permissions are
 * ANDed over every level and the DTE (2.2.3.2), so directory entries grant
 * both and the leaves say what is allowed. Host-testable
 * (tests/unit/test_iommu_amd.c).
 */
#include "drivers/iommu_amd.h"

#define PT_ENTRIES 512
#define IOVA_BITS 48

static unsigned idx(u64 iova, unsigned level)
{
	return (unsigned)(iova >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static u64 perm_bits(unsigned perm)
{
	return (perm & IOMMU_READ ? AMD_PTE_IR : 0) | (perm & IOMMU_WRITE ? AMD_PTE_IW : 0);
}

/* A table with nothing mapped: every entry AMD_PTE_ABSENT. */
static u64 table_new(const struct amd_pt *pt)
{
	u64 pa = pt->mem->alloc(pt->mem->ctx);

	if (pa) {
		u64 *t = pt->mem->to_ptr(pt->mem->ctx, pa);

		for (unsigned i = 0; i < PT_ENTRIES; i++)
			t[i] = AMD_PTE_ABSENT;
	}
	return pa;
}

int amd_pt_init(struct amd_pt *pt, const struct amd_pt_mem *mem)
{
	pt->mem = mem;
	pt->root = table_new(pt);
	return pt->root ? 0 : -ENOMEM;
}

/* The level-1 table for iova, made on the way when make; NULL if absent. */
static u64 *leaf_table(const struct amd_pt *pt, u64 iova, bool make)
{
	u64 table = pt->root;

	for (unsigned level = AMD_PT_LEVELS; level > 1; level--) {
		u64 *e = &pt->mem->to_ptr(pt->mem->ctx, table)[idx(iova, level)];

		if (!(*e & AMD_PTE_PR)) {
			u64 next;

			if (!make || !(next = table_new(pt)))
				return NULL;
			*e = next | (u64)(level - 1) << AMD_PTE_NEXT_SHIFT | AMD_PTE_IR | AMD_PTE_IW |
			     AMD_PTE_PR;
		}
		table = *e & AMD_PTE_ADDR_MASK;
	}
	return pt->mem->to_ptr(pt->mem->ctx, table);
}

static bool range_ok(u64 iova, u64 size)
{
	return size && IS_ALIGNED(iova, PAGE_SIZE) && IS_ALIGNED(size, PAGE_SIZE) &&
	       iova + size > iova && iova + size <= 1ull << IOVA_BITS;
}

int amd_pt_map(struct amd_pt *pt, u64 iova, u64 pa, u64 size, unsigned perm)
{
	if (!range_ok(iova, size) || !IS_ALIGNED(pa, PAGE_SIZE) || pa + size < pa ||
	    (pa + size - 1) & ~AMD_PTE_ADDR_MASK & ~(PAGE_SIZE - 1) || !perm ||
	    perm & ~(IOMMU_READ | IOMMU_WRITE))
		return -EINVAL;
	for (u64 off = 0; off < size; off += PAGE_SIZE) {
		u64 *t = leaf_table(pt, iova + off, true);

		if (!t)
			return -ENOMEM;
		t[idx(iova + off, 1)] = (pa + off) | perm_bits(perm) | AMD_PTE_PR;
	}
	return 0;
}

void amd_pt_unmap(struct amd_pt *pt, u64 iova, u64 size)
{
	if (!range_ok(iova, size))
		return;
	for (u64 off = 0; off < size; off += PAGE_SIZE) {
		u64 *t = leaf_table(pt, iova + off, false);

		if (t)
			t[idx(iova + off, 1)] = AMD_PTE_ABSENT;
	}
}

int amd_pt_lookup(const struct amd_pt *pt, u64 iova, u64 *pa, unsigned *perm)
{
	u64 *t, e;

	if (!range_ok(ALIGN_DOWN(iova, PAGE_SIZE), PAGE_SIZE))
		return 0;
	t = leaf_table(pt, iova, false);
	e = t ? t[idx(iova, 1)] : 0;
	if (!(e & AMD_PTE_PR))
		return 0;
	*pa = (e & AMD_PTE_ADDR_MASK) | (iova & (PAGE_SIZE - 1));
	*perm = (e & AMD_PTE_IR ? IOMMU_READ : 0) | (e & AMD_PTE_IW ? IOMMU_WRITE : 0);
	return 1;
}

static void free_level(const struct amd_pt *pt, u64 table, unsigned level)
{
	u64 *t = pt->mem->to_ptr(pt->mem->ctx, table);

	if (level > 1)
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			if (t[i] & AMD_PTE_PR)
				free_level(pt, t[i] & AMD_PTE_ADDR_MASK, level - 1);
	pt->mem->free(pt->mem->ctx, table);
}

void amd_pt_destroy(struct amd_pt *pt)
{
	if (pt->root)
		free_level(pt, pt->root, AMD_PT_LEVELS);
	pt->root = 0;
}
