/*
 * Guest page-table walk: a guest linear address to a guest-physical one, as
 * the guest's MMU would translate it, with its permission checks, so the
 * hypervisor can read the guest's code (or data) and inject the #PF the CPU
 * would raise. SDM vol. 3, chapter 4; APM vol. 2, chapter 5.
 */
#ifndef EMUL_GWALK_H
#define EMUL_GWALK_H

#include "hv/types.h"
#include "hv/guest_ctx.h"

struct vm;

/* #PF error code (SDM vol. 3, 4.7; APM vol. 2, 8.4.2). */
#define PF_ERR_P BIT(0)    /* 0: not present; 1: a protection or reserved-bit fault */
#define PF_ERR_W BIT(1)    /* the access was a write */
#define PF_ERR_U BIT(2)    /* the access was in user mode (CPL 3) */
#define PF_ERR_RSVD BIT(3) /* a reserved bit was set in a paging-structure entry */
#define PF_ERR_ID BIT(4)   /* an instruction fetch (with NX enabled or SMEP) */

/* Access flags, chosen to be the error code's bits for the same facts. */
#define GW_WRITE PF_ERR_W
#define GW_USER PF_ERR_U  /* a CPL 3 access; without it, supervisor */
#define GW_FETCH PF_ERR_ID

/*
 * Translates linear for an access (GW_* flags) in the guest's current paging
 * mode (ctx: CR0.PG, CR4.PAE/PSE/LA57/SMEP, EFER.LMA/NXE, CR3, CR0.WP).
 * Returns 0 with *gpa set; -EFAULT with the #PF error code in *pf_error (the
 * caller injects #PF with CR2 = linear); -ENOENT when a paging-structure
 * entry lies outside guest RAM (the caller stops the VM); -EINVAL for a
 * non-canonical address in long mode (a #GP, not a #PF); -ENOTSUP for 5-level
 * paging. The final gpa is not checked against RAM: it may be MMIO.
 *
 * Assumed: 1 GiB pages and PSE-36 are available. Not modelled: SMAP and
 * protection keys (they need RFLAGS.AC and PKRU, and concern data accesses,
 * not fetches); MAXPHYADDR (address bits above the guest's physical width
 * are not reserved-bit faults here: such an entry points outside RAM); the
 * A20 gate with paging off.
 */
int gwalk(const struct vm *vm, const struct guest_ctx *ctx, u64 linear, unsigned access, u64 *gpa,
	  u32 *pf_error);

/*
 * The paging-structure entries one walk read, top level first: where they
 * lie in the host and what they held. A caller that memoizes a translation
 * re-reads them to know it still holds (fetch.c). Complete for 4-level and
 * PAE paging and with paging off (no entries); not for 32-bit paging, whose
 * 4-byte entries are not recorded.
 */
struct gwalk_trace {
	const u64 *entry[4];
	u64 value[4];
	unsigned n;
	bool complete;
};

/* Whether every entry of a complete trace still holds its value: then a
 * walk of the same address, with the same CR3, controls and access, would
 * give the same result. */
static inline bool gwalk_trace_holds(const struct gwalk_trace *t)
{
	if (!t->complete)
		return false;
	for (unsigned i = 0; i < t->n; i++)
		if (__atomic_load_n(t->entry[i], __ATOMIC_RELAXED) != t->value[i])
			return false;
	return true;
}

/* gwalk(), recording the entries read in *trace (also when it faults). */
int gwalk_traced(const struct vm *vm, const struct guest_ctx *ctx, u64 linear, unsigned access,
		 u64 *gpa, u32 *pf_error, struct gwalk_trace *trace);

#endif
