/*
 * The TLB tags shadow roots run under (include/hv/shadow.h,
 * shadow_tlb_tag): one ASID or VPID per root, so that a process switch
 * that takes a root back keeps what the CPU cached for it.
 *
 * Without a tag per root every CR3 load would flush the vCPU's tag: the
 * translations of the root left behind must not serve the one taken back.
 * With one, the TLB holds each root's translations apart, and the one
 * question at an entry is whether the current root's tag may hold
 * something its tables no longer do. Wherever an entry is dropped or
 * narrowed the root is marked: tlb_stale for the whole tag (a check that
 * dropped entries at a CR3 load, a table replaced, a flush), or the page
 * in tlb_page[] when only that page's leaf went or narrowed (INVLPG of a
 * 4 KiB guest page, a leaf made writable): shadow_pt.c, shadow_roots.c,
 * shadow_fault.c.
 *
 * The tag is taken from this CPU's pool (hv/tlb_tag.h): a root that ran
 * on another CPU, or in an older generation of this one, gets a fresh tag
 * that holds nothing, so its marks are moot.
 */
#include "hv/shadow.h"
#include "lib/string.h"

void shadow_tlb_tag(struct shadow_mmu *s, struct tlb_tag_pool *pool, int cpu, u32 limit,
		    struct shadow_tlb_work *w)
{
	struct shadow_root *r = &s->roots[s->cur];

	w->flush = SHADOW_TLB_NONE;
	w->pages = 0;
	switch (tlb_tag_get(&r->tag, pool, cpu, limit)) {
	case TLB_TAG_NEW_GENERATION:
		w->flush = SHADOW_TLB_ALL;
		break;
	case TLB_TAG_KEPT:
		if (r->tlb_stale) {
			w->flush = SHADOW_TLB_TAG;
			s->stats.tlb_flushes++;
		} else if (r->tlb_pages) {
			w->flush = SHADOW_TLB_PAGES;
			w->pages = r->tlb_pages;
			memcpy(w->page, r->tlb_page, r->tlb_pages * sizeof(r->tlb_page[0]));
			s->stats.tlb_pages += r->tlb_pages;
		}
		break;
	case TLB_TAG_FRESH:
		break;
	}
	r->tlb_stale = false;
	r->tlb_pages = 0;
	w->tag = r->tag.id;
}
