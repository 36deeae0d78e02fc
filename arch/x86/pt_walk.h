/*
 * The one walker of the 4-level tables the hypervisor builds itself: its
 * identity map (arch/x86/idmap_pt.c) and a VM's nested tables, NPT or EPT
 * (arch/x86/nested_pt.c, nested_pt_edit.c). The bits that differ between
 * them are a struct pt_format. Level 3 is the PML4, 2 the PDPT (a 1 GiB
 * leaf), 1 the PD (a 2 MiB leaf), 0 the page table (4 KiB leaves).
 *
 * The guest's own tables are walked by arch/x86/emul/gwalk.c instead: they
 * come in the guest's formats (32-bit, PAE, 4-level), are only read, and
 * the walk accumulates rights and builds fault codes on every exit that
 * needs the instruction.
 */
#ifndef ARCH_X86_PT_WALK_H
#define ARCH_X86_PT_WALK_H

#include "hv/types.h"

struct pt_format {
	u64 table;   /* bits of an entry that points to the next table */
	u64 leaf;    /* bits of a 4 KiB leaf */
	u64 large;   /* bits of a 2 MiB leaf (includes the page-size bit) */
	u64 present; /* an entry is in use when any of these bits is set */
	u64 write;   /* the bit of a leaf that allows writes */
	u64 ad;      /* accessed and dirty bits the CPU may set in a leaf */
	u64 dirty;   /* of those, the dirty bit */
};

#define PT_ADDR_MASK 0x000ffffffffff000ULL

/* The hypervisor's own tables: ordinary long-mode entries, supervisor only. */
extern const struct pt_format pt_format_host;

/* Tables are identity-mapped: a physical address is a pointer (on the host
 * tests, allocators hand out real pointers). */
static inline u64 *pt_table_at(u64 pa)
{
	return (u64 *)(uintptr_t)pa;
}

static inline unsigned pt_index(u64 addr, int level)
{
	return (addr >> (12 + 9 * level)) & 511;
}

/* Whether e is a present leaf at level 1 or 2 (the page-size bit). */
static inline bool pt_is_large(const struct pt_format *f, u64 e)
{
	return (e & f->present) && (e & f->large & ~f->leaf);
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
