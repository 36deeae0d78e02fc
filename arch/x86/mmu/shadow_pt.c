/*
 * A vCPU's shadow tables: their pages, the descent that builds them from
 * the guest's walk, INVLPG and the flushes. The roots kept per guest CR3,
 * their check, and the registers the guest runs with: shadow_roots.c.
 *
 * Two formats, chosen by the guest's mode: 4-level tables while it is in
 * long mode, PAE tables otherwise (32-bit and PAE paging, and paging off,
 * which runs with an identity map: APM vol. 2, 15.19 "Paged Real Mode"
 * allows CR0.PG with CR0.PE clear for exactly this). 32-bit guest tables
 * are thus shadowed by PAE ones, whose 8-byte entries hold any host
 * address and the NX bit. Every shadow leaf maps 4 KiB, whatever the
 * guest page's size: a large guest page is shadowed page by page as it is
 * touched, and dirty logging and the 2 MiB RAM chunks never have to agree
 * with the guest's page sizes.
 *
 * Table pages come from a per-vCPU pool (tables[]): a flush returns them
 * all at once (used = 0) and they are zeroed as they are taken again.
 *
 * Snapshots. Every table page (roots included) is followed by a snapshot
 * page: beside each present shadow entry, the guest entry it was derived
 * from, as the walk read it after setting A and D (shadow_walked). Which
 * guest entry that is follows from the format: the same index one level
 * for one level in 4-level and PAE paging; in 32-bit paging a shadow PDE
 * covers half of a guest PDE's 4 MiB (index / 2) and a shadow page table
 * half of a guest one; under a large guest page, and with paging off,
 * there is none (the entry above stands for the whole page).
 */
#include "hv/shadow.h"
#include "arch/x86/mmu/shadow_int.h"
#include "lib/string.h"

#define SPTE_RW BIT(1)
#define SPTE_US BIT(2)
#define SPTE_A BIT(5)
#define SPTE_D BIT(6)
/* A table entry above the leaves allows everything: the leaf alone
 * carries the guest's rights (the CPU ANDs the levels, SDM vol. 3, 4.6).
 * A PAE PDPTE has only P (its R/W, U/S and XD are reserved, 4.4.1). */
#define SPTE_TABLE (SPTE_P | SPTE_RW | SPTE_US)

int shadow_init(struct shadow_mmu *s, u64 (*alloc_table)(unsigned pages),
		void (*free_table)(u64 pa, unsigned pages))
{
	memset(s, 0, sizeof(*s));
	s->alloc_table = alloc_table;
	s->free_table = free_table;
	s->tables = (u64 *)(uintptr_t)alloc_table(1);
	for (unsigned i = 0; i < SHADOW_ROOTS; i++)
		s->roots[i].pa = alloc_table(2);
	for (unsigned i = 0; i < SHADOW_ROOTS; i++)
		if (!s->roots[i].pa || !s->tables) {
			shadow_destroy(s);
			return -ENOMEM;
		}
	s->root = s->roots[0].pa;
	s->levels = 3;
	return 0;
}

void shadow_destroy(struct shadow_mmu *s)
{
	if (s->tables) {
		for (u32 i = 0; i < s->allocated; i++)
			s->free_table(s->tables[i], 2);
		s->free_table((u64)(uintptr_t)s->tables, 1);
	}
	for (unsigned i = 0; i < SHADOW_ROOTS; i++) {
		if (s->roots[i].pa)
			s->free_table(s->roots[i].pa, 2);
		s->roots[i].pa = 0;
	}
	s->tables = NULL;
	s->root = 0;
	s->allocated = s->used = 0;
}

bool shadow_roots_below_4g(const struct shadow_mmu *s)
{
	for (unsigned i = 0; i < SHADOW_ROOTS; i++)
		if (s->roots[i].pa + 2 * PAGE_SIZE > BIT(32))
			return false;
	return true;
}

/* The other roots' tables come from the same pool, now free: they are
 * unkeyed, so they are cleared before they are used again. Every root's
 * tag is flushed at its next use. */
void shadow_flush(struct shadow_mmu *s)
{
	for (unsigned i = 0; i < SHADOW_ROOTS; i++) {
		s->roots[i].keyed = false;
		s->roots[i].tlb_stale = true;
	}
	memset((void *)(uintptr_t)s->root, 0, PAGE_SIZE);
	s->used = 0;
	s->huge = false;
	s->stats.flushes++;
}

/* A zeroed table page (its snapshot after it) from the pool; 0 when it is
 * exhausted. The snapshot is written with every entry made present. */
static u64 table_take(struct shadow_mmu *s)
{
	u64 pa;

	if (s->used < s->allocated) {
		pa = s->tables[s->used++];
		memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);
		return pa;
	}
	if (s->allocated >= SHADOW_MAX_TABLES || s->allocated >= PAGE_SIZE / 8)
		return 0;
	pa = s->alloc_table(2);
	if (!pa)
		return 0;
	s->tables[s->allocated++] = pa;
	s->used = s->allocated;
	return pa;
}

/* The index of la at level in the current format: the PAE root holds 4
 * PDPTEs, indexed by bits 31:30. */
static unsigned index_at(const struct shadow_mmu *s, u64 la, int level)
{
	unsigned i = (unsigned)(la >> (12 + 9 * level)) & 511;

	return s->levels == 3 && level == 2 ? i & 3 : i;
}

/* The guest entry the shadow entry at level is derived from, in *val;
 * false when none (above a 32-bit guest's PD, under a large page, paging
 * off). */
