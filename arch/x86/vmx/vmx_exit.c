/*
 * Entering the guest and turning the VM exit into a struct vmexit (SDM
 * vol. 3, 28.2 "Recording VM-Exit Information", Appendix C). This is the
 * hot path of every exit: a VMREAD or VMWRITE is an instruction each, so
 * only what every exit needs is read, and only what may have changed is
 * written back.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_conv.h"
#include "hv/console.h"
#include "hv/guest_ctx.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "asm/vmx.h"

/* The exit reports the trapped instruction's length (28.2.4). */
#define HAS_LEN 0x80
#define HAS_MORE 0x40 /* with HAS_LEN: more to read (I/O's qualification, VMCALL's CPL) */

/* Basic exit reasons with a direct translation; the others are decoded
 * below, or VMEXIT_UNHANDLED (0 here). */
static const u8 exit_reason[NR_VMX_EXIT_REASONS] = {
	[EXIT_EXTERNAL_INTERRUPT] = VMEXIT_INTR,
	[EXIT_TRIPLE_FAULT] = VMEXIT_SHUTDOWN,
	[EXIT_INIT] = VMEXIT_INTR,
	[EXIT_SIPI] = VMEXIT_INTR,
	[EXIT_IO_SMI] = VMEXIT_INTR,
	[EXIT_OTHER_SMI] = VMEXIT_INTR,
	[EXIT_INTERRUPT_WINDOW] = VMEXIT_IRQ_WINDOW,
	[EXIT_NMI_WINDOW] = VMEXIT_IRQ_WINDOW, /* decode_other reopens the NMI offer */
	[EXIT_CPUID] = VMEXIT_CPUID | HAS_LEN,
	[EXIT_RDTSC] = VMEXIT_RDTSC | HAS_LEN,
	[EXIT_GETSEC] = VMEXIT_UD,
	[EXIT_HLT] = VMEXIT_HLT | HAS_LEN,
	[EXIT_INVD] = VMEXIT_INVD | HAS_LEN,
	[EXIT_RSM] = VMEXIT_UD,
	[EXIT_VMCALL] = VMEXIT_HYPERCALL | HAS_LEN | HAS_MORE,
	/* The guest is told it has no VMX (CPUID): its VMX instructions are #UD. */
	[EXIT_VMCLEAR] = VMEXIT_UD,
	[EXIT_VMLAUNCH] = VMEXIT_UD,
	[EXIT_VMPTRLD] = VMEXIT_UD,
	[EXIT_VMPTRST] = VMEXIT_UD,
	[EXIT_VMREAD] = VMEXIT_UD,
	[EXIT_VMRESUME] = VMEXIT_UD,
	[EXIT_VMWRITE] = VMEXIT_UD,
	[EXIT_VMXOFF] = VMEXIT_UD,
	[EXIT_VMXON] = VMEXIT_UD,
	[EXIT_IO_INSTRUCTION] = VMEXIT_IO | HAS_LEN | HAS_MORE,
	[EXIT_RDMSR] = VMEXIT_MSR_READ | HAS_LEN,
	[EXIT_WRMSR] = VMEXIT_MSR_WRITE | HAS_LEN,
	[EXIT_INVALID_GUEST_STATE] = VMEXIT_ENTRY_FAIL,
	[EXIT_MSR_LOADING] = VMEXIT_ENTRY_FAIL,
	[EXIT_MWAIT] = VMEXIT_UD,
	[EXIT_MONITOR] = VMEXIT_UD,
	[EXIT_MACHINE_CHECK] = VMEXIT_MACHINE_CHECK,
	[EXIT_EPT_VIOLATION] = VMEXIT_MEM,
	[EXIT_INVEPT] = VMEXIT_UD,
	[EXIT_RDTSCP] = VMEXIT_UD,
	[EXIT_INVVPID] = VMEXIT_UD,
	[EXIT_XSETBV] = VMEXIT_XSETBV | HAS_LEN,
	[EXIT_INVLPG] = VMEXIT_INVLPG, /* decoded below: its address */
	[EXIT_VMFUNC] = VMEXIT_UD,
	[EXIT_ENCLS] = VMEXIT_UD,
};
_Static_assert(VMEXIT_NONE == 0 && NR_VMEXIT_REASONS < HAS_MORE, "exit_reason[] packs u8 reasons");

