/*
 * The one page-table walker: a level-descent core, pt_descend(), that every
 * table walk in utsuwa goes through, and pt_walk(), the walker/builder of the
 * tables the hypervisor builds itself: its identity map (arch/x86/idmap_pt.c)
 * and a VM's nested tables, NPT or EPT (arch/x86/nested_pt.c,
 * nested_pt_edit.c). The guest's own tables (32-bit, PAE, 4-level) are
 * walked through the same core by arch/x86/emul/gwalk.c, which adds the
 * guest MMU's rights, reserved bits and fault codes on top.
 *
 * A struct pt_format says what differs between the kinds of tables: their
 * shape (entry size, levels, index bits; SDM vol. 3, 4.2 and table 4-1;
 * APM vol. 2, 5.1) and which bits mean present, page size and address.
 * Levels count up from the table that maps 4 KiB pages (level 0); in the
 * 4-level formats level 3 is the PML4, 2 the PDPT (a 1 GiB leaf), 1 the PD
 * (a 2 MiB leaf).
 */
#ifndef ARCH_X86_PT_WALK_H
#define ARCH_X86_PT_WALK_H

#include "hv/types.h"

struct pt_format {
	/* The shape, and what every walk reads. */
	u8 levels;       /* tables from the root down: 4, 3 (PAE) or 2 (32-bit) */
	u8 entry_size;   /* bytes per entry: 8, or 4 in 32-bit paging */
	u8 index_bits;   /* linear address bits each level translates: 9, or 10 */
	u8 large_levels; /* bit l set: an entry at level l with ps set maps a page */
	u64 addr;        /* the bits of an entry that hold the next table's address */
	u64 present;     /* an entry is in use when any of these bits is set */
	u64 ps;          /* the page-size bit */

	/* What the hypervisor writes in the tables it builds (0 in the guest's formats). */
	u64 table;   /* bits of an entry that points to the next table */
	u64 leaf;    /* bits of a 4 KiB leaf */
	u64 leaf_uc; /* bits of a 4 KiB leaf of device memory: uncached (nested formats) */
	u64 large;   /* bits of a 2 MiB leaf (includes the page-size bit) */
	u64 write;   /* the bit of a leaf that allows writes */
	u64 ad;      /* accessed and dirty bits the CPU may set in a leaf */
	u64 dirty;   /* of those, the dirty bit */
};

#define PT_ADDR_MASK 0x000ffffffffff000ULL /* bits 51:12 */

/* The shape of the tables the hypervisor builds: 4 levels of 512 8-byte
 * entries, 2 MiB and 1 GiB leaves (the same for long mode, NPT and EPT;
 * SDM vol. 3, 4.5 and 29.3.2; APM vol. 2, 15.25.5). */
#define PT_SHAPE_4LEVEL .levels = 4, .entry_size = 8, .index_bits = 9, \
	.large_levels = BIT(1) | BIT(2), .addr = PT_ADDR_MASK

/* The hypervisor's own tables: ordinary long-mode entries, supervisor only. */
extern const struct pt_format pt_format_host;

/* Tables are identity-mapped: a physical address is a pointer (on the host
 * tests, allocators hand out real pointers). */
static inline u64 *pt_table_at(u64 pa)
{
	return (u64 *)(uintptr_t)pa;
}

/* The index of addr's entry in a 4-level table at level. */
static inline unsigned pt_index(u64 addr, int level)
{
	return (addr >> (12 + 9 * level)) & 511;
}

/* Whether e is a present leaf at level 1 or 2 (the page-size bit). */
static inline bool pt_is_large(const struct pt_format *f, u64 e)
{
	return (e & f->present) && (e & f->ps);
}

/* Where a descent stopped. */
struct pt_cursor {
	void *entry; /* the entry, in the host */
	u64 value;   /* what it held when read (zero-extended from 4 bytes) */
	int level;
};

/*
 * The descent every walker shares (SDM vol. 3, 4.3 to 4.5; APM vol. 2, 5.3):
 * from the table at physical root, at each level from f->levels - 1 down,
 * the entry that translates addr is located through map and read once (a
 * relaxed atomic load: another CPU may change it under us); visit sees it.
 * The walk stops at level stop, at an entry that is not present, or at a
 * page (ps set at a level of large_levels); *c then names that entry.
 *
 * Returns 0; -ENOENT when map finds no memory at an entry's address (*c
 * untouched); or the first nonzero value visit returned (*c names the entry
 * it refused); -EINVAL when stop is not a level of f.
 *
 *   map(w, pa, size): a host pointer to the size-byte entry at physical pa,
 *     or NULL. The hypervisor's tables are identity-mapped; the guest's are
 *     reached through the checked guest-RAM look-up.
 *   visit(w, level, entry, &value): the walker's own work on each entry
 *     read: rights, reserved bits, a trace (the guest walk); creating a
 *     missing table, by writing the entry and *value (the builder). A
 *     walker that sets accessed bits would do it here (entry is the host
 *     address of the entry).
 *
 * map and visit are the caller's static functions and w its state, passed
 * to this always-inline core as constants: the compiler makes one copy per
 * walker and format, with the calls inlined, so no level costs an indirect
 * call, and with a constant format the loop unrolls.
 */
static inline __attribute__((always_inline)) int
pt_descend(const struct pt_format *f, u64 root, u64 addr, int stop, void *w,
	   void *(*map)(void *w, u64 pa, unsigned size),
	   int (*visit)(void *w, int level, void *entry, u64 *value), struct pt_cursor *c)
{
	const u64 index_mask = (1u << f->index_bits) - 1;
	u64 table = root;

#pragma GCC unroll 4
	for (int l = f->levels - 1; l >= stop; l--) {
		u64 pa = table + ((addr >> (12 + f->index_bits * l)) & index_mask) * f->entry_size;
		void *p = map(w, pa, f->entry_size);
		u64 e;
		int r;

		if (unlikely(!p))
			return -ENOENT;
		if (f->entry_size == 8)
			e = __atomic_load_n((u64 *)p, __ATOMIC_RELAXED);
		else
			e = __atomic_load_n((u32 *)p, __ATOMIC_RELAXED);
		r = visit(w, l, p, &e);
		c->entry = p;
		c->value = e;
		c->level = l;
		if (r || l == stop || !(e & f->present) ||
		    ((f->large_levels & BIT(l)) && (e & f->ps)))
			return r;
		table = e & f->addr;
	}
	return -EINVAL;
}

/*
 * The entry for addr at level under the PML4 at root. A missing table on
 * the way is created with alloc (its entry gets f->table) or, without
 * alloc, ends the walk: NULL (also when alloc fails). A large leaf on the
 * way ends it too: that entry is returned. *at (if given) receives the
 * level of the entry returned.
 */
u64 *pt_walk(u64 root, u64 addr, int level, const struct pt_format *f, u64 (*alloc)(void),
	     int *at);

#endif
