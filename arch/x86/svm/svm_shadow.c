/*
 * AMD-V with shadow page tables (APM vol. 2, 15.24 "Nested Paging" off):
 * the CPU walks the vCPU's shadow tables (arch/x86/mmu/), so the guest must
 * not see or change the control registers it really runs with.
 *
 * The VMCB's save area holds the guest's own CR0, CR3, CR4 and EFER at all
 * times but across VMRUN: every other reader (exit handlers, the state
 * snapshot, the emulator's page walk) sees the guest's view. Just before
 * VMRUN they are swapped for the registers shadow_hw_regs computes and just
 * after the exit swapped back. This holds because the guest cannot change
 * them without an exit: reads and writes of CR0, CR3 and CR4 are
 * intercepted (15.9; CR0 writes include CLTS and LMSW, 15.9.1), EFER is
 * behind the MSR intercept, and with #PF intercepted the CPU leaves CR2
 * alone (15.12). #PF and INVLPG exit to the shadow MMU (core/exit_shadow.c).
 */
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vmcb.h"
#include "hv/shadow.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "asm/percpu.h"

void svm_shadow_vcpu_init(struct vcpu *v)
{
	struct vmcb_control *c = &v->arch.svm.vmcb->control;

	c->np_ctl = 0;
	c->n_cr3 = 0;
	c->intercept_cr |= INTERCEPT_CR0_READ | INTERCEPT_CR3_READ | INTERCEPT_CR4_READ |
			   INTERCEPT_CR0_WRITE | INTERCEPT_CR3_WRITE | INTERCEPT_CR4_WRITE;
	/* #PF and INVLPG come from the VM's intercept policy (core/intercept.c). */
}

/* INVLPGA: the TLB's translation of the linear address va under ASID
 * asid goes (APM vol. 3, "INVLPGA"). */
static inline void invlpga(u64 va, u32 asid)
{
	__asm__ volatile("invlpga %0, %1" : : "a"(va), "c"(asid) : "memory");
}

/*
 * The guest runs the current shadow root under that root's ASID
 * (arch/x86/mmu/shadow_tlb.c). TLB_CONTROL flushes at this VMRUN (15.16):
 * a new generation of this CPU's ASIDs flushes them all; a root that lost
 * entries since its ASID last ran flushes that ASID, or all of them
 * without flush-by-ASID (QEMU); one that lost only some pages' leaves
 * has those pages dropped by INVLPGA now. A flush already asked for stays.
 */
static void shadow_asid(struct vcpu *v, struct vmcb *vmcb)
{
	struct percpu *cpu = this_cpu();
	struct shadow_tlb_work w;

	if (shadow_tlb_clean(v->shadow, &cpu->tlb_tags, (int)cpu->id, &w.tag)) {
		vmcb->control.guest_asid = w.tag;
		return;
	}
	shadow_tlb_tag(v->shadow, &cpu->tlb_tags, (int)cpu->id, svm_nr_asids, &w);
	switch (w.flush) {
	case SHADOW_TLB_ALL:
		cpu->tlb_tags.flush_all = true; /* at this VMRUN (svm_run) */
		break;
	case SHADOW_TLB_TAG:
		if (vmcb->control.tlb_control == TLB_CONTROL_NONE)
			vmcb->control.tlb_control = svm_flush_by_asid ? TLB_CONTROL_FLUSH_ASID
								      : TLB_CONTROL_FLUSH_ALL;
		break;
	case SHADOW_TLB_PAGES:
		if (vmcb->control.tlb_control == TLB_CONTROL_NONE)
			for (unsigned i = 0; i < w.pages; i++)
				invlpga(w.page[i], w.tag);
		break;
	case SHADOW_TLB_NONE:
		break;
	}
	vmcb->control.guest_asid = w.tag;
}

void svm_shadow_enter(struct vcpu *v, struct vmcb *vmcb, struct svm_shadow_saved *g)
{
	struct vmcb_save *s = &vmcb->save;
	struct guest_ctx ctx;
	struct shadow_hw hw;

	g->cr0 = s->cr0;
	g->cr3 = s->cr3;
	g->cr4 = s->cr4;
	g->efer = s->efer;
	ctx.cr0 = s->cr0;
	ctx.cr3 = s->cr3;
	ctx.cr4 = s->cr4;
	ctx.efer = s->efer;
	shadow_hw_regs(v->shadow, &ctx, &hw);
	s->cr0 = hw.cr0;
	s->cr3 = hw.cr3;
	s->cr4 = hw.cr4;
	s->efer = hw.efer; /* SVME kept from the guest's copy (15.5.1) */
	shadow_asid(v, vmcb);
}

void svm_shadow_leave(struct vmcb *vmcb, const struct svm_shadow_saved *g)
{
	struct vmcb_save *s = &vmcb->save;

	s->cr0 = g->cr0;
	s->cr3 = g->cr3;
	s->cr4 = g->cr4;
	s->efer = g->efer;
}
