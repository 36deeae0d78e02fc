/*
 * A #PF through the shadow tables (the #PF intercept, APM vol. 2, 15.12):
 * the guest's walk decides. Where it allows the access, the 4 KiB shadow
 * leaf is written with the rights a TLB entry would hold and the guest
 * resumes; where it forbids it, the guest gets its own #PF; an address
 * outside RAM is left unmapped and emulated (MMIO, or nothing there), as a
 * nested page fault would be.
 *
 * The leaf is writable only when the guest's walk allows writes, its D bit
 * is set (so the first write after a read faults here and sets it, as the
 * CPU would: SDM vol. 3, 4.8) and the VM's dirty log has this page marked
 * (shadow_gmem_writable). With CR0.WP clear the CPU lets the supervisor
 * write read-only pages; the guest runs with WP set (shadow_hw_regs), and
 * such a write gets a writable supervisor-only leaf instead, so a user
 * access to the page faults again and gets the user's view back.
 */
#include "hv/shadow.h"
#include "arch/x86/mmu/shadow_int.h"
#include "arch/x86/emul/gwalk.h"
#include "hv/gmem.h"
#include "hv/vm.h"

#define SPTE_P BIT(0)
#define SPTE_RW BIT(1)
#define SPTE_US BIT(2)
#define SPTE_A BIT(5)
#define SPTE_D BIT(6)
#define SPTE_NX BIT(63)

/* A walk that raced with another vCPU's change of an entry is tried again
 * this often, then the access is simply retried by the guest. */
#define WALK_TRIES 4

/* The host address of gpa, which lies in RAM: its 2 MiB chunk's. */
static u64 ram_hpa(const struct vm *vm, u64 gpa)
{
	return vm->gmem.chunks[gpa >> GMEM_CHUNK_SHIFT] + (gpa & (GMEM_CHUNK - 1));
}

void shadow_page_fault(struct shadow_mmu *s, struct vm *vm, const struct guest_ctx *ctx,
		       u64 la, u32 hw_error, struct shadow_fault *out)
{
	unsigned access = hw_error & (GW_WRITE | GW_USER | GW_FETCH);
	struct shadow_gpte g;
	u64 bad = 0, page, leaf;
	bool user, write;
	int r = -EAGAIN;

	/* Without NX or SMEP the CPU does not say a fetch was one: it is
	 * walked as a read, which the guest's walk allows as it would the
	 * fetch (no XD without NXE; SMEP clear). */
	for (unsigned i = 0; i < WALK_TRIES && r == -EAGAIN; i++)
		r = shadow_gwalk(vm, ctx, la, access, &g, &out->error, &bad);
	switch (r) {
	case 0:
		break;
	case -EAGAIN:
		out->kind = SHADOW_FIXED; /* nothing written: it faults again */
		return;
	case -EFAULT:
		s->stats.guest_faults++;
		out->kind = SHADOW_GUEST_FAULT;
		return;
	case -ENOENT:
		out->kind = SHADOW_BAD_TABLE;
		out->gpa = bad;
		return;
	default: /* non-canonical or 5-level: the CPU raises #GP, not #PF */
		out->kind = SHADOW_GP;
		return;
	}
	page = g.gpa & ~(u64)(PAGE_SIZE - 1);
	if (!gmem_in_ram(&vm->gmem, page, PAGE_SIZE)) { /* above RAM or in the PCI hole */
		s->stats.mmio++;
		out->kind = SHADOW_MMIO;
		out->gpa = g.gpa;
		return;
	}
	user = g.user;
	write = g.write && g.dirty;
	if (!g.write && (access & GW_WRITE) && !(access & GW_USER) && !(ctx->cr0 & CR0_WP)) {
		write = true; /* a supervisor write with WP clear (see above) */
		user = false;
	}
	if (write && !shadow_gmem_writable(vm, page, access & GW_WRITE))
		write = false;
	leaf = ram_hpa(vm, page) | SPTE_P | SPTE_A | g.cache;
	if (write)
		leaf |= SPTE_RW | SPTE_D;
	if (user)
		leaf |= SPTE_US;
	if (g.nx && (ctx->efer & EFER_NXE))
		leaf |= SPTE_NX;
	if (g.page_shift == 30)
		s->huge = true;
	if (shadow_set_leaf(s, la, leaf, &g.walked))
		cur_root_page_stale(s, la); /* a narrower translation may be cached */
	out->kind = SHADOW_FIXED;
}
