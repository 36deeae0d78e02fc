/*
 * Inside the shadow MMU (arch/x86/mmu/shadow_pt.c, shadow_roots.c): the
 * table layout both files share.
 */
#ifndef ARCH_X86_MMU_SHADOW_INT_H
#define ARCH_X86_MMU_SHADOW_INT_H

#include "hv/shadow.h"

#define SPTE_P BIT(0)
#define SPTE_ADDR 0x000ffffffffff000ULL
/* A guest PDE's (PDPTE's) PS, as a snapshot holds it (SDM vol. 3, 4.3 to 4.5). */
#define GPTE_PS BIT(7)

/* The snapshot slot of shadow entry e: the same offset in the next page. */
static inline u64 *snap_of(u64 *e)
{
	return (u64 *)((uintptr_t)e + PAGE_SIZE);
}

static inline u8 levels_of(u8 format)
{
	return format == SGF_LONG ? 4 : 3;
}

/* The current root lost or narrowed an entry the CPU may have cached:
 * its tag is flushed before the next entry (shadow_tlb.c). */
static inline void cur_root_stale(struct shadow_mmu *s)
{
	s->roots[s->cur].tlb_stale = true;
}

/* ... only the leaf of the page at la: that page's translation is dropped
 * from its tag before the next entry, or the whole tag when too many are
 * listed. The address is made the one the leaf translates: canonical in
 * 4-level paging (bits 63:48 as bit 47; an INVLPG of a non-canonical
 * address reaches the same leaf), 32 bits otherwise. */
static inline void cur_root_page_stale(struct shadow_mmu *s, u64 la)
{
	struct shadow_root *r = &s->roots[s->cur];

	if (r->tlb_stale)
		return;
	if (r->tlb_pages == SHADOW_TLB_MAX_PAGES) {
		r->tlb_stale = true;
		return;
	}
	la = s->levels == 4 ? (u64)((s64)(la << 16) >> 16) : (u32)la;
	r->tlb_page[r->tlb_pages++] = la & ~(u64)(PAGE_SIZE - 1);
}

/* Levels of the guest's own tables. */
static inline int guest_levels(u8 format)
{
	switch (format) {
	case SGF_LONG:
		return 4;
	case SGF_PAE:
		return 3;
	case SGF_32:
	case SGF_32_PSE:
		return 2;
	default:
		return 0;
	}
}

/* The CR3 a root is keyed with: with paging off every CR3 shares the
 * identity map. */
static inline u64 key_cr3(u8 format, u64 cr3)
{
	return format == SGF_OFF ? 0 : cr3;
}

#endif
