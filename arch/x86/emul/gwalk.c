/*
 * Guest page-table walk in software (SDM vol. 3, 4.3 to 4.7; APM vol. 2,
 * 5.2 to 5.7), through the descent core shared with the hypervisor's own
 * tables (arch/x86/pt_walk.h). The core finds and reads one entry per level;
 * what a guest MMU adds is here: reserved bits, the rights the levels
 * accumulate, the page's address and the #PF error code.
 *
 * Accessed and dirty bits are not set. The walk serves an instruction the CPU
 * has already fetched (and, for MMIO, already translated) before the exit, so
 * the guest's own walk set them; setting them here would need atomic updates
 * of guest memory racing with the guest's own, for no gain. Each entry is
 * read once, as another vCPU may change it under us.
 *
 * This runs on every exit without NRIP (QEMU's SVM) that misses the fetch
 * cache, so the 4-level walk is the core specialized for one constant
 * format: unrolled, with the RAM look-up inline.
 */
#include "arch/x86/emul/gwalk.h"
#include "arch/x86/emul/gmem.h"
#include "arch/x86/pt_walk.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
#define PTE_PS BIT(7)
#define PTE_NX BIT(63)
#define PTE_ADDR 0x000ffffffffff000ULL /* bits 51:12 */
#define PTE32_ADDR 0xfffff000U           /* bits 31:12 of a 4-byte entry */

/*
 * Reserved in a PAE PDPTE: bits 2:1, 8:5, 63:52 (SDM vol. 3, table 4-8),
 * but bit 5 is not held against it here. On an AMD CPU the PDPEs are
 * walked like the other levels, and QEMU 7.2's TCG sets the accessed bit
 * (5) in them as it walks a 32-bit PAE guest's tables: this walk (the
 * emulator's fetches and operands) then stopped such a guest at a decoded
 * exit with paging on (the highmem guest, now and then, after a host
 * interrupt had QEMU walk again). An Intel CPU refuses the bit when it
 * loads the PDPTEs at the CR3 write, before any walk of ours.
 */
#define PDPTE_RSVD (BIT(1) | BIT(2) | 0x1c0ULL | 0xfff0000000000000ULL)
/* Reserved in a 4-MiB PDE with PSE-36: bit 21 (table 4-4). */
#define PDE32_4M_RSVD BIT(21)
/* Reserved in a 1 GiB or 2 MiB page entry below its address: bits 29:13 or
 * 20:13 (bit 12 is PAT). */
#define LARGE_RSVD(shift) ((BIT(shift) - 1) & ~(BIT(13) - 1))

/* The guest's formats. Only the walk's fields: the hypervisor builds none. */
#define GUEST_BITS .present = PTE_P, .ps = PTE_PS
/* 4-level paging (4.5): PML4, PDPT (1 GiB pages), PD (2 MiB), PT. */
static const struct pt_format fmt_long = { PT_SHAPE_4LEVEL, GUEST_BITS };
/* PAE paging (4.4): four PDPTEs at CR3[31:5] (the top level: a 32-bit
 * address indexes only them), then PD (2 MiB pages) and PT. */
static const struct pt_format fmt_pae = {
	.levels = 3, .entry_size = 8, .index_bits = 9, .large_levels = BIT(1),
	.addr = PTE_ADDR, GUEST_BITS,
};
/* 32-bit paging (4.3): 1024 4-byte entries a table; 4 MiB pages only with
 * CR4.PSE (without it PS is ignored). */
static const struct pt_format fmt_32 = {
	.levels = 2, .entry_size = 4, .index_bits = 10, .large_levels = 0,
	.addr = PTE32_ADDR, GUEST_BITS,
};
static const struct pt_format fmt_32_pse = {
	.levels = 2, .entry_size = 4, .index_bits = 10, .large_levels = BIT(1),
	.addr = PTE32_ADDR, GUEST_BITS,
};

/* One walk's state: what the levels accumulate (4.6). */
struct walk {
	const struct vm *vm;
	u64 rsvd;   /* reserved bits of every entry: XD without EFER.NXE */
	u64 rw_us;  /* AND of the R/W and U/S bits */
	u64 nx;     /* OR of the XD bits */
	struct gwalk_trace *trace; /* NULL, or where to record the entries read */
};

static inline void walk_init(struct walk *w, const struct vm *vm, const struct guest_ctx *ctx,
			     struct gwalk_trace *trace)
{
	w->vm = vm;
	w->rsvd = ctx->efer & EFER_NXE ? 0 : PTE_NX;
	w->rw_us = PTE_RW | PTE_US;
	w->nx = 0;
	w->trace = trace;
}

/*
 * Guest tables through the checked RAM look-up: NULL outside RAM. An entry
 * is size-aligned, so never across chunks. Only read: the const goes away
 * because the core's visitors may write (the builder's do).
 */
static inline __attribute__((always_inline)) void *guest_map(void *w, u64 pa, unsigned size)
{
	return (void *)gmem_peek(&((struct walk *)w)->vm->gmem, pa, size);
}

