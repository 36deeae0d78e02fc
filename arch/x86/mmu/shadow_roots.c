/*
 * A vCPU's shadow roots, one per guest CR3 it ran with lately, and the
 * registers the guest runs with (include/hv/shadow.h; the tables and their
 * snapshots: shadow_pt.c).
 *
 * Without kept roots every CR3 load would throw the whole shadow away, and
 * each process switch would rebuild it, one #PF exit per page touched. So
 * each vCPU keeps SHADOW_ROOTS roots keyed by guest CR3 (and format).
 * Taking one back stands in for the TLB flush of a CR3 load only if nothing
 * it holds is stale: the guest need not invalidate a translation it changed
 * while that CR3 was not loaded (the load is the invalidation, SDM vol. 3,
 * 4.10.4.1), and guest page-table writes are not tracked. So the whole tree
 * is checked first (check_table): an entry whose guest entry no longer
 * holds the snapshot's value is dropped, with everything below it; what
 * stays is exactly what a walk of the guest's tables now would build (the
 * same entries read, so the same rights, A/D already set). A reload of the
 * current CR3 is checked the same way. The check reads every entry of the
 * root's tables and compares the present ones, no exit; bench/README.md
 * ("Paging") has what it saves.
 *
 * The TLB. A CR3 load drops the CPU's non-global translations (4.10.4.1).
 * Each root runs under a TLB tag of its own (shadow_tlb.c), so what the
 * CPU caches under it came from that root's entries: if the check dropped
 * none and nothing else did since the tag was last flushed (tlb_stale),
 * every translation cached under it is one the guest's tables give now,
 * and the root is taken back without a flush. Entries only added since
 * need none: a CPU caches nothing of an entry that is not present
 * (4.10.2.3, 4.10.3.1). Shadow leaves are never global (shadow_fault.c).
 */
#include "hv/shadow.h"
#include "arch/x86/mmu/shadow_int.h"
#include "hv/gmem.h"
#include "hv/vm.h"
#include "lib/string.h"

/* Guest entry bits the check reads (SDM vol. 3, 4.3 to 4.5). */
#define GPTE_ADDR 0x000ffffffffff000ULL
#define GPTE32_ADDR 0xfffff000U

enum shadow_guest_format shadow_format(const struct guest_ctx *ctx)
{
	if (!(ctx->cr0 & CR0_PG))
		return SGF_OFF;
	if (ctx->efer & EFER_LMA)
		return SGF_LONG;
	if (ctx->cr4 & CR4_PAE)
		return SGF_PAE;
	return ctx->cr4 & CR4_PSE ? SGF_32_PSE : SGF_32;
}

/* Where a shadow table's entries come from: guest entries of size bytes at
 * g (the host's view of guest memory), shadow entry i from guest entry
 * i >> shift; g NULL when from none. */
struct guest_view {
	const void *g;
	unsigned size, shift;
};

static u64 guest_entry(const struct guest_view *v, unsigned i)
{
	if (v->size == 8)
		return __atomic_load_n((const u64 *)v->g + (i >> v->shift), __ATOMIC_RELAXED);
	return __atomic_load_n((const u32 *)v->g + (i >> v->shift), __ATOMIC_RELAXED);
}

/* The guest view of the table under a shadow entry at level whose snapshot
 * is snap (derived says whether it was derived from a guest entry), index
 * i; false when the guest's table lies outside RAM (the entry must go). */
static bool view_below(const struct vm *vm, const struct shadow_root *r, int level, unsigned i,
		       bool derived, u64 snap, struct guest_view *out)
{
	u64 base = 0, len = PAGE_SIZE;

	*out = (struct guest_view){ .size = 8 };
	switch (r->format) {
	case SGF_LONG:
	case SGF_PAE:
		/* A 1 GiB PDPTE (4-level only) or a 2 MiB PDE: the whole
		 * page stands in the entry itself. */
		if (!derived || ((snap & GPTE_PS) && (level == 1 || (level == 2 && r->format == SGF_LONG))))
			return true;
		base = snap & GPTE_ADDR;
		break;
	case SGF_32:
	case SGF_32_PSE:
		out->size = 4;
		if (level == 2) { /* a quarter of the guest's PD, two shadow PDEs a guest one */
			base = (r->cr3 & GPTE32_ADDR) + i * 256 * 4;
			len = 256 * 4;
			out->shift = 1;
		} else { /* half of a guest page table, unless a 4 MiB page */
			if (!derived || (r->format == SGF_32_PSE && (snap & GPTE_PS)))
				return true;
			base = (snap & GPTE32_ADDR) + (i & 1) * 512 * 4;
			len = 512 * 4;
		}
		break;
	default:
		return true;
	}
	out->g = gmem_peek(&vm->gmem, base, len);
	return out->g != NULL;
}

