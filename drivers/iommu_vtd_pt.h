/*
 * VT-d second-level page tables (VT-d spec 3.7 "Second-Level Translation",
 * 9.8 "Second-Level Paging Entries"): 3 levels for a 39-bit, 4 levels for a
 * 48-bit address width, 4 KiB leaves only. Host-testable: tables come from
 * the caller's allocator and are used as pointers (memory is identity
 * mapped), and every entry written is handed to flush() first when the
 * IOMMU does not snoop the CPU's caches (ECAP.C = 0).
 */
#ifndef DRIVERS_IOMMU_VTD_PT_H
#define DRIVERS_IOMMU_VTD_PT_H

#include "hv/types.h"

/* 9.8: the bits of a second-level entry this driver uses. */
#define VTD_SL_R BIT(0)  /* read; with W clear too, the entry is not present */
#define VTD_SL_W BIT(1)  /* write */
#define VTD_SL_PS BIT(7) /* large page: never set here */
#define VTD_SL_ADDR 0x000ffffffffff000ULL /* bits 51:12 */

struct vtd_pt {
	u64 root;        /* the top table, physical (= pointer) */
	unsigned levels; /* 3 or 4 */
	u64 pa_limit;    /* output addresses below this (2^haw) */
	u64 (*alloc)(void);          /* a zeroed 4 KiB page, 0 when none */
	void (*free)(u64 pa);
	void (*flush)(const void *p, u64 len); /* NULL: the IOMMU is coherent */
	u64 nr_tables;   /* tables held, root included */
};

/* Allocates the root; -EINVAL for other than 3 or 4 levels, -ENOMEM. */
int vtd_pt_init(struct vtd_pt *pt, unsigned levels, u64 pa_limit, u64 (*alloc)(void),
		void (*free)(u64 pa), void (*flush)(const void *p, u64 len));
/* The highest iova plus one: 2^39 or 2^48. */
u64 vtd_pt_iova_limit(const struct vtd_pt *pt);
/*
 * Maps [iova, iova + size) to [pa, pa + size) with IOMMU_READ|IOMMU_WRITE
 * (drivers/iommu.h). -EINVAL: unaligned, empty, no permission, beyond the
 * address width or pa_limit; -EEXIST: a page already mapped elsewhere or
 * with other permissions (mapping it again the same way is allowed);
 * -ENOMEM. On failure no leaf has changed (tables made stay, empty). The caller
 * flushes nothing: an entry going from not present to present needs no
 * IOTLB invalidation (6.1, when CAP.CM = 0).
 */
int vtd_pt_map(struct vtd_pt *pt, u64 iova, u64 pa, u64 size, unsigned perm);
/* Clears the leaves of [iova, iova + size); the caller then invalidates the
 * IOTLB. Tables stay until vtd_pt_destroy. -EINVAL for a bad range. */
int vtd_pt_unmap(struct vtd_pt *pt, u64 iova, u64 size);
/* The physical address iova maps to with *perm, or -1 when not mapped. */
u64 vtd_pt_lookup(const struct vtd_pt *pt, u64 iova, unsigned *perm);
/* Frees every table. Only when no context entry points at it any more. */
void vtd_pt_destroy(struct vtd_pt *pt);

#endif
