/*
 * Changing nested page tables after they are built: unmap, write-protect,
 * split a 2 MiB leaf into 4 KiB leaves and merge them back, free them all.
 * Same formats as nested_pt.c (AMD APM vol. 2, 15.25.5; Intel SDM vol. 3,
 * 29.3.2): the bits that differ come from struct pt_format.
 */
#include "arch/x86/nested_pt.h"

#define L1_SPAN SZ_2M /* what a page-directory entry maps */

/* The page-directory entry covering gpa, or NULL when a level above is absent. */
static u64 *pde_of(const struct nested_pt *pt, u64 gpa)
{
	return pt_walk(pt->root, gpa, 1, pt->fmt, NULL, NULL);
}

static bool is_large(const struct nested_pt *pt, u64 e)
{
	return pt_is_large(pt->fmt, e);
}

int nested_pt_split(struct nested_pt *pt, u64 gpa)
{
	u64 *pde = pde_of(pt, gpa), old, next, *t, bits;

	if (!IS_ALIGNED(gpa, L1_SPAN))
		return -EINVAL;
	if (!pde || !(*pde & pt->fmt->present))
		return -ENOENT;
	old = *pde;
	if (!is_large(pt, old))
		return 0;
	next = pt->alloc_table();
	if (!next)
		return -ENOMEM;
	t = pt_table_at(next);
	/* The small leaves keep every access bit of the large one. */
	bits = old & ~PT_ADDR_MASK & ~pt->fmt->ps;
	for (unsigned i = 0; i < 512; i++)
		t[i] = ((old & PT_ADDR_MASK & ~(L1_SPAN - 1)) + (u64)i * PAGE_SIZE) | bits;
	__atomic_store_n(pde, next | pt->fmt->table, __ATOMIC_RELEASE);
	return 0;
}

int nested_pt_merge(struct nested_pt *pt, u64 gpa)
{
	u64 *pde = pde_of(pt, gpa), *t, first, bits, ad = pt->fmt->ad, ad_all = 0;

	if (!IS_ALIGNED(gpa, L1_SPAN))
		return -EINVAL;
	if (!pde || !(*pde & pt->fmt->present))
		return -ENOENT;
	if (is_large(pt, *pde))
		return 0;
	t = pt_table_at(*pde & PT_ADDR_MASK);
	first = t[0] & PT_ADDR_MASK;
	bits = t[0] & ~PT_ADDR_MASK & ~ad;
	if (!(t[0] & pt->fmt->present) || !IS_ALIGNED(first, L1_SPAN))
		return -EBUSY;
	/* Accessed and dirty bits may differ (the CPU sets them): the large
	 * leaf takes their union. */
	for (unsigned i = 0; i < 512; i++) {
		if ((t[i] & ~ad) != ((first + (u64)i * PAGE_SIZE) | bits))
			return -EBUSY;
		ad_all |= t[i] & ad;
	}
	__atomic_store_n(pde, first | bits | ad_all | pt->fmt->ps, __ATOMIC_RELEASE);
	if (pt->free_table)
		pt->free_table((u64)(uintptr_t)t);
	return 0;
}

/*
 * Applies set/clear to the leaves of [gpa, gpa+size), or removes them when
 * unmap; splits a 2 MiB leaf the range covers only in part.
 */
static int edit_range(struct nested_pt *pt, u64 gpa, u64 size, bool unmap, u64 set, u64 clear)
{
	if (!IS_ALIGNED(gpa | size, PAGE_SIZE) || gpa + size < gpa || gpa + size > (1ULL << 48))
		return -EINVAL;
	while (size) {
		u64 *pde = pde_of(pt, gpa), span_end = ALIGN_DOWN(gpa, L1_SPAN) + L1_SPAN;
		u64 step = MIN(size, span_end - gpa);

		if (pde && is_large(pt, *pde)) {
			if (step == L1_SPAN) {
				u64 e = *pde;

				__atomic_store_n(pde, unmap ? 0 : (e | set) & ~clear, __ATOMIC_RELEASE);
				goto next;
			}
			int err = nested_pt_split(pt, ALIGN_DOWN(gpa, L1_SPAN));

			if (err)
				return err;
		}
		if (pde && (*pde & pt->fmt->present)) {
			u64 *t = pt_table_at(*pde & PT_ADDR_MASK);

			for (u64 a = gpa; a < gpa + step; a += PAGE_SIZE) {
				u64 *e = &t[pt_index(a, 0)];

				if (*e & pt->fmt->present)
					__atomic_store_n(e, unmap ? 0 : (*e | set) & ~clear,
							 __ATOMIC_RELEASE);
			}
		}
next:
		gpa += step;
		size -= step;
	}
	return 0;
}

int nested_pt_unmap(struct nested_pt *pt, u64 gpa, u64 size)
{
	return edit_range(pt, gpa, size, true, 0, 0);
}

int nested_pt_protect(struct nested_pt *pt, u64 gpa, u64 size, bool writable)
{
	u64 w = pt->fmt->write;

	return edit_range(pt, gpa, size, false, writable ? w : 0, writable ? 0 : w);
}

bool nested_pt_writable(const struct nested_pt *pt, u64 gpa)
{
	const u64 *pde = pde_of(pt, gpa);
	u64 e;

	if (!pde || !(*pde & pt->fmt->present))
		return false;
	e = *pde;
	if (!is_large(pt, e))
		e = pt_table_at(e & PT_ADDR_MASK)[pt_index(gpa, 0)];
	return (e & pt->fmt->present) && (e & pt->fmt->write);
}

/* Frees the tables below the entry table at level (3 = the PML4), then it. */
static void free_level(struct nested_pt *pt, u64 pa, int level)
{
	u64 *t = pt_table_at(pa);

	if (level > 1) {
		for (unsigned i = 0; i < 512; i++)
			if (t[i] & pt->fmt->present)
				free_level(pt, t[i] & PT_ADDR_MASK, level - 1);
	} else if (level == 1) {
		for (unsigned i = 0; i < 512; i++)
			if ((t[i] & pt->fmt->present) && !is_large(pt, t[i]))
				pt->free_table(t[i] & PT_ADDR_MASK);
	}
	pt->free_table(pa);
}

void nested_pt_destroy(struct nested_pt *pt)
{
	if (pt->root && pt->free_table)
		free_level(pt, pt->root, 3);
	pt->root = 0;
}
