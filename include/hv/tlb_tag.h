/*
 * TLB tags: the ASIDs of AMD-V (APM vol. 2, 15.16 "TLB Control") and the
 * VPIDs of VT-x (SDM vol. 3, 29.1 "Virtual Processor Identifiers"). A CPU's
 * TLB keeps the translations of each tag apart, so a world switch between
 * two tags flushes nothing.
 *
 * Tags are per physical CPU and handed out on first use there, in
 * generations: a holder's tag is valid while it was taken on this CPU in
 * this CPU's generation. When a CPU runs out of tags it starts a new
 * generation, and the caller flushes every tag's translations once. A tag
 * taken fresh in the current generation holds no translation: nobody used
 * it since that flush. Moving to another CPU thus gives a fresh tag there,
 * which no stale translation can carry (a guest's INVLPG only ever reached
 * the TLB of the CPU it ran on).
 */
#ifndef HV_TLB_TAG_H
#define HV_TLB_TAG_H

#include "hv/types.h"

/* A CPU's supply (struct percpu). */
struct tlb_tag_pool {
	u32 next;
	u64 gen; /* 0 before the first tag */
	/* AMD-V: a new generation began and the next VMRUN on this CPU, of
	 * whichever vCPU, flushes every ASID first (TLB_CONTROL acts at a
	 * VMRUN, and the vCPU that began it may not be the next to run). */
	bool flush_all;
};

/* A holder's tag: id, valid on cpu at gen; gen 0 when it has none. */
struct tlb_tag {
	u32 id;
	int cpu;
	u64 gen;
};

enum tlb_tag_got {
	TLB_TAG_KEPT,           /* t was valid: its translations may be cached */
	TLB_TAG_FRESH,          /* a new id: nothing cached under it */
	TLB_TAG_NEW_GENERATION, /* a new id in a new generation: flush every tag first */
};

/* Makes t valid on CPU cpu (its pool), with an id in [1, limit): 0 is the
 * host's. */
enum tlb_tag_got tlb_tag_get(struct tlb_tag *t, struct tlb_tag_pool *pool, int cpu, u32 limit);

/* t takes a fresh id at its next tlb_tag_get (a new guest state: nothing
 * the old one cached may serve it). */
static inline void tlb_tag_drop(struct tlb_tag *t)
{
	t->gen = 0;
}

#endif
