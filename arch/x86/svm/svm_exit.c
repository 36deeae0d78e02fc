/*
 * Entering the guest and turning the VMCB's exit code into a struct vmexit.
 * This is the hot path of every exit: keep it short.
 */
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vmcb.h"
#include "arch/x86/emul/fetch.h"
#include "hv/exit.h"
#include "hv/guest_ctx.h"
#include "hv/vendor.h"
#include "hv/vcpu.h"
#include "asm/percpu.h"

void svm_run(struct vcpu *v, struct vmexit *e);

#define EXITINTINFO_VALID BIT(31)
#define EXITINTINFO_TYPE (7ULL << 8)
#define EXITINTINFO_EV BIT(11)  /* an error code is pushed */

/*
 * An event whose delivery an exit interrupted (EXITINTINFO), to be
 * delivered again through EVENTINJ (APM vol. 2, 15.7.2, 15.20). QEMU's SVM
 * records every event it delivers that is not a software interrupt as an
 * exception (type 3), external interrupts and NMIs included, and its VMRUN
 * then refuses type 3 with vector 2 or 31 and more (VMEXIT_INVALID).
 * Exceptions are vectors 0-31 and vector 2 is the NMI (APM vol. 2, 8.2):
 * type 3 with vector 32-255 can only be an external interrupt, with vector
 * 2 an NMI, and each goes back as what it is. It shows when the delivery
 * itself takes a nested page fault: dirty logging write-protects the
 * guest's stacks (live migration, docs/migration.md).
 */
static u64 reinjection(u64 info)
{
	if (!(info & EXITINTINFO_VALID))
		return 0;
	if ((info & EXITINTINFO_TYPE) != EVENTINJ_TYPE_EXCEPTION)
		return info;
	if ((info & 0xff) >= 32)
		return (info & ~(EXITINTINFO_TYPE | EXITINTINFO_EV | (0xffffffffULL << 32))) |
		       EVENTINJ_TYPE_INTR;
	if ((info & 0xff) == 2)
		return (info & ~(EXITINTINFO_TYPE | EXITINTINFO_EV | (0xffffffffULL << 32))) |
		       EVENTINJ_TYPE_NMI;
	return info;
}

/* Exits 0x60-0x8f, by code - 0x60. Unlisted codes (0 here) are decoded
 * below (VMMCALL, INVLPG), or VMEXIT_UNHANDLED. */
static const u8 exit_reason[0x30] = {
	[SVM_EXIT_INTR - 0x60] = VMEXIT_INTR,
	[SVM_EXIT_NMI - 0x60] = VMEXIT_INTR,
	[SVM_EXIT_SMI - 0x60] = VMEXIT_INTR,
	[SVM_EXIT_INIT - 0x60] = VMEXIT_INTR,
	[SVM_EXIT_VINTR - 0x60] = VMEXIT_IRQ_WINDOW,
	[SVM_EXIT_TR_WRITE - 0x60] = VMEXIT_LTR,
	[SVM_EXIT_RDTSC - 0x60] = VMEXIT_RDTSC,
	[SVM_EXIT_CPUID - 0x60] = VMEXIT_CPUID,
	[SVM_EXIT_IRET - 0x60] = VMEXIT_IRQ_WINDOW, /* an NMI handler ends: svm_nmi_track */
	[SVM_EXIT_INVD - 0x60] = VMEXIT_INVD,
	[SVM_EXIT_HLT - 0x60] = VMEXIT_HLT,
	[SVM_EXIT_INVLPGA - 0x60] = VMEXIT_UD,
	[SVM_EXIT_IOIO - 0x60] = VMEXIT_IO,
	[SVM_EXIT_MSR - 0x60] = VMEXIT_MSR_READ, /* EXITINFO1 = 1: a write */
	[SVM_EXIT_SHUTDOWN - 0x60] = VMEXIT_SHUTDOWN,
	[SVM_EXIT_VMRUN - 0x60] = VMEXIT_UD,
	[SVM_EXIT_VMLOAD - 0x60] = VMEXIT_UD,
	[SVM_EXIT_VMSAVE - 0x60] = VMEXIT_UD,
	[SVM_EXIT_STGI - 0x60] = VMEXIT_UD,
	[SVM_EXIT_CLGI - 0x60] = VMEXIT_UD,
	[SVM_EXIT_SKINIT - 0x60] = VMEXIT_UD,
	[SVM_EXIT_RDTSCP - 0x60] = VMEXIT_UD,
	[SVM_EXIT_MONITOR - 0x60] = VMEXIT_UD,
	[SVM_EXIT_MWAIT - 0x60] = VMEXIT_UD,
	[SVM_EXIT_MWAIT_COND - 0x60] = VMEXIT_UD,
	[SVM_EXIT_XSETBV - 0x60] = VMEXIT_XSETBV,
	[SVM_EXIT_RDPRU - 0x60] = VMEXIT_UD,
};
_Static_assert(VMEXIT_NONE == 0 && NR_VMEXIT_REASONS < 256, "exit_reason[] holds u8 reasons");