/*
 * A control-register exit (28.2.1, Table 28-3): MOV to CR8 always ("CR8-load
 * exiting"); MOV to CR0/CR4 when it changes a bit the guest/host masks own
 * (25.6.6); under shadow paging MOV to and from CR3, CLTS and LMSW too. The
 * core checks and completes it (core/exit_cr.c).
 */
static enum vmexit_reason cr_access(struct vmexit *e)
{
	u64 q = vmread(VMCS_EXIT_QUALIFICATION);

	e->hw_info1 = q;
	if (CR_QUAL_TYPE(q) > CR_QUAL_TYPE_MOV_FROM_CR) {
		/* CLTS or LMSW: under shadow paging the masks own every CR0
		 * bit (vmx_shadow.c); core/exit_cr.c decodes them. */
		e->cr.cr = 0;
		e->cr.write = true;
		e->cr.gpr = -1;
		e->insn_len = 0;
		return VMEXIT_CR_ACCESS;
	}
	e->cr.cr = (u8)CR_QUAL_CR(q);
	e->cr.write = CR_QUAL_TYPE(q) == CR_QUAL_TYPE_MOV_TO_CR;
	e->cr.gpr = (int)CR_QUAL_GPR(q);
	e->insn_len = (u8)vmread(VMCS_EXIT_INSN_LEN);
	return VMEXIT_CR_ACCESS;
}

/* Exception or NMI (exit reason 0): NMIs (NMI exiting), #MC and what the
 * VM's policy puts in the exception bitmap. The error code is in its own
 * field, a #PF's address in the qualification: CR2 is not written yet
 * (28.2.1, 28.2.2). INT3/INTO report their length. */
static enum vmexit_reason exception_nmi(struct vmexit *e)
{
	u32 info = (u32)vmread(VMCS_EXIT_INTR_INFO);

	e->hw_info1 = info;
	if (INTR_INFO_TYPE(info) == INTR_TYPE_NMI) {
		vmx_take_host_nmi();
		return VMEXIT_INTR;
	}
	if (INTR_INFO_VECTOR(info) == 18)
		return VMEXIT_MACHINE_CHECK;
	e->exc.vector = INTR_INFO_VECTOR(info);
	e->exc.has_error = info & INTR_INFO_ERROR_VALID;
	e->exc.error = e->exc.has_error ? (u32)vmread(VMCS_EXIT_INTR_ERROR) : 0;
	e->exc.address = vmread(VMCS_EXIT_QUALIFICATION);
	if (INTR_INFO_TYPE(info) == INTR_TYPE_SW_EXCEPTION)
		e->insn_len = (u8)vmread(VMCS_EXIT_INSN_LEN);
	return VMEXIT_EXCEPTION;
}

static void entry_failed(struct vcpu *v, struct vmexit *e)
{
	/* CF: no current VMCS, so no error number to read (31.2). */
	u32 err = vmptrst() == v->arch.vmx.vmcs ? (u32)vmread(VMCS_VM_INSN_ERROR) : 0;

	kprintf("vmx: vm %s: vCPU %u: %s failed: VM-instruction error %u (%s)\n", v->vm->name,
		v->id, v->arch.vmx.launched ? "VMRESUME" : "VMLAUNCH", err, vmx_insn_error_str(err));
	e->reason = VMEXIT_ENTRY_FAIL;
	e->insn_len = 0;
	e->hw_code = ~0ULL; /* no exit reason: the instruction itself failed */
	e->hw_info1 = err;
	e->hw_info2 = 0;
}

/* The dispatcher may move RIP past the instruction that exited: an STI or
 * MOV-SS shadow it was in ends then (vmx_run). */
