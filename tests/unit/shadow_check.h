/*
 * For host tests of the shadow MMU (include/hv/shadow.h): table pages from
 * the C heap, and a walk of the shadow tables as the CPU would do it, which
 * also checks that every entry points where it may: tables into the pool,
 * leaves into the VM's RAM.
 */
#ifndef SHADOW_CHECK_H
#define SHADOW_CHECK_H

#include <stdlib.h>
#include <string.h>
#include "hv/shadow.h"
#include "hv/vm.h"

static inline u64 check_table_alloc(unsigned pages)
{
	void *p = aligned_alloc(4096, 4096 * pages);

	if (p)
		memset(p, 0, 4096 * pages);
	return (u64)(uintptr_t)p;
}

static inline void check_table_free(u64 pa, unsigned pages)
{
	(void)pages;
	free((void *)(uintptr_t)pa);
}

/* The shadow leaf for la, or 0 when none (a missing table or entry). */
static inline u64 shadow_leaf_of(const struct shadow_mmu *s, u64 la)
{
	const u64 *t = (const u64 *)(uintptr_t)s->root;

	for (int l = s->levels - 1; l >= 0; l--) {
		unsigned i = (unsigned)(la >> (12 + 9 * l)) & 511;
		u64 e;

		if (s->levels == 3 && l == 2)
			i &= 3;
		e = t[i];
		if (!(e & 1))
			return 0;
		if (l == 0)
			return e;
		t = (const u64 *)(uintptr_t)(e & 0x000ffffffffff000ULL);
	}
	return 0;
}

static inline bool in_pool(const struct shadow_mmu *s, u64 pa)
{
	for (u32 i = 0; i < s->used; i++)
		if (s->tables[i] == pa)
			return true;
	return false;
}

#define CHECK_ADDR 0x000ffffffffff000ULL

/* The table at level (3: PML4 or PAE PDPT) and everything below it. */
static inline long shadow_check_table(const struct shadow_mmu *s, const struct vm *vm,
				      const u64 *t, int level)
{
	u64 ram = vm->gmem.chunks[0], size = vm->gmem.size;
	bool pae_root = s->levels == 3 && level == 2;
	long leaves = 0;

	for (unsigned i = 0; i < 512; i++) {
		u64 e = t[i], pa = e & CHECK_ADDR;
		long n;

		if (pae_root && i >= 4 && e)
			return -1; /* the PAE root has 4 entries */
		if (!(e & 1))
			continue;
		if (level == 0) {
			/* A leaf: in RAM, no reserved bit (51:M would be, take
			 * 62:52 and the PAT-as-PS bit stays free for 4 KiB). */
			if (pa < ram || pa >= ram + size || (e & 0x7ff0000000000000ULL) ||
			    !gmem_in_ram(&vm->gmem, pa - ram, 4096)) /* not in a hole */
				return -1;
			leaves++;
			continue;
		}
		if (pae_root && (e & ~CHECK_ADDR) != 1)
			return -1; /* PDPTE: P only */
		if ((e & BIT(7)) || !in_pool(s, pa))
			return -1; /* no large shadow leaves; tables from the pool */
		n = shadow_check_table(s, vm, (const u64 *)(uintptr_t)pa, level - 1);
		if (n < 0)
			return -1;
		leaves += n;
	}
	return leaves;
}

/* Every present entry of the tree: tables in the pool (in use), leaves
 * inside the VM's RAM. The number of leaves, or -1. */
static inline long shadow_check_tree(const struct shadow_mmu *s, const struct vm *vm)
{
	return shadow_check_table(s, vm, (const u64 *)(uintptr_t)s->root, s->levels - 1);
}

#endif
