/*
 * The TLB tags shadow roots run under (include/hv/shadow.h,
 * shadow_tlb_tag): one ASID or VPID per root, so that a process switch
 * that takes a root back keeps what the CPU cached for it.
 *
 * Without a tag per root every CR3 load would flush the vCPU's tag: the
 * translations of the root left behind must not serve the one taken back.
 * With one, the TLB holds each root's translations apart, and the one
 * question at an entry is whether the current root's tag may hold
 * something its tables no longer do (tlb_stale, set wherever an entry is
 * dropped or narrowed: shadow_pt.c, shadow_roots.c, shadow_fault.c).
 *
 * The tag is taken from this CPU's pool (hv/tlb_tag.h): a root that ran
 * on another CPU, or in an older generation of this one, gets a fresh tag
 * that holds nothing, so its stale mark is moot.
 */
#include "hv/shadow.h"

enum shadow_tlb_flush shadow_tlb_tag(struct shadow_mmu *s, struct tlb_tag_pool *pool, int cpu,
				     u32 limit, u32 *tag)
{
	struct shadow_root *r = &s->roots[s->cur];
	enum shadow_tlb_flush flush = SHADOW_TLB_NONE;

	switch (tlb_tag_get(&r->tag, pool, cpu, limit)) {
	case TLB_TAG_NEW_GENERATION:
		flush = SHADOW_TLB_ALL;
		break;
	case TLB_TAG_KEPT:
		if (r->tlb_stale) {
			flush = SHADOW_TLB_TAG;
			s->stats.tlb_flushes++;
		}
		break;
	case TLB_TAG_FRESH:
		break;
	}
	r->tlb_stale = false;
	*tag = r->tag.id;
	return flush;
}
