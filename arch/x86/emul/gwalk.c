/*
 * Guest page-table walk in software (SDM vol. 3, 4.3 to 4.7; APM vol. 2,
 * 5.2 to 5.7).
 *
 * Accessed and dirty bits are not set. The walk serves an instruction the CPU
 * has already fetched (and, for MMIO, already translated) before the exit, so
 * the guest's own walk set them; setting them here would need atomic updates
 * of guest memory racing with the guest's own, for no gain. Each entry is
 * read once, as another vCPU may change it under us.
 *
 * This runs on every exit without NRIP (QEMU's SVM), so the 4-level walk is
 * unrolled and the first RAM region is checked inline.
 */
#include "arch/x86/emul/gwalk.h"
#include "arch/x86/emul/gmem.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
#define PTE_PS BIT(7)
#define PTE_NX BIT(63)
#define PTE_ADDR 0x000ffffffffff000ULL /* bits 51:12 */

/* Reserved in a PAE PDPTE: bits 2:1, 8:5, 63:52 (SDM vol. 3, table 4-8). */
#define PDPTE_RSVD (BIT(1) | BIT(2) | 0x1e0ULL | 0xfff0000000000000ULL)
/* Reserved in a 4-MiB PDE with PSE-36: bit 21 (table 4-4). */
#define PDE32_4M_RSVD BIT(21)
/* Reserved in a 1 GiB or 2 MiB page entry below its address: bits 29:13 or
 * 20:13 (bit 12 is PAT). */
#define LARGE_RSVD(shift) ((BIT(shift) - 1) & ~(BIT(13) - 1))

/* One walk's state: what the levels accumulate (4.6), and RAM region 0. */
struct walk {
	const struct vm *vm;
	u64 la;
	u64 rsvd;   /* reserved bits of every entry: XD without EFER.NXE */
	u64 rw_us;  /* AND of the R/W and U/S bits */
	u64 nx;     /* OR of the XD bits */
	struct gwalk_trace *trace; /* NULL, or where to record the entries read */
};

static inline void walk_init(struct walk *w, const struct vm *vm, const struct guest_ctx *ctx,
			     u64 la, struct gwalk_trace *trace)
{
	w->vm = vm;
	w->la = la;
	w->rsvd = ctx->efer & EFER_NXE ? 0 : PTE_NX;
	w->rw_us = PTE_RW | PTE_US;
	w->nx = 0;
	w->trace = trace;
}

/*
 * Reads the 8-byte entry for la in the table at gpa table, whose entries map
 * bits [shift+8 : shift]. Returns 0 with *e; 1 when it is not present or has
 * a bit of rsvd set (the caller faults); -ENOENT outside RAM.
 */
