/*
 * Events for the guest (SDM vol. 3, 27.6 "Event Injection"): faults the
 * exit handlers raise, external interrupts the core offers, and the events
 * an exit interrupted on their way into the guest.
 *
 * VT-x has no virtual interrupt line that waits by itself the way AMD-V's
 * V_IRQ does: an external interrupt is injected at the next entry when the
 * guest can take it (RFLAGS.IF = 1, no STI or MOV-SS blocking), else the
 * entry asks for an exit when it can (interrupt-window exiting, 26.2)
 * and the interrupt is injected then.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "hv/guest_ctx.h"
#include "hv/vcpu.h"
#include "asm/vmx.h"

static bool is_ext_intr(u32 info)
{
	return (info & INTR_INFO_VALID) && INTR_INFO_TYPE(info) == INTR_TYPE_EXT_INTR;
}

static void set_entry_event(struct vmx_vcpu *s, u32 info)
{
	s->entry_intr = info;
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

static void set_window_exiting(struct vmx_vcpu *s, bool on)
{
	u32 ctls = on ? s->proc_ctls | PROC_INTERRUPT_WINDOW_EXITING
		      : s->proc_ctls & ~PROC_INTERRUPT_WINDOW_EXITING;

	if (ctls != s->proc_ctls) {
		s->proc_ctls = ctls;
		vmwrite(VMCS_PROC_BASED_CTLS, ctls);
	}
}

void vmx_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	u32 info = vector | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_VALID;

	/* An unrestricted guest in real mode takes no error code (27.2.1.3). */
	if (!(vmread(VMCS_GUEST_CR0) & CR0_PE))
		has_error = false;
	/* An interrupt this entry was to inject stays offered: it waits for
	 * the window behind the exception (core/vcpu_irq.c counts it as not
	 * taken while irq_offered says so). */
	if (is_ext_intr(s->entry_intr)) {
		s->window_vector = INTR_INFO_VECTOR(s->entry_intr);
		s->window_pending = true;
		set_window_exiting(s, true);
	}
	if (has_error) {
		info |= INTR_INFO_ERROR_VALID;
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error);
	}
	set_entry_event(s, info);
}

/* The guest's interruptibility state (25.4.2). When the dispatcher has
 * skipped the instruction in an STI or MOV-SS shadow, the shadow is over:
 * it is dropped now, since an entry that injects may not have it (27.3.1.5). */
static u32 guest_blocking(struct vcpu *v)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	u32 blocking = (u32)vmread(VMCS_GUEST_INTERRUPTIBILITY);

	if ((blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
	    v->regs.rip != s->exit_rip) {
		blocking &= ~(u32)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, blocking);
		s->intr_shadow = 0;
	}
	return blocking;
}

bool vmx_offer_irq(struct vcpu *v, u8 vector)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	u32 blocking;

	/* One interrupt at a time is in the hardware's hands. */
	if (is_ext_intr(s->entry_intr) || s->window_pending)
		return false;
	blocking = guest_blocking(v) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
	/* An exception the next entry injects goes first: the interrupt then
	 * waits for the window like one the guest cannot take yet. */
	if ((v->regs.rflags & RFLAGS_IF) && !blocking && !(s->entry_intr & INTR_INFO_VALID)) {
		set_entry_event(s, vector | (INTR_TYPE_EXT_INTR << 8) | INTR_INFO_VALID);
		return true;
	}
	s->window_vector = vector;
	s->window_pending = true;
	set_window_exiting(s, true);
	return true;
}

static void set_nmi_window_exiting(struct vmx_vcpu *s, bool on)
{
	u32 ctls = on ? s->proc_ctls | PROC_NMI_WINDOW_EXITING
		      : s->proc_ctls & ~PROC_NMI_WINDOW_EXITING;

	if (ctls != s->proc_ctls) {
		s->proc_ctls = ctls;
		vmwrite(VMCS_PROC_BASED_CTLS, ctls);
	}
}

