/*
 * 4-level guest-physical -> host-physical tables for nested paging. One
 * builder serves AMD's NPT (x86-64 page-table entries) and Intel's EPT
 * (its own entry format): the format struct holds the bits that differ.
 */
#ifndef ARCH_X86_NESTED_PT_H
#define ARCH_X86_NESTED_PT_H

#include "hv/types.h"
#include "arch/x86/pt_walk.h" /* struct pt_format, the walker */

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
	void (*free_table)(u64 pa);       /* gives back a page of alloc_table's; NULL: never freed */
};

/* Allocates the root table. -ENOMEM. */
int nested_pt_init(struct nested_pt *pt, const struct pt_format *fmt, u64 (*alloc_table)(void));

/*
 * Maps [gpa, gpa+size) to [hpa, hpa+size), all 4 KiB aligned, with 2 MiB
 * pages wherever both addresses and the remaining size allow. -EEXIST if a
 * page in the range is already mapped, -ENOMEM, -EINVAL for misalignment or
 * an address beyond 48 bits.
 */
int nested_pt_map(struct nested_pt *pt, u64 gpa, u64 hpa, u64 size);

/* As nested_pt_map, for device memory (a PCI BAR passed through): 4 KiB
 * leaves, uncached; on -EEXIST nothing of the range stays mapped. */
int nested_pt_map_uc(struct nested_pt *pt, u64 gpa, u64 hpa, u64 size);

/* The host-physical address gpa maps to, or ~0 when unmapped; *page_size
 * (if given) receives 4 KiB or 2 MiB. */
u64 nested_pt_lookup(const struct nested_pt *pt, u64 gpa, u64 *page_size);

/*
 * Changing mappings (arch/x86/nested_pt_edit.c). Ranges are 4 KiB aligned;
 * a 2 MiB leaf that a range covers only in part is split first, so these
 * can fail with -ENOMEM. None of them flushes a TLB: the caller does.
 */
/* Removes every mapping in [gpa, gpa+size); unmapped pages are skipped. */
int nested_pt_unmap(struct nested_pt *pt, u64 gpa, u64 size);
/* Sets (writable) or clears the write bit of every mapped page in the range. */
int nested_pt_protect(struct nested_pt *pt, u64 gpa, u64 size, bool writable);
/* Replaces the 2 MiB leaf at gpa (2 MiB aligned) by a table of 512 4 KiB
 * leaves with the same access bits. 0 also when gpa is already mapped by a
 * table; -ENOENT when nothing maps it; -ENOMEM. */
int nested_pt_split(struct nested_pt *pt, u64 gpa);
/* The reverse: when the table at gpa (2 MiB aligned) holds 512 present
 * leaves to one contiguous, 2 MiB aligned host range with equal bits, puts
 * one 2 MiB leaf in its place and frees the table. 0 also when gpa is
 * already a 2 MiB leaf; -EBUSY when the leaves do not allow it; -ENOENT. */
int nested_pt_merge(struct nested_pt *pt, u64 gpa);
/* Whether a write to gpa is allowed by its leaf (false when unmapped). */
bool nested_pt_writable(const struct nested_pt *pt, u64 gpa);
/* Frees every table, the root included (not the memory they map). */
void nested_pt_destroy(struct nested_pt *pt);

#endif