static void record_shadow(struct vcpu *v)
{
	v->arch.vmx.intr_shadow = (u8)vmread(VMCS_GUEST_INTERRUPTIBILITY) &
				  (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
}

/* The rarer exits: not a plain instruction intercept. */
static __attribute__((noinline)) void decode_other(struct vcpu *v, struct vmexit *e, u32 reason)
{
	u16 basic = EXIT_REASON_BASIC(reason);
	u64 q;

	e->hw_info1 = e->hw_info2 = 0;
	switch (basic) {
	case EXIT_EXTERNAL_INTERRUPT: /* the host's handler has run (vmx_run) */
		return;
	case EXIT_INTERRUPT_WINDOW:
		vmx_window_open(v);
		return;
	case EXIT_NMI_WINDOW:
		vmx_nmi_window_open(v);
		return;
	case EXIT_PREEMPTION_TIMER:
		/* A tick of guest time, or the end of the slice. */
		if (rdtsc() >= this_cpu()->slice_end)
			this_cpu()->need_resched = true;
		v->arch.vmx.timer_slice_end = 0; /* rearm */
		e->reason = VMEXIT_NONE;
		return;
	case EXIT_EPT_VIOLATION:
		q = vmread(VMCS_EXIT_QUALIFICATION);
		e->mem.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
		e->mem.write = q & EPT_QUAL_WRITE;
		e->mem.fetch = q & EPT_QUAL_FETCH;
		e->mem.present = q & EPT_QUAL_PRESENT;
		e->mem.walk = (q & (EPT_QUAL_LINEAR_VALID | EPT_QUAL_TRANSLATED)) ==
			      EPT_QUAL_LINEAR_VALID;
		return;
	case EXIT_EXCEPTION_NMI:
		e->reason = exception_nmi(e);
		record_shadow(v);
		if (unlikely(v->arch.vmx.rmode) && e->reason == VMEXIT_EXCEPTION)
			e->reason = vmx_rmode_exception(v, e);
		return;
	case EXIT_CR_ACCESS:
		e->reason = cr_access(e);
		record_shadow(v);
		return;
	case EXIT_INVLPG: /* the qualification is the linear address (Table 28-1) */
		e->invlpg.addr = vmread(VMCS_EXIT_QUALIFICATION);
		e->invlpg.known = true;
		e->invlpg.invpcid = false; /* the union holds the last exit's fields */
		e->insn_len = (u8)vmread(VMCS_EXIT_INSN_LEN);
		record_shadow(v);
		return;
	case EXIT_INVPCID: /* "INVLPG exiting" with "enable INVPCID" (26.1.3) */
		e->reason = VMEXIT_INVLPG;
		e->invlpg.invpcid = true;
		e->invlpg.type_gpr = (int)INSN_INFO_REG2(vmread(VMCS_EXIT_INSN_INFO));
		e->insn_len = (u8)vmread(VMCS_EXIT_INSN_LEN);
		record_shadow(v);
		return;
	case EXIT_EPT_MISCONFIG:
		/* Our own EPT is wrong: a bug to report, the VM stops. */
		e->hw_info1 = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
		kprintf("vmx: vm %s: EPT misconfiguration at guest-physical %lx\n", v->vm->name,
			e->hw_info1);
		return;
	}
	if (e->reason == VMEXIT_ENTRY_FAIL)
		kprintf("vmx: vm %s: vCPU %u: VM entry failed: %s (exit reason %x, "
			"qualification %lx)\n", v->vm->name, v->id,
			basic == EXIT_INVALID_GUEST_STATE ? "invalid guest state" : "MSR loading",
			reason, vmread(VMCS_EXIT_QUALIFICATION));
	if (e->reason >= VMEXIT_MACHINE_CHECK) {
		e->hw_info1 = vmread(VMCS_EXIT_QUALIFICATION);
		e->hw_info2 = vmread(VMCS_EXIT_INTR_INFO);
	}
}

/*
 * The preemption timer counts down in guest mode (26.5.1), TSC >> rate:
 * the rest of the slice, but at most one scheduler tick, so a guest that
 * runs without exits still leaves guest mode once per tick even where host
 * interrupts do not make it exit (Bochs 2.7 with the guest's RFLAGS.IF = 0:
 * its VM entry evaluates the interrupt mask before it is in guest mode). On
 * hardware that costs at most one exit per tick. With "save VMX-preemption
 * timer value" it keeps counting from exit to exit: set it when the slice
 * changes or after it expired.
 */
static inline void arm_preemption_timer(struct vmx_vcpu *s)
{
	u64 end = this_cpu()->slice_end, now, left;

	if (end == s->timer_slice_end && vmx_caps.timer_saved)
		return;
	s->timer_slice_end = end;
	now = rdtsc();
	left = end > now ? (end - now) >> vmx_caps.timer_rate : 0;
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, MIN(left, vmx_caps.timer_max));
}

