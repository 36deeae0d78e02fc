/*
 * A bitmap of physical pages, one bit each (1 = free), over a window
 * [base, base + npages * PAGE_SIZE). It only does the bookkeeping: no
 * locking, no zeroing, no touching of the pages themselves, so host tests can
 * run it over any numbers. core/page_alloc.c wraps it for the hypervisor.
 */
#ifndef CORE_MM_BITMAP_H
#define CORE_MM_BITMAP_H

#include "hv/types.h"

struct page_bitmap {
	u64 base;   /* physical address of page 0, page-aligned */
	u64 npages; /* pages in the window */
	u64 *bits;  /* DIV_ROUND_UP(npages, 64) words, owned by the caller */
	u64 nfree;
	u64 hint;   /* no free page has an index below this */
};

/* Words of storage a window of npages needs. */
#define PAGE_BITMAP_WORDS(npages) (((npages) + 63) / 64)

/* Every page of the window starts allocated. */
void page_bitmap_init(struct page_bitmap *pb, u64 base, u64 npages, u64 *bits);

/*
 * Marks [pa, pa + npages pages) free. Returns how many of them were already
 * free (a double free when non-zero), or -EINVAL when pa is unaligned or the
 * range leaves the window (then nothing changes).
 */
s64 page_bitmap_free(struct page_bitmap *pb, u64 pa, u64 npages);

/*
 * Finds npages free pages in a row whose first physical address is a multiple
 * of align (a power of two, at least PAGE_SIZE), lowest first, and marks them
 * allocated. Returns the physical address, or 0 when there is no such run.
 */
u64 page_bitmap_alloc(struct page_bitmap *pb, u64 npages, u64 align);

#endif
