/*
 * 4-level guest-physical -> host-physical tables for nested paging. One
 * builder serves AMD's NPT (x86-64 page-table entries) and Intel's EPT
 * (its own entry format): the format struct holds the bits that differ.
 */
#ifndef ARCH_X86_NESTED_PT_H
#define ARCH_X86_NESTED_PT_H

#include "hv/types.h"

struct pt_format {
	u64 table;   /* bits of an entry that points to the next table */
	u64 leaf;    /* bits of a 4 KiB leaf */
	u64 large;   /* bits of a 2 MiB leaf (includes the page-size bit) */
	u64 present; /* an entry is in use when any of these bits is set */
};

/* AMD NPT: ordinary long-mode entries; nested walks are user accesses, so
 * every level needs U/S (APM vol. 2, 15.25.5). */
extern const struct pt_format pt_format_npt;
/* Intel EPT (SDM vol. 3, 29.3.2, Tables 29-1 to 29-6): read, write and
 * execute in every entry, write-back leaves, bit 7 for 2 MiB leaves. */
extern const struct pt_format pt_format_ept;

struct nested_pt {
	u64 root;                         /* physical address of the PML4 */
	const struct pt_format *fmt;
	u64 (*alloc_table)(void);         /* a zeroed 4 KiB page, physical; 0 when none */
};

#define PT_ADDR_MASK 0x000ffffffffff000ULL

/* Allocates the root table. -ENOMEM. */
int nested_pt_init(struct nested_pt *pt, const struct pt_format *fmt, u64 (*alloc_table)(void));

/*
 * Maps [gpa, gpa+size) to [hpa, hpa+size), all 4 KiB aligned, with 2 MiB
 * pages wherever both addresses and the remaining size allow. -EEXIST if a
 * page in the range is already mapped, -ENOMEM, -EINVAL for misalignment or
 * an address beyond 48 bits.
 */
int nested_pt_map(struct nested_pt *pt, u64 gpa, u64 hpa, u64 size);

/* The host-physical address gpa maps to, or ~0 when unmapped; *page_size
 * (if given) receives 4 KiB or 2 MiB. */
u64 nested_pt_lookup(const struct nested_pt *pt, u64 gpa, u64 *page_size);

struct vm;

/* Tables mapping every region of vm->mem[] (arch/x86/nested_pt_vm.c); the
 * PML4's physical address in *root. -ENOMEM, or nested_pt_map's errors. */
int nested_pt_build_vm(const struct vm *vm, const struct pt_format *fmt, u64 *root);

#endif