/* An 8-byte entry into the trace (4-byte ones are not recorded: the trace
 * holds u64 slots, and the fetch cache serves 64-bit mode only). */
static inline __attribute__((always_inline)) void record(struct walk *w, void *entry, u64 e)
{
	if (w->trace) {
		w->trace->entry[w->trace->n] = entry;
		w->trace->value[w->trace->n++] = e;
	}
}

/*
 * A present entry without a bit of rsvd adds its rights to the walk's (4.6);
 * else 1: the walk faults on it (entry_fault).
 */
static inline __attribute__((always_inline)) int take(struct walk *w, u64 e, u64 rsvd)
{
	if (unlikely((e & (PTE_P | rsvd)) != PTE_P))
		return 1;
	if (!(e & PTE_P))
		__builtin_unreachable(); /* said for the compiler: the core need not test P again */
	w->rw_us &= e;
	w->nx |= e;
	return 0;
}

/* PS is reserved in a PML4E (table 4-15). */
static inline __attribute__((always_inline)) int visit_long(void *v, int level, void *entry,
							    u64 *e)
{
	struct walk *w = v;

	record(w, entry, *e);
	return take(w, *e, level == 3 ? w->rsvd | PTE_PS : w->rsvd);
}

/* PDPTEs have reserved bits of their own and carry no rights (table 4-8). */
static inline __attribute__((always_inline)) int visit_pae(void *v, int level, void *entry,
							   u64 *e)
{
	struct walk *w = v;

	record(w, entry, *e);
	if (level == 2)
		return (*e & (PTE_P | PDPTE_RSVD)) != PTE_P;
	return take(w, *e, w->rsvd);
}

/* 4-byte entries: no XD bit, so no reserved bit but the 4 MiB page's. */
static inline __attribute__((always_inline)) int visit_32(void *v, int level, void *entry,
							  u64 *e)
{
	return take(v, *e, 0);
}

/* The #PF error code for this access plus bits (P, RSVD) (SDM vol. 3, 4.7). */
static int fault(const struct guest_ctx *ctx, unsigned access, u32 bits, u32 *pf_error)
{
	u32 code = bits | (access & (PF_ERR_W | PF_ERR_U));

	/* I/D is reported only with SMEP, or with PAE/4-level paging and NXE. */
	if ((access & GW_FETCH) &&
	    ((ctx->cr4 & CR4_SMEP) || ((ctx->cr4 & CR4_PAE) && (ctx->efer & EFER_NXE))))
		code |= PF_ERR_ID;
	*pf_error = code;
	return -EFAULT;
}

/* What the descent's nonzero return means: -ENOENT (a table outside RAM)
 * as it is; else the entry it stopped at was not present (P = 0) or had a
 * reserved bit set. */
static int entry_fault(const struct guest_ctx *ctx, unsigned access, int r, u64 e,
		       u32 *pf_error)
{
	if (r < 0)
		return r;
	return fault(ctx, access, e & PTE_P ? PF_ERR_P | PF_ERR_RSVD : 0, pf_error);
}

/* Access rights of the whole walk (SDM vol. 3, 4.6). */
static inline __attribute__((always_inline)) int check_access(const struct guest_ctx *ctx,
							      unsigned access, u64 rw_us, u64 nx,
							      u32 *pf_error)
{
	bool user_page = rw_us & PTE_US, writable = rw_us & PTE_RW;

	if (access & GW_USER) {
		if (!user_page || ((access & GW_WRITE) && !writable))
			return fault(ctx, access, PF_ERR_P, pf_error);
	} else {
		/* Supervisor writes ignore R/W unless CR0.WP; SMEP forbids
		 * supervisor fetches from user pages. */
		if ((access & GW_WRITE) && !writable && (ctx->cr0 & CR0_WP))
			return fault(ctx, access, PF_ERR_P, pf_error);
		if ((access & GW_FETCH) && user_page && (ctx->cr4 & CR4_SMEP))
			return fault(ctx, access, PF_ERR_P, pf_error);
	}
	/* With NXE clear, XD was a reserved bit and has faulted already. */
	if ((access & GW_FETCH) && (nx & PTE_NX))
		return fault(ctx, access, PF_ERR_P, pf_error);
	return 0;
}

/*
 * The end of a 4-level or PAE walk, at the leaf c: a 1 GiB (level 2),
 * 2 MiB (1) or 4 KiB (0) page (tables 4-9 to 4-11; 4-16 to 4-20).
 */
static inline __attribute__((always_inline)) int leaf(const struct walk *w,
						      const struct guest_ctx *ctx,
						      const struct pt_cursor *c, u64 la,
						      unsigned access, u64 *gpa, u32 *pf_error)
{
	unsigned shift = 12 + 9 * c->level;
	u64 page = BIT(shift) - 1;

	if (c->level && unlikely(c->value & LARGE_RSVD(shift)))
		return fault(ctx, access, PF_ERR_P | PF_ERR_RSVD, pf_error);
	*gpa = (c->value & PTE_ADDR & ~page) | (la & page);
	return check_access(ctx, access, w->rw_us, w->nx, pf_error);
}

