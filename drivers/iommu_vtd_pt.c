/*
 * Second-level page tables (VT-d spec 3.7, 9.8). Every table is 512 8-byte
 * entries; the iova bits 47:39, 38:30, 29:21, 20:12 index levels 4 to 1
 * (3.7.1). A non-leaf entry carries R and W too: the hardware ANDs the
 * permissions of every level it walks (3.7.2), so tables get both and the
 * leaf says what the device may do.
 */
#include "drivers/iommu_vtd_pt.h"
#include "drivers/iommu.h"

#define ENTRIES 512

static u64 *table(u64 pa) { return (u64 *)(uintptr_t)pa; }

static unsigned index_at(u64 iova, unsigned level)
{
	return (unsigned)(iova >> (PAGE_SHIFT + 9 * (level - 1))) & (ENTRIES - 1);
}

static bool present(u64 e) { return e & (VTD_SL_R | VTD_SL_W); }

/* Stores one entry and, for an IOMMU that does not snoop, pushes it to memory. */
static void set_entry(const struct vtd_pt *pt, u64 *e, u64 v)
{
	__atomic_store_n(e, v, __ATOMIC_RELEASE);
	if (pt->flush)
		pt->flush(e, sizeof(*e));
}

int vtd_pt_init(struct vtd_pt *pt, unsigned levels, u64 pa_limit, u64 (*alloc)(void),
		void (*free)(u64 pa), void (*flush)(const void *p, u64 len))
{
	if (levels != 3 && levels != 4)
		return -EINVAL;
	pt->levels = levels;
	pt->pa_limit = pa_limit;
	pt->alloc = alloc;
	pt->free = free;
	pt->flush = flush;
	pt->root = alloc();
	if (!pt->root)
		return -ENOMEM;
	if (flush)
		flush(table(pt->root), PAGE_SIZE);
	pt->nr_tables = 1;
	return 0;
}

u64 vtd_pt_iova_limit(const struct vtd_pt *pt)
{
	return 1ULL << (PAGE_SHIFT + 9 * pt->levels);
}

static bool range_ok(const struct vtd_pt *pt, u64 iova, u64 size)
{
	return size && IS_ALIGNED(iova, PAGE_SIZE) && IS_ALIGNED(size, PAGE_SIZE) &&
	       iova + size > iova && iova + size <= vtd_pt_iova_limit(pt);
}

/* The leaf entry for iova, making the tables on the way when make; NULL when absent or no memory. */
static u64 *walk(struct vtd_pt *pt, u64 iova, bool make)
{
	u64 *t = table(pt->root);

	for (unsigned level = pt->levels; level > 1; level--) {
		u64 *e = &t[index_at(iova, level)];

		if (!present(*e)) {
			u64 next;

			if (!make || !(next = pt->alloc()))
				return NULL;
			/* The new table's zeroes reach memory before the entry that points at it. */
			if (pt->flush)
				pt->flush(table(next), PAGE_SIZE);
			pt->nr_tables++;
			set_entry(pt, e, next | VTD_SL_R | VTD_SL_W);
		}
		t = table(*e & VTD_SL_ADDR);
	}
	return &t[index_at(iova, 1)];
}

int vtd_pt_unmap(struct vtd_pt *pt, u64 iova, u64 size)
{
	if (!range_ok(pt, iova, size))
		return -EINVAL;
	for (u64 off = 0; off < size; off += PAGE_SIZE) {
		u64 *e = walk(pt, iova + off, false);

		if (e && *e)
			set_entry(pt, e, 0);
	}
	return 0;
}

int vtd_pt_map(struct vtd_pt *pt, u64 iova, u64 pa, u64 size, unsigned perm)
{
	u64 bits = (perm & IOMMU_READ ? VTD_SL_R : 0) | (perm & IOMMU_WRITE ? VTD_SL_W : 0);
	u64 off;

	if (!range_ok(pt, iova, size) || !IS_ALIGNED(pa, PAGE_SIZE) || !bits ||
	    (perm & ~(IOMMU_READ | IOMMU_WRITE)) || pa + size < pa || pa + size > pt->pa_limit)
		return -EINVAL;
	/* First the tables and the check, so that a failure changes no leaf
	 * (tables made on the way stay, empty, until vtd_pt_destroy). */
	for (off = 0; off < size; off += PAGE_SIZE) {
		u64 *e = walk(pt, iova + off, true);

		if (!e)
			return -ENOMEM;
		if (*e && *e != ((pa + off) | bits))
			return -EEXIST;
	}
	for (off = 0; off < size; off += PAGE_SIZE) {
		u64 *e = walk(pt, iova + off, false);

		if (!*e)
			set_entry(pt, e, (pa + off) | bits);
	}
	return 0;
}

u64 vtd_pt_lookup(const struct vtd_pt *pt, u64 iova, unsigned *perm)
{
	u64 *e;

	if (!range_ok(pt, ALIGN_DOWN(iova, PAGE_SIZE), PAGE_SIZE))
		return (u64)-1;
	e = walk((struct vtd_pt *)pt, iova, false);
	if (!e || !present(*e))
		return (u64)-1;
	if (perm)
		*perm = (*e & VTD_SL_R ? IOMMU_READ : 0) | (*e & VTD_SL_W ? IOMMU_WRITE : 0);
	return (*e & VTD_SL_ADDR) | (iova & (PAGE_SIZE - 1));
}

static void free_level(struct vtd_pt *pt, u64 pa, unsigned level)
{
	u64 *t = table(pa);

	if (level > 1)
		for (unsigned i = 0; i < ENTRIES; i++)
			if (present(t[i]))
				free_level(pt, t[i] & VTD_SL_ADDR, level - 1);
	pt->free(pa);
	pt->nr_tables--;
}

void vtd_pt_destroy(struct vtd_pt *pt)
{
	if (pt->root)
		free_level(pt, pt->root, pt->levels);
	pt->root = 0;
}