/* Drops every present entry of table t (at level, n entries) whose guest
 * entry in v no longer holds its snapshot, and checks the tables below the
 * rest. */
static void check_table(struct shadow_mmu *s, const struct vm *vm, struct shadow_root *r,
			u64 *t, int level, unsigned n, const struct guest_view *v)
{
	for (unsigned i = 0; i < n; i++) {
		u64 snap = *snap_of(&t[i]);
		struct guest_view below;

		if (!(t[i] & SPTE_P))
			continue;
		if (v->g && guest_entry(v, i) != snap) {
			t[i] = 0;
			r->tlb_stale = true;
			s->stats.stale++;
			continue;
		}
		if (level == 0)
			continue;
		if (!view_below(vm, r, level, i, v->g != NULL, snap, &below)) {
			t[i] = 0;
			r->tlb_stale = true;
			s->stats.stale++;
			continue;
		}
		if (below.g) /* else nothing below stands for a guest entry */
			check_table(s, vm, r, (u64 *)(uintptr_t)(t[i] & SPTE_ADDR), level - 1, 512,
				    &below);
	}
}

/* The check of a root taken back (see the top of this file). */
static void check_root(struct shadow_mmu *s, const struct vm *vm, struct shadow_root *r)
{
	u64 *t = (u64 *)(uintptr_t)r->pa;
	struct guest_view v = { .size = 8 };

	switch (r->format) {
	case SGF_LONG:
		v.g = gmem_peek(&vm->gmem, r->cr3 & GPTE_ADDR, PAGE_SIZE);
		break;
	case SGF_PAE: /* the four PDPTEs, 32-byte aligned (SDM vol. 3, 4.4.1) */
		v.g = gmem_peek(&vm->gmem, r->cr3 & 0xffffffe0U, 32);
		break;
	case SGF_32:
	case SGF_32_PSE:
		break; /* its entries stand for no guest entry; those below do */
	default:
		return; /* the identity map depends on nothing the guest writes */
	}
	if (!v.g && r->format != SGF_32 && r->format != SGF_32_PSE) {
		memset(t, 0, PAGE_SIZE); /* CR3 outside RAM: every walk stops the VM */
		r->tlb_stale = true;
		return;
	}
	check_table(s, vm, r, t, s->levels - 1, s->levels == 4 ? 512 : 4, &v);
}

/* The roots' format follows the guest's mode: another one drops them all. */
static void match_levels(struct shadow_mmu *s, u8 format)
{
	if (levels_of(format) != s->levels) {
		s->levels = levels_of(format);
		shadow_flush(s);
	}
}

static void key_root(struct shadow_root *r, u64 cr3, u8 format)
{
	r->cr3 = cr3;
	r->format = format;
	r->keyed = true;
}

static void use_root(struct shadow_mmu *s, unsigned i)
{
	s->cur = i;
	s->root = s->roots[i].pa;
	s->roots[i].last_use = ++s->clock;
}

void shadow_load_cr3(struct shadow_mmu *s, struct vm *vm, const struct guest_ctx *ctx)
{
	u8 format = shadow_format(ctx);
	u64 cr3 = key_cr3(format, ctx->cr3);
	unsigned victim = 0;

	match_levels(s, format);
	for (unsigned i = 0; i < SHADOW_ROOTS; i++) {
		struct shadow_root *r = &s->roots[i];

		if (r->keyed && r->cr3 == cr3 && r->format == format) {
			use_root(s, i);
			check_root(s, vm, r);
			s->stats.root_hits++;
			if (!r->tlb_stale)
				s->stats.tlb_kept++;
			return;
		}
		/* The one to reuse: unkeyed before keyed, then the oldest. */
		if ((!r->keyed && s->roots[victim].keyed) ||
		    (r->keyed == s->roots[victim].keyed && r->last_use < s->roots[victim].last_use))
			victim = i;
	}
	use_root(s, victim);
	memset((void *)(uintptr_t)s->root, 0, PAGE_SIZE);
	s->roots[victim].tlb_stale = true; /* its tag may hold another CR3's translations */
	key_root(&s->roots[victim], cr3, format);
	s->stats.root_misses++;
}

void shadow_hw_regs(struct shadow_mmu *s, const struct guest_ctx *ctx, struct shadow_hw *hw)
{
	bool paging = ctx->cr0 & CR0_PG;
	u8 format = shadow_format(ctx);
	u64 cr3 = key_cr3(format, ctx->cr3);
	struct shadow_root *r = &s->roots[s->cur];

	match_levels(s, format);
	if (r->keyed && (r->cr3 != cr3 || r->format != format))
		shadow_flush(s);
	if (!r->keyed) {
		key_root(r, cr3, format);
		r->last_use = ++s->clock;
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