/* 4-level paging (4.5). */
static inline __attribute__((always_inline)) int walk_long(const struct vm *vm,
							   const struct guest_ctx *ctx, u64 la,
							   unsigned access, u64 *gpa,
							   u32 *pf_error,
							   struct gwalk_trace *trace)
{
	struct pt_cursor c;
	struct walk w;
	int r;

	if (unlikely(ctx->cr4 & CR4_LA57))
		return -ENOTSUP;
	if (unlikely((u64)((s64)(la << 16) >> 16) != la))
		return -EINVAL; /* non-canonical: #GP, not #PF */
	walk_init(&w, vm, ctx, trace);
	r = pt_descend(&fmt_long, ctx->cr3 & PTE_ADDR, la, 0, &w, guest_map, visit_long, &c);
	if (unlikely(r))
		return entry_fault(ctx, access, r, c.value, pf_error);
	return leaf(&w, ctx, &c, la, access, gpa, pf_error);
}

/* PAE paging (4.4): the PDPTEs are read from memory on each walk. */
static __attribute__((noinline)) int walk_pae(const struct vm *vm, const struct guest_ctx *ctx,
					       u32 la, unsigned access, u64 *gpa, u32 *pf_error,
					       struct gwalk_trace *trace)
{
	struct pt_cursor c;
	struct walk w;
	int r;

	walk_init(&w, vm, ctx, trace);
	r = pt_descend(&fmt_pae, ctx->cr3 & 0xffffffe0, la, 0, &w, guest_map, visit_pae, &c);
	if (unlikely(r))
		return entry_fault(ctx, access, r, c.value, pf_error);
	return leaf(&w, ctx, &c, la, access, gpa, pf_error);
}

/* 32-bit paging (4.3): 4-byte entries; 4 MiB pages with CR4.PSE (PSE-36). */
static __attribute__((noinline)) int walk32(const struct vm *vm, const struct guest_ctx *ctx,
					     u32 la, unsigned access, u64 *gpa, u32 *pf_error)
{
	u64 root = ctx->cr3 & PTE32_ADDR;
	struct pt_cursor c;
	struct walk w;
	int r;

	walk_init(&w, vm, ctx, NULL);
	/* Two calls, each with a constant format, so that both unroll. */
	if (ctx->cr4 & CR4_PSE)
		r = pt_descend(&fmt_32_pse, root, la, 0, &w, guest_map, visit_32, &c);
	else
		r = pt_descend(&fmt_32, root, la, 0, &w, guest_map, visit_32, &c);
	if (unlikely(r))
		return entry_fault(ctx, access, r, c.value, pf_error);
	if (c.level) {
		if (c.value & PDE32_4M_RSVD)
			return fault(ctx, access, PF_ERR_P | PF_ERR_RSVD, pf_error);
		/* Bits 31:22 from PDE[31:22], bits 39:32 from PDE[20:13]. */
		*gpa = (c.value & 0xffc00000) | ((c.value >> 13) & 0xff) << 32 | (la & 0x3fffff);
	} else {
		*gpa = (c.value & PTE32_ADDR) | (la & 0xfff);
	}
	return check_access(ctx, access, w.rw_us, w.nx, pf_error);
}

/* The walk for the paging mode of ctx; walk_long() inlined, for the fast path. */
static inline __attribute__((always_inline)) int walk(const struct vm *vm,
						      const struct guest_ctx *ctx, u64 linear,
						      unsigned access, u64 *gpa, u32 *pf_error,
						      struct gwalk_trace *trace)
{
	if (likely((ctx->efer & EFER_LMA) && (ctx->cr0 & CR0_PG)))
		return walk_long(vm, ctx, linear, access, gpa, pf_error, trace);
	if (!(ctx->cr0 & CR0_PG)) {
		/* Linear is physical; outside long mode addresses are 32 bits. */
		*gpa = (u32)linear;
		return 0;
	}
	if (ctx->cr4 & CR4_PAE)
		return walk_pae(vm, ctx, linear, access, gpa, pf_error, trace);
	if (trace)
		trace->complete = false; /* 4-byte entries: not recorded */
	return walk32(vm, ctx, linear, access, gpa, pf_error);
}

int gwalk(const struct vm *vm, const struct guest_ctx *ctx, u64 linear, unsigned access, u64 *gpa,
	  u32 *pf_error)
{
	return walk(vm, ctx, linear, access, gpa, pf_error, NULL);
}

int gwalk_traced(const struct vm *vm, const struct guest_ctx *ctx, u64 linear, unsigned access,
		 u64 *gpa, u32 *pf_error, struct gwalk_trace *trace)
{
	trace->n = 0;
	trace->complete = true;
	return walk(vm, ctx, linear, access, gpa, pf_error, trace);
}