/* Exits 00h-1Fh: MOV from/to CRn (APM vol. 2, 15.9). With decode assists
 * EXITINFO1 bit 63 says a MOV and bits 3:0 name its register (15.33.1);
 * without them (QEMU) the core decodes the instruction. */
static __attribute__((noinline)) enum vmexit_reason cr_access(const struct vmcb_control *c,
							       struct vmexit *e)
{
	e->cr.cr = c->exitcode & 0xf;
	e->cr.write = c->exitcode & 0x10;
	e->cr.gpr = svm_decode_assists && (c->exitinfo1 & BIT(63)) ? (int)(c->exitinfo1 & 0xf) : -1;
	return VMEXIT_CR_ACCESS;
}

/* Exits 20h-3Fh: MOV from/to DRn (APM vol. 2, 15.9; why they exit:
 * core/exit_dr.c). With decode assists EXITINFO1 bits 3:0 name the
 * register (15.33.1); without them (QEMU) the core decodes it. */
static __attribute__((noinline)) enum vmexit_reason dr_access(const struct vmcb_control *c,
							       struct vmexit *e)
{
	e->dr.dr = c->exitcode & 0xf;
	e->dr.write = c->exitcode & 0x10;
	e->dr.gpr = svm_decode_assists ? (int)(c->exitinfo1 & 0xf) : -1;
	return VMEXIT_DR_ACCESS;
}

/* The vectors that push an error code (APM vol. 2, 8.2): #DF, #TS, #NP,
 * #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
#define EXC_WITH_ERROR (BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) | BIT(17) | \
			BIT(21) | BIT(29) | BIT(30))

/* Exits 40h-5Fh, an intercepted exception: EXITINFO1 its error code, and
 * for #PF EXITINFO2 the faulting address, which CR2 does not hold yet
 * (15.12). */
static __attribute__((noinline)) enum vmexit_reason exception(const struct vmcb_control *c,
							       struct vmexit *e)
{
	u8 vector = (u8)(c->exitcode - SVM_EXIT_EXCP_BASE);

	e->exc.vector = vector;
	e->exc.has_error = EXC_WITH_ERROR & BIT(vector);
	e->exc.error = e->exc.has_error ? (u32)c->exitinfo1 : 0;
	e->exc.address = c->exitinfo2;
	return VMEXIT_EXCEPTION;
}

/* The exits that are neither in the table nor nested page faults. */
static __attribute__((noinline)) enum vmexit_reason decode_rare(const struct vmcb_control *c,
								 struct vmexit *e)
{
	u64 code = c->exitcode;

	if (code <= SVM_EXIT_CR_LAST) /* today CR8 writes; shadow paging: more */
		return cr_access(c, e);
	if (code >= SVM_EXIT_DR_READ && code <= SVM_EXIT_DR_LAST)
		return dr_access(c, e);
	if (code == SVM_EXIT_EXCP_BASE + 18)
		return VMEXIT_MACHINE_CHECK;
	if (code - SVM_EXIT_EXCP_BASE < 32)
		return exception(c, e);
	if (code == SVM_EXIT_INVLPG) {
		/* With decode assists EXITINFO1 is the linear address (15.33.2). */
		e->invlpg.known = svm_decode_assists;
		e->invlpg.addr = c->exitinfo1;
		e->invlpg.invpcid = false; /* the union holds the last exit's fields */
		return VMEXIT_INVLPG;
	}
	/* QEMU stores the exit code zero-extended from 32 bits. */
	if (code == SVM_EXIT_INVALID || code == (u32)SVM_EXIT_INVALID)
		return VMEXIT_ENTRY_FAIL;
	return VMEXIT_UNHANDLED;
}