void vmx_run(struct vcpu *v, struct vmexit *e)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	struct vmx_shadow_saved g;
	u32 reason, idt;
	u8 r;

	vmwrite(VMCS_GUEST_RIP, v->regs.rip);
	vmwrite(VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
	vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
	/* The exit came from an instruction in an STI or MOV-SS shadow, and
	 * the dispatcher has moved past it: the shadow ended with it. */
	if (unlikely(s->intr_shadow) && v->regs.rip != s->exit_rip) {
		s->intr_shadow = 0;
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) &
				~(u64)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	}
	if (vmx_caps.preemption_timer)
		arm_preemption_timer(s);
	/* Shadow paging: the CPU's CR0, CR3, CR4 and EFER (and in real mode
	 * virtual-8086 mode's state) across the entry, vmx_shadow.c. */
	if (unlikely(v->shadow))
		vmx_shadow_enter(v, &g);

	if (unlikely(vmx_enter(&v->regs, s->launched))) {
		if (v->shadow)
			vmx_shadow_leave(v, &g);
		entry_failed(v, e);
		return;
	}
	s->launched = true;
	/* The host takes its pending interrupts here: after an external-
	 * interrupt exit the one that caused it (not acknowledged on exit,
	 * 25.7.1); after any other exit, one that arrived in guest mode without
	 * making it exit (an emulator's gap, above). The IDT handler runs. */
	vmx_take_host_irq();

	v->regs.rip = s->exit_rip = vmread(VMCS_GUEST_RIP);
	v->regs.gpr[GPR_RSP] = vmread(VMCS_GUEST_RSP);
	v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
	if (unlikely(v->shadow))
		vmx_shadow_leave(v, &g);
	reason = (u32)vmread(VMCS_EXIT_REASON);
	e->hw_code = reason;
	e->insn_len = 0;
	/* Every exit clears the injection's valid bit (25.8.3); an event it
	 * interrupted on the way in is delivered again. */
	s->entry_intr = 0;
	idt = (u32)vmread(VMCS_IDT_VECTORING_INFO);
	if (unlikely(idt & INTR_INFO_VALID))
		vmx_reinject(v, idt);

	r = EXIT_REASON_BASIC(reason) < NR_VMX_EXIT_REASONS
		    ? exit_reason[EXIT_REASON_BASIC(reason)] : 0;
	if (likely(r & HAS_LEN)) {
		e->reason = (enum vmexit_reason)(r & ~(HAS_LEN | HAS_MORE));
		e->insn_len = (u8)vmread(VMCS_EXIT_INSN_LEN);
		s->intr_shadow = (u8)vmread(VMCS_GUEST_INTERRUPTIBILITY) &
				 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
		if (!(r & HAS_MORE))
			return;
		if (e->reason == VMEXIT_IO) {
			u64 q = vmread(VMCS_EXIT_QUALIFICATION);

			e->io.port = IO_QUAL_PORT(q);
			e->io.size = (u8)IO_QUAL_SIZE(q);
			e->io.in = q & IO_QUAL_IN;
			e->io.string = q & IO_QUAL_STRING;
			e->io.rep = q & IO_QUAL_REP;
		} else if (e->reason == VMEXIT_HYPERCALL) {
			/* VMCALL exits from any CPL in VMX non-root operation
			 * (SDM vol. 2B, VMCALL): the core refuses CPL > 0,
			 * which is SS.DPL (SDM vol. 3, 25.4.1). */
			e->hypercall.cpl = (u8)((vmread(VMCS_GUEST_SS_AR) >> 5) & 3);
		}
		return;
	}
	e->reason = r ? (enum vmexit_reason)r : VMEXIT_UNHANDLED;
	decode_other(v, e, reason);
}