/*
 * An NMI goes in at the next entry (type 2, 27.6.1) unless the guest
 * blocks NMIs (an NMI handler has not returned: with virtual NMIs the CPU
 * keeps that in the interruptibility state, 26.6.1.2), is in an STI or
 * MOV-SS shadow (which holds NMIs off too on some CPUs, 25.4.2: treated as
 * blocking, as KVM does), or the entry already injects an exception or a
 * re-delivered event. Then NMI-window exiting brings an exit as soon as it
 * can (26.2, 27.2); without virtual NMIs the core asks again at every exit.
 * An external interrupt the entry was to inject waits behind the NMI.
 */
bool vmx_offer_nmi(struct vcpu *v)
{
	struct vmx_vcpu *s = &v->arch.vmx;

	if (((s->entry_intr & INTR_INFO_VALID) && !is_ext_intr(s->entry_intr)) ||
	    (guest_blocking(v) &
	     (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))) {
		if (vmx_caps.nmi_window)
			set_nmi_window_exiting(s, true);
		return false;
	}
	if (is_ext_intr(s->entry_intr)) {
		s->window_vector = INTR_INFO_VECTOR(s->entry_intr);
		s->window_pending = true;
		set_window_exiting(s, true);
	}
	set_entry_event(s, 2 | (INTR_TYPE_NMI << 8) | INTR_INFO_VALID);
	return true;
}

/* NMI-window exit: the guest can take an NMI now; the core offers it. */
void vmx_nmi_window_open(struct vcpu *v)
{
	set_nmi_window_exiting(&v->arch.vmx, false);
	v->irq_work = true;
}

/* Blocking by STI or MOV SS, unless the dispatcher has moved past the
 * instruction in the shadow (vmx_run then drops it). */
bool vmx_irq_shadow(struct vcpu *v)
{
	return v->regs.rip == v->arch.vmx.exit_rip &&
	       (vmread(VMCS_GUEST_INTERRUPTIBILITY) &
		(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

bool vmx_irq_offered(struct vcpu *v)
{
	const struct vmx_vcpu *s = &v->arch.vmx;

	return s->window_pending || is_ext_intr(s->entry_intr);
}

void vmx_withdraw_irq(struct vcpu *v, u8 vector)
{
	struct vmx_vcpu *s = &v->arch.vmx;

	if (s->window_pending && s->window_vector == vector) {
		s->window_pending = false;
		set_window_exiting(s, false);
	}
	if (is_ext_intr(s->entry_intr) && INTR_INFO_VECTOR(s->entry_intr) == vector)
		set_entry_event(s, 0);
}

/*
 * The exit interrupted the delivery of an event (IDT-vectoring information,
 * 28.2.3): deliver it again on the next entry, with its error code, and
 * for software interrupts and exceptions the instruction length (27.6.1).
 */
void vmx_reinject(struct vcpu *v, u32 idt)
{
	u32 type = INTR_INFO_TYPE(idt);

	if (idt & INTR_INFO_ERROR_VALID)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SW_EXCEPTION)
		vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
	set_entry_event(&v->arch.vmx, idt & (INTR_INFO_VALID | INTR_INFO_ERROR_VALID | 0x7ff));
}

/* Interrupt-window exit: the guest can take the waiting interrupt now. */
void vmx_window_open(struct vcpu *v)
{
	struct vmx_vcpu *s = &v->arch.vmx;

	if (!s->window_pending) {
		set_window_exiting(s, false);
		return;
	}
	/* An event the exit interrupted goes first; the window stays asked for. */
	if (s->entry_intr & INTR_INFO_VALID)
		return;
	set_window_exiting(s, false);
	s->window_pending = false;
	set_entry_event(s, s->window_vector | (INTR_TYPE_EXT_INTR << 8) | INTR_INFO_VALID);
}
