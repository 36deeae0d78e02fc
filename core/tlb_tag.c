/* TLB tags handed out per CPU in generations (include/hv/tlb_tag.h). */
#include "hv/tlb_tag.h"

enum tlb_tag_got tlb_tag_get(struct tlb_tag *t, struct tlb_tag_pool *pool, int cpu, u32 limit)
{
	enum tlb_tag_got got = TLB_TAG_FRESH;

	if (t->gen && t->cpu == cpu && t->gen == pool->gen)
		return TLB_TAG_KEPT;
	if (!pool->gen || pool->next >= limit) {
		pool->gen++;
		pool->next = 1;
		got = TLB_TAG_NEW_GENERATION;
	}
	t->id = pool->next++;
	t->cpu = cpu;
	t->gen = pool->gen;
	return got;
}