static enum vmexit_reason decode(const struct vmcb *vmcb, struct vmexit *e)
{
	const struct vmcb_control *c = &vmcb->control;
	u64 code = c->exitcode;

	if (code - 0x60 < ARRAY_SIZE(exit_reason)) {
		u8 r = exit_reason[code - 0x60];

		if (r == VMEXIT_MSR_READ && c->exitinfo1 == 1)
			return VMEXIT_MSR_WRITE;
		if (likely(r))
			return (enum vmexit_reason)r;
	}
	if (code == SVM_EXIT_NPF) {
		e->mem.gpa = c->exitinfo2;
		e->mem.present = c->exitinfo1 & NPF_P;
		e->mem.write = c->exitinfo1 & NPF_RW;
		e->mem.fetch = c->exitinfo1 & NPF_ID;
		e->mem.walk = c->exitinfo1 & NPF_WALK;
		return VMEXIT_MEM;
	}
	if (code == SVM_EXIT_VMMCALL) {
		/* VMMCALL is not restricted to CPL 0 (APM vol. 3, VMMCALL): the
		 * intercept fires at any CPL, and the core refuses CPL > 0. */
		e->hypercall.cpl = vmcb->save.cpl;
		return VMEXIT_HYPERCALL;
	}
	return decode_rare(c, e);
}

/*
 * EXITINTINFO of an exit during an event's delivery (APM vol. 2, 15.7.2),
 * made fit to inject again:
 *   - INTn, INT3 and INTO cut short: RIP is still on the instruction, so
 *     running it again raises the event again with the right return
 *     address. Re-injected, it would push the instruction's own address
 *     (without NRIP there is no next RIP to give VMRUN), and the guest's
 *     handler would return onto it: Linux's INT3 self-test caught that
 *     under shadow paging.
 *   - an external interrupt or NMI that QEMU recorded as an exception goes
 *     back as what it is (reinjection, above).
 *   - QEMU leaves V_IRQ set when an exit cut a virtual interrupt's delivery
 *     short, where a CPU clears it as delivery starts (15.21.4): the
 *     interrupt would come twice, once re-injected and once from V_IRQ.
 *     The re-injection stands for it, so V_IRQ goes, and the core counts
 *     it taken.
 * Seen under shadow paging (a #PF on the IDT or stack during delivery) and
 * under dirty logging (a write-protected stack).
 */
static u64 intinfo_fixup(struct vmcb_control *c, u64 info)
{
	u64 type = info & EXITINTINFO_TYPE;

	if (type == EVENTINJ_TYPE_SOFT ||
	    (type == EVENTINJ_TYPE_EXCEPTION && ((u8)info == 3 || (u8)info == 4)))
		return 0;
	info = reinjection(info);
	if ((info & EXITINTINFO_TYPE) == EVENTINJ_TYPE_INTR && (c->int_ctl & V_IRQ) &&
	    (u8)(c->int_ctl >> V_INTR_VECTOR_SHIFT) == (u8)info)
		c->int_ctl &= ~V_IRQ;
	return info;
}

/*
 * The guest stopped in an interrupt shadow (after STI or MOV SS). If the
 * dispatcher moved RIP, the shadowed instruction is done and so is the
 * shadow. If not, the core holds back interrupts until it has run
 * (vcpu_irq_prepare asks irq_shadow): QEMU 7.2's VMRUN does not restore the
 * shadow from the VMCB (fixed upstream in 9.1, "target/i386: fix
 * INHIBIT_IRQ/TF/RF handling for VMRUN"), so it would deliver V_IRQ between
 * STI and HLT and the HLT would then sleep for good. Holding back delays
 * the vector to the guest's next exit, a scheduler tick at worst, where a
 * CPU takes it right after the shadowed instruction (tests/guests/inject.c
 * ends its `sti` windows with an exit for that reason). A VINTR intercept
 * would end the wait on a CPU that honours the shadow; under QEMU 7.2 it
 * would exit at once, in the shadow it dropped. Not done.
 */