static bool derived_from(const struct shadow_walked *w, int level, u64 *val)
{
	int k = guest_levels(w->format) - 1 - level;

	if (k < 0 || k >= w->n)
		return false;
	*val = w->entry[k];
	return true;
}

/* The entry for la at level (0: the leaf, 1: the PDE), creating tables on
 * the way when create; NULL when a table is missing (and not created) or
 * the pool is empty. With w, an entry derived from another guest entry
 * than w's is replaced by a new table (create) or a miss. */
static u64 *descend(struct shadow_mmu *s, u64 la, int level, bool create,
		    const struct shadow_walked *w)
{
	u64 *t = (u64 *)(uintptr_t)s->root;

	for (int l = s->levels - 1; l > level; l--) {
		u64 *e = &t[index_at(s, la, l)];
		u64 val = 0;
		bool derived = w && derived_from(w, l, &val);

		if ((*e & SPTE_P) && derived && *snap_of(e) != val) {
			/* The guest's entry changed under it: what lies below
			 * is left to the next flush's reclaim. */
			if (!create)
				return NULL;
			*e = 0;
			cur_root_stale(s);
			s->stats.stale++;
		}
		if (!(*e & SPTE_P)) {
			u64 pa;

			if (!create || !(pa = table_take(s)))
				return NULL;
			*e = pa | (s->levels == 3 && l == 2 ? SPTE_P : SPTE_TABLE);
			*snap_of(e) = val;
		}
		t = (u64 *)(uintptr_t)(*e & SPTE_ADDR);
	}
	return &t[index_at(s, la, level)];
}

/* The leaf entry for la, its tables built; when the pool has run out,
 * everything is flushed first (*flushed) and the path built in the fresh
 * pool. NULL only if even that fails (cannot happen: a fresh pool holds a
 * whole path). */
static u64 *leaf_entry(struct shadow_mmu *s, u64 la, const struct shadow_walked *w,
		       bool *flushed)
{
	u64 *e = descend(s, la, 0, true, w);

	*flushed = false;
	if (!e) {
		s->stats.full++;
		shadow_flush(s);
		*flushed = true;
		e = descend(s, la, 0, true, w);
	}
	return e;
}

bool shadow_set_leaf(struct shadow_mmu *s, u64 la, u64 leaf, const struct shadow_walked *w)
{
	struct shadow_root *r = &s->roots[s->cur];
	u64 val = 0;
	u64 *e;
	bool was, flushed;

	/* A walk in another format than the root's would be checked against
	 * the wrong tables later: cannot happen (shadow_hw_regs keys the root
	 * before every entry), and would cost a flush. */
	if (r->keyed && r->format != w->format)
		shadow_flush(s);
	e = leaf_entry(s, la, w, &flushed);
	if (!e)
		return false;
	was = *e & SPTE_P;
	derived_from(w, 0, &val);
	*e = leaf;
	*snap_of(e) = val;
	s->stats.fills++;
	return was;
}

bool shadow_map_host(struct shadow_mmu *s, u64 la, u64 pa)
{
	u64 leaf = pa | SPTE_P | SPTE_RW | SPTE_A | SPTE_D;
	bool flushed;
	u64 *e = leaf_entry(s, la, NULL, &flushed);

	if (!e)
		return flushed;
	if (*e == leaf)
		return flushed;
	if (*e & SPTE_P)
		cur_root_page_stale(s, la);
	*e = leaf;
	return flushed;
}

/* Whether the shadow PDE e stands for a guest PDE that maps a 2 or 4 MiB
 * page (PS, SDM vol. 3, 4.3 to 4.5; PS means nothing in 32-bit paging
 * without CR4.PSE), from its snapshot. */
static bool pde_maps_large_page(const struct shadow_root *r, u64 *e)
{
	if (r->format != SGF_LONG && r->format != SGF_PAE && r->format != SGF_32_PSE)
		return false;
	return *snap_of(e) & GPTE_PS;
}

/*
 * INVLPG drops the TLB entry that translates la (SDM vol. 3, 4.10.4.1).
 * Under a 4 KiB guest page that is the page's leaf alone, and the CPU
 * drops that page from the root's tag. Under a 2 MiB or 4 MiB guest page
 * the leaves of the whole region go (one or two shadow tables, 4 KiB a
 * leaf) and so does the whole tag. After a 1 GiB guest page the region
 * would be a whole table of tables: everything goes. Entries above the
 * leaves stay: the next fill under them compares them with the guest's
 * (descend), which is what INVLPG's drop of paging-structure caches asks;
 * the leaves under them that stay are translations a TLB may keep until
 * the guest invalidates them too.
 */
void shadow_invlpg(struct shadow_mmu *s, u64 la)
{
	u64 base = la & ~((4ULL << 20) - 1);
	u64 *pde;

	s->stats.invlpgs++;
	if (s->huge) {
		shadow_flush(s);
		return;
	}
	pde = descend(s, la, 1, false, NULL);
	if (!pde || !(*pde & SPTE_P))
		return; /* no leaf under it: nothing the TLB may hold */
	if (!pde_maps_large_page(&s->roots[s->cur], pde)) {
		u64 *e = (u64 *)(uintptr_t)(*pde & SPTE_ADDR) + index_at(s, la, 0);

		if (*e & SPTE_P) {
			*e = 0;
			cur_root_page_stale(s, la);
		}
		return;
	}
	for (u64 a = base; a < base + (4ULL << 20); a += SZ_2M) {
		pde = descend(s, a, 1, false, NULL);
		if (pde && (*pde & SPTE_P))
			memset((void *)(uintptr_t)(*pde & SPTE_ADDR), 0, PAGE_SIZE);
	}
	cur_root_stale(s);
}

