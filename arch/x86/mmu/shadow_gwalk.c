/*
 * The guest's page walk as the shadow builder needs it (SDM vol. 3, 4.3 to
 * 4.8; APM vol. 2, 5.2 to 5.7): the same rights and reserved bits as the
 * emulator's walk (arch/x86/emul/gwalk.c), and besides what a TLB entry
 * holds (the rights, the leaf's dirty bit and cache bits, the page size),
 * and the accessed and dirty bits set in guest memory as the CPU sets them.
 *
 * The entries are read once each through the shared descent
 * (arch/x86/pt_walk.h); A and D are then set with a compare-and-exchange
 * against what was read (SDM vol. 3, 4.8: the CPU sets them with locked
 * operations), so an entry another vCPU changed meanwhile is not touched:
 * the walk is reported -EAGAIN and the access faults again. Bits are set
 * only for an access the walk allows; a faulting walk leaves memory as it
 * was (hardware may set A bits then too; no guest relies on it).
 */
#include "hv/shadow.h"
#include "arch/x86/emul/gwalk.h"
#include "arch/x86/pt_walk.h"
#include "hv/gmem.h"
#include "hv/vm.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_PAT4K BIT(7)    /* in a 4 KiB leaf */
#define PTE_PATLARGE BIT(12) /* in a 2 MiB, 4 MiB or 1 GiB leaf */
#define PTE_NX BIT(63)
#define PTE_ADDR 0x000ffffffffff000ULL
#define PTE32_ADDR 0xfffff000U

/* Reserved in a PAE PDPTE: bits 2:1, 8:5, 63:52 (SDM vol. 3, table 4-8). */
#define PDPTE_RSVD (BIT(1) | BIT(2) | 0x1e0ULL | 0xfff0000000000000ULL)
#define PDE32_4M_RSVD BIT(21)
#define LARGE_RSVD(shift) ((BIT(shift) - 1) & ~(BIT(13) - 1))

#define GUEST_BITS .present = PTE_P, .ps = PTE_PS
static const struct pt_format fmt_long = { PT_SHAPE_4LEVEL, GUEST_BITS };
static const struct pt_format fmt_pae = {
	.levels = 3, .entry_size = 8, .index_bits = 9, .large_levels = BIT(1),
	.addr = PTE_ADDR, GUEST_BITS,
};
static const struct pt_format fmt_32 = {
	.levels = 2, .entry_size = 4, .index_bits = 10, .large_levels = 0,
	.addr = PTE32_ADDR, GUEST_BITS,
};
static const struct pt_format fmt_32_pse = {
	.levels = 2, .entry_size = 4, .index_bits = 10, .large_levels = BIT(1),
	.addr = PTE32_ADDR, GUEST_BITS,
};

struct sw_walk {
	struct vm *vm;
	bool pae;        /* PAE: the PDPTEs (level 2) have no A bit nor rights */
	u64 rsvd;        /* reserved in every entry: XD without EFER.NXE */
	u64 rw_us;
	u64 nx;
	unsigned n;      /* entries read so far */
	u64 gpa[4];      /* where each lies, guest-physical */
	void *host[4];   /* ... and in the host */
	u64 value[4];
	u8 size;         /* 4 or 8 */
	bool bad;        /* a reserved bit (the visit's refusal) */
};

static void *sw_map(void *p, u64 pa, unsigned size)
{
	struct sw_walk *w = p;

	if (w->n < 4)
		w->gpa[w->n] = pa;
	return (void *)gmem_peek(&w->vm->gmem, pa, size);
}

static int sw_visit(void *p, int level, void *entry, u64 *e)
{
	struct sw_walk *w = p;
	unsigned i = w->n++;
	u64 rsvd = w->rsvd;

	w->host[i] = entry;
	w->value[i] = *e;
	if (!(*e & PTE_P))
		return 1;
	if (w->pae && level == 2) {
		if (*e & PDPTE_RSVD) {
			w->bad = true;
			return 1;
		}
		return 0;
	}
	if (w->size == 8 && !w->pae && level == 3)
		rsvd |= PTE_PS; /* PS is reserved in a PML4E (table 4-15) */
	if (w->size == 4)
		rsvd = 0;
	if (*e & rsvd) {
		w->bad = true;
		return 1;
	}
	w->rw_us &= *e;
	w->nx |= *e;
	return 0;
}

static int fault(const struct guest_ctx *ctx, unsigned access, u32 bits, u32 *pf_error)
{
	u32 code = bits | (access & (PF_ERR_W | PF_ERR_U));

	if ((access & GW_FETCH) &&
	    ((ctx->cr4 & CR4_SMEP) || ((ctx->cr4 & CR4_PAE) && (ctx->efer & EFER_NXE))))
		code |= PF_ERR_ID;
	*pf_error = code;
	return -EFAULT;
}