static __attribute__((noinline)) void shadow_fixup(struct vcpu *v, struct vmcb *vmcb)
{
	if (vmcb->save.rip != v->regs.rip)
		vmcb->control.int_state &= ~1ULL;
}

/*
 * The same QEMU bug, one exit later: the guest entered in a shadow (held
 * back above), and a host interrupt made it exit again before it ran
 * anything, at the same RIP. That exit reports no shadow, because VMRUN
 * dropped it; a CPU that keeps it would report it again. Without this the
 * held-back vector went in now, between STI and HLT: the guest took it,
 * returned to the HLT and slept for good waiting for it (the hang of the
 * exact-timers work in timers-two, one run in about six: a trace showed
 * INTR at the HLT with the shadow, INTR at the HLT without it, the vector
 * offered, taken, then the HLT). Only an interrupt exit at the same RIP
 * keeps it: any other exit there is the shadowed instruction itself, which
 * the dispatcher completes or faults.
 */
static __attribute__((noinline)) void shadow_keep(struct vcpu *v, struct vmcb *vmcb,
						  enum vmexit_reason reason)
{
	if (reason == VMEXIT_INTR && vmcb->save.rip == v->arch.svm.shadow_rip)
		vmcb->control.int_state |= 1;
}

/*
 * A host interrupt stopped the guest between STI (or MOV SS) and a HLT, in
 * the interrupt shadow with interrupts on: `sti; hlt`, the idle loop of
 * Linux and of every kernel that must not miss the wake-up it waits for.
 * Entering there again needs a CPU that honours the shadow the VMCB gives
 * VMRUN, and QEMU 7.2 does not (shadow_fixup, shadow_keep): an interrupt
 * offered then is taken before the HLT, whose handler returns to the HLT,
 * which sleeps waiting for an interrupt that has come and gone.
 * shadow_fixup and shadow_keep hold such an interrupt back at the next
 * entries; this ends the exposure instead, so nothing depends on how the
 * emulator treats the shadow (a suspect, not proven, for Linux guests that
 * slept on with work to do: README, issue 15). The HLT is completed here,
 * as the CPU would have executed it next: the exit becomes the HLT's own,
 * RIP moves past it, and the shadow ends with it. handle_hlt then sleeps,
 * or not if an interrupt waits, which the guest takes after the HLT, as a
 * CPU waking from HLT delivers it. Not while an event is being injected
 * (the exit interrupted its delivery: the guest is not at the HLT yet).
 * Costs a fetch only on an interrupt exit inside a shadow.
 */
static __attribute__((noinline)) void hlt_in_shadow(struct vcpu *v, struct vmcb *vmcb,
						    struct vmexit *e)
{
	struct guest_ctx ctx;
	u8 b[15];
	size_t got = 0;

	vendor->get_paging_ctx(v, &ctx);
	/* Above CPL 0 a HLT is a #GP, which the CPU raises itself. */
	if (ctx.cpl != 0 || insn_fetch(v->vm, &ctx, v->regs.rip, b, &got) || got < 1 ||
	    b[0] != 0xf4)
		return;
	e->reason = VMEXIT_HLT;
	e->insn_len = 1;
	vmcb->control.int_state &= ~1ULL;
	v->stats.hlt_in_shadow++;
}

/*
 * The guest single-steps (RFLAGS.TF) and the dispatcher has just completed
 * an instruction for it (RIP moved since the exit): the CPU raises the #DB
 * trap after each instruction it executes, but the one emulated here never
 * ran on it, and AMD-V does not remember that one was due. So the #DB is
 * injected, with DR6.BS set as the CPU would (APM vol. 2, 13.1.1.4 "DR6",
 * 13.1.3.1 "Single-Step"). VT-x keeps such a trap pending in the VMCS and
 * delivers it itself (SDM vol. 3, 27.3.4, "pending debug exceptions").
 * An event already being injected (a fault of the emulation, which did not
 * move RIP) goes alone.
 */
static __attribute__((noinline)) void single_step_trap(struct vcpu *v, struct vmcb *vmcb)
{
	if (vmcb->save.rip == v->regs.rip || (vmcb->control.eventinj & EVENTINJ_VALID))
		return;
	vmcb->save.dr6 |= BIT(14); /* BS */
	vmcb->control.eventinj = EXC_DB | EVENTINJ_TYPE_EXCEPTION | EVENTINJ_VALID;
}

