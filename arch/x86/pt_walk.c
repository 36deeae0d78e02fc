/* The walker of the hypervisor's own 4-level tables (arch/x86/pt_walk.h). */
#include "arch/x86/pt_walk.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)

const struct pt_format pt_format_host = {
	.table = PTE_P | PTE_RW,
	.leaf = PTE_P | PTE_RW,
	.large = PTE_P | PTE_RW | PTE_PS,
	.present = PTE_P,
	.write = PTE_RW,
	.ad = BIT(5) | BIT(6),
	.dirty = BIT(6),
};

u64 *pt_walk(u64 root, u64 addr, int level, const struct pt_format *f, u64 (*alloc)(void),
	     int *at)
{
	u64 *table = pt_table_at(root);

	for (int l = 3; l > level; l--) {
		u64 *e = &table[pt_index(addr, l)];

		if (!(*e & f->present)) {
			u64 next = alloc ? alloc() : 0;

			if (!next)
				return NULL;
			*e = next | f->table;
		} else if (l <= 2 && pt_is_large(f, *e)) {
			if (at)
				*at = l;
			return e;
		}
		table = pt_table_at(*e & PT_ADDR_MASK);
	}
	if (at)
		*at = level;
	return &table[pt_index(addr, level)];
}