static inline __attribute__((always_inline)) int walk_read(struct walk *w, u64 table,
							   unsigned shift, u64 rsvd, u64 *e)
{
	u64 gpa = table + ((w->la >> shift) & 511) * 8;
	const u64 *p = gmem_peek(&w->vm->gmem, gpa, 8); /* 8-aligned: never across chunks */

	if (unlikely(!p))
		return -ENOENT;
	*e = __atomic_load_n(p, __ATOMIC_RELAXED);
	if (w->trace) {
		w->trace->entry[w->trace->n] = p;
		w->trace->value[w->trace->n++] = *e;
	}
	if (unlikely((*e & (PTE_P | rsvd)) != PTE_P))
		return 1;
	w->rw_us &= *e;
	w->nx |= *e;
	return 0;
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

/* walk_read's 1: a not-present entry, or a reserved bit in a present one. */
static int entry_fault(const struct guest_ctx *ctx, unsigned access, u64 e, u32 *pf_error)
{
	return fault(ctx, access, e & PTE_P ? PF_ERR_P | PF_ERR_RSVD : 0, pf_error);
}

/* Access rights of the whole walk (SDM vol. 3, 4.6). */
static inline int check_access(const struct guest_ctx *ctx, unsigned access, u64 rw_us, u64 nx,
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
 * The page directory and page table levels, shared by 4-level and PAE
 * paging (tables 4-17 to 4-20; 4-9 to 4-11): a 2 MiB page or a 4 KiB one.
 */
static inline __attribute__((always_inline)) int walk_pd(struct walk *w,
							 const struct guest_ctx *ctx,
							 unsigned access, u64 pd, u64 *gpa,
							 u32 *pf_error)
{
	u64 e, page;
	int r;

	r = walk_read(w, pd, 21, w->rsvd, &e);
	if (unlikely(r))
		return r < 0 ? r : entry_fault(ctx, access, e, pf_error);
	if (e & PTE_PS) {
		if (unlikely(e & LARGE_RSVD(21)))
			return fault(ctx, access, PF_ERR_P | PF_ERR_RSVD, pf_error);
		page = SZ_2M - 1;
	} else {
		r = walk_read(w, e & PTE_ADDR, 12, w->rsvd, &e);
		if (unlikely(r))
			return r < 0 ? r : entry_fault(ctx, access, e, pf_error);
		page = PAGE_SIZE - 1;
	}
	*gpa = (e & PTE_ADDR & ~page) | (w->la & page);
	return check_access(ctx, access, w->rw_us, w->nx, pf_error);
}

/* 4-level paging (4.5): PML4, PDPT (1 GiB pages), then walk_pd. */
static inline __attribute__((always_inline)) int walk_long(const struct vm *vm,
							   const struct guest_ctx *ctx, u64 la,
							   unsigned access, u64 *gpa,
							   u32 *pf_error,
							   struct gwalk_trace *trace)
{
	struct walk w;
	u64 e;
	int r;

	if (unlikely(ctx->cr4 & CR4_LA57))
		return -ENOTSUP;
	if (unlikely((u64)((s64)(la << 16) >> 16) != la))
		return -EINVAL; /* non-canonical: #GP, not #PF */
	walk_init(&w, vm, ctx, la, trace);
	/* PS is reserved in a PML4E. */
	r = walk_read(&w, ctx->cr3 & PTE_ADDR, 39, w.rsvd | PTE_PS, &e);
	if (unlikely(r))
		return r < 0 ? r : entry_fault(ctx, access, e, pf_error);
	r = walk_read(&w, e & PTE_ADDR, 30, w.rsvd, &e);
	if (unlikely(r))
		return r < 0 ? r : entry_fault(ctx, access, e, pf_error);
	if (unlikely(e & PTE_PS)) {
		if (e & LARGE_RSVD(30))
			return fault(ctx, access, PF_ERR_P | PF_ERR_RSVD, pf_error);
		*gpa = (e & PTE_ADDR & ~(SZ_1G - 1)) | (la & (SZ_1G - 1));
		return check_access(ctx, access, w.rw_us, w.nx, pf_error);
	}
	return walk_pd(&w, ctx, access, e & PTE_ADDR, gpa, pf_error);
}

/* PAE paging (4.4): four PDPTEs at CR3[31:5], read from memory on each walk;
 * they carry no access rights. */
static __attribute__((noinline)) int walk_pae(const struct vm *vm, const struct guest_ctx *ctx,
					       u32 la, unsigned access, u64 *gpa, u32 *pf_error,
					       struct gwalk_trace *trace)
{
	struct walk w;
	u64 e;
	int r;

	walk_init(&w, vm, ctx, la, trace);
	r = walk_read(&w, ctx->cr3 & 0xffffffe0, 30, PDPTE_RSVD, &e);
	if (unlikely(r))
		return r < 0 ? r : entry_fault(ctx, access, e, pf_error);
	w.rw_us = PTE_RW | PTE_US;
	w.nx = 0;
	return walk_pd(&w, ctx, access, e & PTE_ADDR, gpa, pf_error);
}

static bool read_pte32(const struct vm *vm, u64 gpa, u32 *e)
{
	const u32 *p = emul_gpa_ptr(vm, gpa, 4);

	if (!p)
		return false;
	*e = __atomic_load_n(p, __ATOMIC_RELAXED);
	return true;
}

/* 32-bit paging (4.3): 4-byte entries; 4 MiB pages with CR4.PSE (PSE-36). */
static __attribute__((noinline)) int walk32(const struct vm *vm, const struct guest_ctx *ctx,
					     u32 la, unsigned access, u64 *gpa, u32 *pf_error)
{
	u32 pde, pte;

	if (!read_pte32(vm, (ctx->cr3 & 0xfffff000) + (la >> 22) * 4, &pde))
		return -ENOENT;
	if (!(pde & PTE_P))
		return fault(ctx, access, 0, pf_error);
	if ((pde & PTE_PS) && (ctx->cr4 & CR4_PSE)) {
		if (pde & PDE32_4M_RSVD)
			return fault(ctx, access, PF_ERR_P | PF_ERR_RSVD, pf_error);
		/* Bits 31:22 from PDE[31:22], bits 39:32 from PDE[20:13]. */
		*gpa = (pde & 0xffc00000) | (u64)((pde >> 13) & 0xff) << 32 | (la & 0x3fffff);
		return check_access(ctx, access, pde, 0, pf_error);
	}
	if (!read_pte32(vm, (pde & 0xfffff000) + ((la >> 12) & 0x3ff) * 4, &pte))
		return -ENOENT;
	if (!(pte & PTE_P))
		return fault(ctx, access, 0, pf_error);
	*gpa = (pte & 0xfffff000) | (la & 0xfff);
	return check_access(ctx, access, pde & pte, 0, pf_error);
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