/* A new generation of this CPU's ASIDs began (svm.c, svm_shadow.c):
 * whatever an ASID held before goes at this VMRUN, whoever runs first. */
static inline void asid_generation_flush(struct percpu *cpu, struct vmcb_control *c)
{
	if (unlikely(cpu->tlb_tags.flush_all)) {
		c->tlb_control = TLB_CONTROL_FLUSH_ALL;
		cpu->tlb_tags.flush_all = false;
	}
}

void svm_run(struct vcpu *v, struct vmexit *e)
{
	struct percpu *cpu = this_cpu();
	struct vmcb *vmcb = v->arch.svm.vmcb;
	struct vmcb_control *c = &vmcb->control;

	if (unlikely(c->int_state & 1)) {
		shadow_fixup(v, vmcb);
		/* Still in it, nothing injected: shadow_keep after the exit. */
		v->arch.svm.shadow_entered = (c->int_state & 1) && !(c->eventinj & EVENTINJ_VALID);
		v->arch.svm.shadow_rip = v->regs.rip;
	}
	if (unlikely(v->regs.rflags & RFLAGS_TF))
		single_step_trap(v, vmcb);
	vmcb->save.rax = v->regs.gpr[GPR_RAX];
	vmcb->save.rsp = v->regs.gpr[GPR_RSP];
	vmcb->save.rip = v->regs.rip;
	vmcb->save.rflags = v->regs.rflags;

	if (unlikely(v->shadow)) {
		struct svm_shadow_saved g;

		svm_shadow_enter(v, vmcb, &g);
		asid_generation_flush(cpu, c);
		svm_vmrun(&v->regs, (u64)(uintptr_t)vmcb, cpu->vendor_area[1]);
		svm_shadow_leave(vmcb, &g);
	} else {
		asid_generation_flush(cpu, c);
		svm_vmrun(&v->regs, (u64)(uintptr_t)vmcb, cpu->vendor_area[1]);
	}

	v->regs.gpr[GPR_RAX] = vmcb->save.rax;
	v->regs.gpr[GPR_RSP] = vmcb->save.rsp;
	v->regs.rip = vmcb->save.rip;
	v->regs.rflags = vmcb->save.rflags;
	c->tlb_control = TLB_CONTROL_NONE;
	/* An event whose delivery the exit interrupted is delivered again. */
	c->eventinj = (c->exitintinfo & EXITINTINFO_VALID) ? intinfo_fixup(c, c->exitintinfo) : 0;

	if (unlikely(v->arch.svm.nmi_masked))
		svm_nmi_track(v);

	e->insn_len = 0;
	e->reason = decode(vmcb, e);
	if (unlikely(v->arch.svm.shadow_entered)) {
		v->arch.svm.shadow_entered = false;
		if (!(c->int_state & 1))
			shadow_keep(v, vmcb, e->reason);
	}
	if (unlikely((c->int_state & 1) && e->reason == VMEXIT_INTR &&
		     (v->regs.rflags & RFLAGS_IF) && !(c->eventinj & EVENTINJ_VALID)))
		hlt_in_shadow(v, vmcb, e);
	if (unlikely(e->reason >= VMEXIT_MACHINE_CHECK)) { /* the reports print them */
		e->hw_code = c->exitcode;
		e->hw_info1 = c->exitinfo1;
		e->hw_info2 = c->exitinfo2;
	}
	if (e->reason == VMEXIT_IO) {
		u64 info = c->exitinfo1;

		e->io.port = (u16)(info >> IOIO_PORT_SHIFT);
		e->io.size = (info & IOIO_SZ8) ? 1 : (info & IOIO_SZ16) ? 2 : 4;
		e->io.in = info & IOIO_TYPE_IN;
		e->io.string = info & IOIO_STR;
		e->io.rep = info & IOIO_REP;
		/* EXITINFO2 holds the next RIP on every CPU (APM vol. 2, 15.10.2). */
		e->insn_len = (u8)(c->exitinfo2 - v->regs.rip);
	} else if (e->reason != VMEXIT_MEM && c->nrip && svm_nrip) {
		/* NRIP save: the CPU tells where the trapped instruction ends. */
		e->insn_len = (u8)(c->nrip - v->regs.rip);
	}
}
