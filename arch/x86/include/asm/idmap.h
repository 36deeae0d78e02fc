/*
 * The hypervisor's identity map of physical memory (boot_pml4): entry.S maps
 * the first 4 GiB with 2 MiB pages; idmap_extend() maps RAM above that before
 * the page allocator hands it out.
 */
#ifndef ASM_IDMAP_H
#define ASM_IDMAP_H

#include "hv/types.h"

/* Physical addresses below this are identity-mapped. */
u64 idmap_limit(void);

/*
 * Maps [idmap_limit(), end) too, 2 MiB pages, tables from page_alloc().
 * Returns 0, or -ENOMEM / -ERANGE (beyond the CPU's physical address width);
 * on failure idmap_limit() tells how far the map got.
 */
int idmap_extend(u64 end);

/*
 * Makes the 2 MiB pages covering [pa, pa+len) uncacheable (PCD|PWT: PAT
 * entry 3, UC with the power-on PAT), for device registers such as the local
 * APIC's (SDM vol. 3A: its registers "must be mapped to UC memory"). Returns
 * 0, or -EINVAL for a range that is not mapped.
 */
int idmap_set_uncached(u64 pa, u64 len);

/*
 * The page-table work behind idmap_extend(), host-testable: identity-maps
 * [start, end) (2 MiB aligned) under the PML4 at pml4, allocating missing
 * tables with alloc (a zeroed page's address, 0 when none). Table addresses
 * are used as pointers (identity). Returns 0, or -ENOMEM with *done set to
 * the end of what was mapped.
 */
int idmap_map_2m(u64 *pml4, u64 start, u64 end, u64 (*alloc)(void), u64 *done);
/* idmap_set_uncached() under the PML4 at pml4 (no TLB flush). */
int idmap_set_uncached_in(u64 *pml4, u64 pa, u64 len);

#endif
