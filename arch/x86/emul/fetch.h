/*
 * Fetching the trapped instruction from guest memory: its linear address
 * from CS and RIP, translated by the guest's paging (gwalk), up to 15 bytes
 * across at most one page boundary; and fetch + decode in one call, which is
 * what the exit dispatcher needs when the CPU gave no instruction length.
 */
#ifndef EMUL_FETCH_H
#define EMUL_FETCH_H

#include "hv/types.h"
#include "hv/guest_ctx.h"
#include "arch/x86/emul/decode.h"
#include "arch/x86/emul/gwalk.h"

struct vm;

/* The linear address of rip: CS.base + RIP outside 64-bit mode (32 bits, the
 * base as the CPU holds it, also in real mode), RIP itself in 64-bit mode
 * where the CS base is ignored (SDM vol. 3, 3.4.4). */
static inline u64 insn_linear_rip(const struct guest_ctx *ctx, u64 rip)
{
	if ((ctx->efer & EFER_LMA) && (ctx->cs.attr & SEG_ATTR_L))
		return rip;
	return (u32)(ctx->cs.base + rip);
}

/* The gwalk access flags of an instruction fetch at the guest's CPL. */
static inline unsigned insn_fetch_access(const struct guest_ctx *ctx)
{
	return GW_FETCH | (ctx->cpl == 3 ? GW_USER : 0);
}

/*
 * Copies up to 15 bytes of the instruction at rip into buf. *got is 15, or
 * fewer when the bytes run into a page that does not translate to guest RAM
 * (the decoder then says whether the instruction needed them). Returns 0, or
 * the gwalk error for the first byte (-EFAULT: a #PF at the linear address
 * of rip; -ENOENT: its page tables or the page itself lie outside RAM;
 * -EINVAL: non-canonical). Segment limits are not checked: the CPU fetched
 * the instruction before it trapped.
 */
int insn_fetch(const struct vm *vm, const struct guest_ctx *ctx, u64 rip, u8 *buf, size_t *got);

/*
 * Fetches and decodes the instruction at rip in the mode of ctx and rflags.
 * Returns 0; the insn_decode errors; or the fetch errors above, for the page
 * of the first byte or, when the instruction runs into the next page, of
 * that one. On -EFAULT *pf_error holds the #PF error code and out->len the
 * offset of the faulting page from rip (0, or where the second page starts),
 * so CR2 = insn_linear_rip(ctx, rip) + out->len (32 bits outside long mode).
 */
int insn_fetch_decode(const struct vm *vm, const struct guest_ctx *ctx, u64 rip, u64 rflags,
		      struct insn *out, u32 *pf_error);

/*
 * A vCPU's memo of its last instruction-fetch translation in 64-bit mode, so
 * that the exit path need not walk four levels of page tables each time. It
 * keeps the entries the walk read with their values; a hit re-reads them and
 * compares, and requires the same CR3, CR0, CR4, EFER and CPL, so it is
 * exact: a guest that changed its page tables (it may, without an exit,
 * under nested paging) misses and walks again. One per vCPU, zeroed (empty)
 * at start, used only by the CPU running the vCPU, never copied (unused
 * trace slots point into it); valid while the VM's RAM stays where it is.
 */
struct insn_fetch_cache {
	const u8 *hva;      /* the code page in the host; NULL: empty */
	u64 page;           /* its linear page number */
	u64 cr3, cr0, cr4, efer;
	u8 cpl;
	struct gwalk_trace trace;
};

/* Whether the cached translation still holds: the same paging controls and
 * every paging-structure entry of its walk unchanged. */
static inline bool insn_fetch_cache_holds(const struct insn_fetch_cache *c, const struct guest_ctx *ctx)
{
	const struct gwalk_trace *t = &c->trace;
	u64 diff = 0;

#pragma GCC unroll 4
	for (unsigned i = 0; i < ARRAY_SIZE(t->entry); i++)
		diff |= __atomic_load_n(t->entry[i], __ATOMIC_RELAXED) ^ t->value[i];
	return !diff && c->cr3 == ctx->cr3 && c->cr0 == ctx->cr0 && c->cr4 == ctx->cr4 &&
	       c->efer == ctx->efer && c->cpl == ctx->cpl;
}

/* The bytes at rip (at least 15 readable) from the cached code page, when
 * the cache holds for ctx in 64-bit mode; NULL otherwise. The dispatcher
 * checks them against the one instruction an exit implies before decoding.
 * Inline: this is the hot path of every exit without NRIP save. */
static inline const u8 *insn_fetch_peek_cached(const struct insn_fetch_cache *cache,
					       const struct guest_ctx *ctx, u64 rip)
{
	const u64 off = rip & (PAGE_SIZE - 1);

	if (likely((ctx->efer & EFER_LMA) && (ctx->cs.attr & SEG_ATTR_L) &&
		   off <= PAGE_SIZE - INSN_MAX_LEN && cache->hva &&
		   cache->page == rip >> PAGE_SHIFT && insn_fetch_cache_holds(cache, ctx)))
		return cache->hva + off;
	return NULL;
}

/* insn_fetch_decode() through cache (outside 64-bit mode, or across a page,
 * the same as insn_fetch_decode()). */
int insn_fetch_decode_cached(const struct vm *vm, const struct guest_ctx *ctx, u64 rip, u64 rflags,
			     struct insn_fetch_cache *cache, struct insn *out, u32 *pf_error);

#endif
