/*
 * A vCPU's shadow tables: their pages, the descent that builds them, the
 * flushes, and the registers the guest runs with.
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
 * all at once (used = 0) and they are zeroed as they are taken again, so a
 * CR3 load costs one clear of the root, not a walk of the tree.
 */
#include "hv/shadow.h"
#include "lib/string.h"

#define SPTE_P BIT(0)
#define SPTE_RW BIT(1)
#define SPTE_US BIT(2)
#define SPTE_A BIT(5)
#define SPTE_D BIT(6)
/* A table entry above the leaves allows everything: the leaf alone
 * carries the guest's rights (the CPU ANDs the levels, SDM vol. 3, 4.6).
 * A PAE PDPTE has only P (its R/W, U/S and XD are reserved, 4.4.1). */
#define SPTE_TABLE (SPTE_P | SPTE_RW | SPTE_US)
#define SPTE_ADDR 0x000ffffffffff000ULL

int shadow_init(struct shadow_mmu *s, u64 (*alloc_table)(void), void (*free_table)(u64 pa))
{
	memset(s, 0, sizeof(*s));
	s->alloc_table = alloc_table;
	s->free_table = free_table;
	s->root = alloc_table();
	s->tables = (u64 *)(uintptr_t)alloc_table();
	if (!s->root || !s->tables) {
		shadow_destroy(s);
		return -ENOMEM;
	}
	s->levels = 3;
	return 0;
}

void shadow_destroy(struct shadow_mmu *s)
{
	if (s->tables) {
		for (u32 i = 0; i < s->allocated; i++)
			s->free_table(s->tables[i]);
		s->free_table((u64)(uintptr_t)s->tables);
	}
	if (s->root)
		s->free_table(s->root);
	s->tables = NULL;
	s->root = 0;
	s->allocated = s->used = 0;
}

void shadow_flush(struct shadow_mmu *s)
{
	memset((void *)(uintptr_t)s->root, 0, PAGE_SIZE);
	s->used = 0;
	s->huge = false;
	s->hw_flush = true;
	s->stats.flushes++;
}

/* A zeroed table page from the pool; 0 when it is exhausted. */
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
	pa = s->alloc_table();
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

/* The entry for la at level (0: the leaf, 1: the PDE), creating tables on
 * the way when create; NULL when a table is missing (and not created) or
 * the pool is empty. */
static u64 *descend(struct shadow_mmu *s, u64 la, int level, bool create)
{
	u64 *t = (u64 *)(uintptr_t)s->root;

	for (int l = s->levels - 1; l > level; l--) {
		u64 *e = &t[index_at(s, la, l)];

		if (!(*e & SPTE_P)) {
			u64 pa;

			if (!create || !(pa = table_take(s)))
				return NULL;
			*e = pa | (s->levels == 3 && l == 2 ? SPTE_P : SPTE_TABLE);
		}
		t = (u64 *)(uintptr_t)(*e & SPTE_ADDR);
	}
	return &t[index_at(s, la, level)];
}

bool shadow_set_leaf(struct shadow_mmu *s, u64 la, u64 leaf)
{
	u64 *e = descend(s, la, 0, true);
	bool was;

	if (!e) {
		s->stats.full++;
		shadow_flush(s);
		e = descend(s, la, 0, true);
		if (!e) /* a fresh pool holds a whole path: cannot happen */
			return false;
	}
	was = *e & SPTE_P;
	*e = leaf;
	s->stats.fills++;
	return was;
}

bool shadow_map_host(struct shadow_mmu *s, u64 la, u64 pa)
{
	u64 leaf = pa | SPTE_P | SPTE_RW | SPTE_A | SPTE_D;
	u64 *e = descend(s, la, 0, true);
	bool flushed = false;

	if (!e) {
		s->stats.full++;
		shadow_flush(s);
		flushed = true;
		e = descend(s, la, 0, true);
		if (!e)
			return flushed;
	}
	if (*e == leaf)
		return flushed;
	if (*e & SPTE_P)
		s->hw_flush = true;
	*e = leaf;
	return flushed;
}

/*
 * INVLPG drops the TLB entry that translates la, which may come from a
 * 2 MiB or 4 MiB guest page: the shadow leaves of that whole region go
 * (the 4 KiB leaves of one or two shadow tables; cheap, and a superset is
 * always allowed, SDM vol. 3, 4.10.4.3). After a 1 GiB guest page the
 * region would be a whole table of tables: everything goes.
 */
void shadow_invlpg(struct shadow_mmu *s, u64 la)
{
	u64 base = la & ~((4ULL << 20) - 1);

	s->stats.invlpgs++;
	if (s->huge) {
		shadow_flush(s);
		return;
	}
	for (u64 a = base; a < base + (4ULL << 20); a += SZ_2M) {
		u64 *pde = descend(s, a, 1, false);

		if (pde && (*pde & SPTE_P))
			memset((void *)(uintptr_t)(*pde & SPTE_ADDR), 0, PAGE_SIZE);
	}
	s->hw_flush = true;
}

void shadow_hw_regs(struct shadow_mmu *s, const struct guest_ctx *ctx, struct shadow_hw *hw)
{
	bool paging = ctx->cr0 & CR0_PG;
	u8 levels = paging && (ctx->efer & EFER_LMA) ? 4 : 3;

	if (levels != s->levels) {
		s->levels = levels;
		shadow_flush(s);
	}
	hw->cr0 = ctx->cr0 | CR0_PG | CR0_WP;
	hw->cr3 = s->root;
	hw->cr4 = ctx->cr4 | CR4_PAE;
	hw->efer = ctx->efer;
	if (!paging) {
		/* The identity map is the guest's "physical" view: no SMEP or
		 * SMAP on it (every page is a user page), no long mode. */
		hw->cr4 &= ~(CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PCIDE);
		hw->efer &= ~(EFER_LME | EFER_LMA);
	}
}
