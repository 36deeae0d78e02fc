/*
 * NMIs for AMD-V guests. An NMI is injected through EVENTINJ (type 2,
 * APM vol. 2, 15.20); the CPU then holds further NMIs off until the
 * handler's IRET (vol. 2, 8.2.3 "NMI"), but without vNMI the VMCB does not
 * show that blocking, so the hypervisor keeps it: nmi_masked from the
 * injection until the IRET has run. IRET is intercepted meanwhile (15.9,
 * intercept word 3 bit 20); its exit comes before the instruction runs, so
 * the NMI window opens at the first exit after it whose RIP is elsewhere
 * (as KVM does without vNMI). A pending NMI thus waits at most until then:
 * the next exit of any kind, the host's 1 kHz tick at the latest.
 */
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vmcb.h"
#include "hv/vcpu.h"

/* The guest can take an NMI now: no NMI handler running, no event on its
 * way in (an exception or a re-delivery goes first), no interrupt shadow
 * (which holds NMIs off too on AMD: 15.21.5). */
bool svm_offer_nmi(struct vcpu *v)
{
	struct svm_vcpu *s = &v->arch.svm;
	struct vmcb *vmcb = s->vmcb;

	if (s->nmi_masked || (vmcb->control.eventinj & EVENTINJ_VALID) ||
	    ((vmcb->control.int_state & INT_STATE_SHADOW) && vmcb->save.rip == v->regs.rip))
		return false;
	vmcb->control.eventinj = 2 | EVENTINJ_TYPE_NMI | EVENTINJ_VALID;
	vmcb->control.intercept_misc1 |= INTERCEPT_IRET;
	s->nmi_masked = true;
	s->iret_seen = false;
	return true;
}

/* After each exit while an NMI handler runs (svm_run). */
void svm_nmi_track(struct vcpu *v)
{
	struct svm_vcpu *s = &v->arch.svm;
	struct vmcb *vmcb = s->vmcb;

	if (vmcb->control.exitcode == SVM_EXIT_IRET) {
		s->iret_seen = true;
		s->iret_rip = vmcb->save.rip;
		vmcb->control.intercept_misc1 &= ~INTERCEPT_IRET;
		return;
	}
	/* An NMI whose delivery this exit interrupted is delivered again: its
	 * handler has not begun. */
	if (s->iret_seen && vmcb->save.rip != s->iret_rip) {
		s->nmi_masked = false;
		s->iret_seen = false;
		v->irq_work = true; /* an NMI may be waiting */
	}
}

/* For the vCPU's saved state (svm_vstate.c): blocking by NMI, i.e. an
 * NMI handler runs and its IRET has not. */
bool svm_nmi_blocked(const struct vcpu *v)
{
	const struct svm_vcpu *s = &v->arch.svm;

	return s->nmi_masked && !(s->iret_seen && v->regs.rip != s->iret_rip);
}

void svm_set_nmi_blocked(struct vcpu *v, bool blocked)
{
	struct svm_vcpu *s = &v->arch.svm;

	s->nmi_masked = blocked;
	s->iret_seen = false;
	if (blocked)
		s->vmcb->control.intercept_misc1 |= INTERCEPT_IRET;
	else
		s->vmcb->control.intercept_misc1 &= ~INTERCEPT_IRET;
}