/* Rights of the whole walk (SDM vol. 3, 4.6). */
static int check_access(const struct guest_ctx *ctx, unsigned access, bool writable, bool user,
			bool nx, u32 *pf_error)
{
	if (access & GW_USER) {
		if (!user || ((access & GW_WRITE) && !writable))
			return fault(ctx, access, PF_ERR_P, pf_error);
	} else {
		if ((access & GW_WRITE) && !writable && (ctx->cr0 & CR0_WP))
			return fault(ctx, access, PF_ERR_P, pf_error);
		if ((access & GW_FETCH) && user && (ctx->cr4 & CR4_SMEP))
			return fault(ctx, access, PF_ERR_P, pf_error);
	}
	if ((access & GW_FETCH) && nx)
		return fault(ctx, access, PF_ERR_P, pf_error);
	return 0;
}

/* Sets bits in entry i unless it changed since it was read; marks the
 * page dirty, as every write the CPU makes for the guest is. */
static bool set_bits(struct sw_walk *w, unsigned i, u64 bits)
{
	u64 old = w->value[i];

	if ((old & bits) == bits)
		return true;
	if (w->size == 8) {
		if (!__atomic_compare_exchange_n((u64 *)w->host[i], &old, old | bits, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			return false;
	} else {
		u32 o32 = (u32)old;

		if (!__atomic_compare_exchange_n((u32 *)w->host[i], &o32, o32 | (u32)bits, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			return false;
	}
	w->value[i] |= bits;
	gmem_mark_dirty(w->vm, w->gpa[i], w->size);
	return true;
}

int shadow_gwalk(struct vm *vm, const struct guest_ctx *ctx, u64 la, unsigned access,
		 struct shadow_gpte *g, u32 *pf_error, u64 *bad)
{
	const struct pt_format *f;
	struct pt_cursor c;
	struct sw_walk w = { .vm = vm, .rw_us = PTE_RW | PTE_US, .size = 8 };
	u64 root, e, page;
	unsigned shift;
	int r;

	if (!(ctx->cr0 & CR0_PG)) {
		/* Paging off: linear is physical, 32 bits outside long mode. */
		*g = (struct shadow_gpte){ .gpa = (u32)la, .write = true, .user = true,
					   .dirty = true, .page_shift = 32,
					   .walked = { .format = SGF_OFF } };
		return 0;
	}
	w.rsvd = ctx->efer & EFER_NXE ? 0 : PTE_NX;
	if (ctx->efer & EFER_LMA) {
		if (ctx->cr4 & CR4_LA57)
			return -ENOTSUP;
		if ((u64)((s64)(la << 16) >> 16) != la)
			return -EINVAL;
		f = &fmt_long;
		root = ctx->cr3 & PTE_ADDR;
	} else if (ctx->cr4 & CR4_PAE) {
		la = (u32)la;
		f = &fmt_pae;
		w.pae = true;
		root = ctx->cr3 & 0xffffffe0;
	} else {
		la = (u32)la;
		f = ctx->cr4 & CR4_PSE ? &fmt_32_pse : &fmt_32;
		w.size = 4;
		root = ctx->cr3 & PTE32_ADDR;
	}
	r = pt_descend(f, root, la, 0, &w, sw_map, sw_visit, &c);
	if (r < 0) {
		*bad = w.gpa[w.n];
		return r;
	}
	if (r)
		return fault(ctx, access, w.bad ? PF_ERR_P | PF_ERR_RSVD : 0, pf_error);
	e = c.value;
	shift = 12 + f->index_bits * (unsigned)c.level;
	page = BIT(shift) - 1;
	if (w.size == 4 && c.level) {
		if (e & PDE32_4M_RSVD)
			return fault(ctx, access, PF_ERR_P | PF_ERR_RSVD, pf_error);
		/* Bits 31:22 from PDE[31:22], 39:32 from PDE[20:13] (PSE-36). */
		g->gpa = (e & 0xffc00000) | ((e >> 13) & 0xff) << 32 | (la & page);
	} else if (c.level) {
		if (e & LARGE_RSVD(shift))
			return fault(ctx, access, PF_ERR_P | PF_ERR_RSVD, pf_error);
		g->gpa = (e & PTE_ADDR & ~page) | (la & page);
	} else {
		g->gpa = (e & f->addr) | (la & page);
	}
	g->write = w.rw_us & PTE_RW;
	g->user = w.rw_us & PTE_US;
	g->nx = w.nx & PTE_NX;
	r = check_access(ctx, access, g->write, g->user, g->nx, pf_error);
	if (r)
		return r;
	/* Accessed in every entry used, top down; dirty in the leaf on a
	 * write (SDM vol. 3, 4.8). PAE PDPTEs have neither. */
	for (unsigned i = 0; i < w.n; i++) {
		u64 bits = PTE_A;

		if (w.pae && i == 0)
			continue;
		if (i == w.n - 1 && (access & GW_WRITE))
			bits |= PTE_D;
		if (!set_bits(&w, i, bits))
			return -EAGAIN;
	}
	g->dirty = w.value[w.n - 1] & PTE_D;
	g->cache = e & (PTE_PWT | PTE_PCD);
	if (c.level ? (e & PTE_PATLARGE) : (e & PTE_PAT4K))
		g->cache |= PTE_PAT4K;
	g->page_shift = (u8)shift;
	g->walked.format = (u8)shadow_format(ctx);
	g->walked.n = (u8)w.n;
	for (unsigned i = 0; i < w.n; i++)
		g->walked.entry[i] = w.value[i];
	return 0;
}
