/* The walker/builder of the hypervisor's own 4-level tables (arch/x86/pt_walk.h). */
#include "arch/x86/pt_walk.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)

const struct pt_format pt_format_host = {
	PT_SHAPE_4LEVEL,
	.present = PTE_P,
	.ps = PTE_PS,
	.table = PTE_P | PTE_RW,
	.leaf = PTE_P | PTE_RW,
	.large = PTE_P | PTE_RW | PTE_PS,
	.write = PTE_RW,
	.ad = BIT(5) | BIT(6),
	.dirty = BIT(6),
};

/* One pt_walk: the tables it may create. */
struct build {
	const struct pt_format *f;
	u64 (*alloc)(void); /* NULL: create nothing */
	int stop;
};

/* The tables are identity-mapped (pt_table_at). Never NULL: no table lies
 * at 0, which the allocators return for failure (page_alloc hands out RAM
 * above 1 MiB only), so the descent needs no test for it. */
static inline void *host_map(void *w, u64 pa, unsigned size)
{
	void *p = pt_table_at(pa);

	if (!p)
		__builtin_unreachable();
	return p;
}

/* A missing table above the stop level is created, if the walk may. */
static inline int build_visit(void *w, int level, void *entry, u64 *value)
{
	const struct build *b = w;
	u64 next;

	if ((*value & b->f->present) || level == b->stop || !b->alloc)
		return 0;
	next = b->alloc();
	if (!next)
		return -ENOMEM;
	*value = next | b->f->table;
	*(u64 *)entry = *value;
	return 0;
}

u64 *pt_walk(u64 root, u64 addr, int level, const struct pt_format *f, u64 (*alloc)(void),
	     int *at)
{
	/* Every table the hypervisor builds has the 4-level shape: with it
	 * constant, the descent unrolls; the bits come from f. */
	const struct pt_format shape = { PT_SHAPE_4LEVEL, .present = f->present, .ps = f->ps };
	struct build b = { .f = f, .alloc = alloc, .stop = level };
	struct pt_cursor c;
	int r;

	/* The callers stop at level 0 or 1: with a constant stop the descent
	 * unrolls completely. */
	if (level == 0)
		r = pt_descend(&shape, root, addr, 0, &b, host_map, build_visit, &c);
	else if (level == 1)
		r = pt_descend(&shape, root, addr, 1, &b, host_map, build_visit, &c);
	else
		r = pt_descend(&shape, root, addr, level, &b, host_map, build_visit, &c);
	if (r)
		return NULL;
	if (c.level != level && !(c.value & f->present))
		return NULL; /* a missing table, not created */
	if (at)
		*at = c.level;
	return c.entry;
}
