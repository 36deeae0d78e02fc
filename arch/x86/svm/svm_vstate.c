/*
 * The AMD-V part of a vCPU's whole state (include/hv/vcpu_state.h): the
 * VMCB's state save area (APM vol. 2, Appendix B, Table B-2), EVENTINJ
 * (15.20), the interrupt shadow (15.21.5), V_TPR (15.21.1); and freeing the
 * VMCB. The VMCB is plain memory, so any CPU may do this while the vCPU is
 * quiesced.
 */
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vmcb.h"
#include "hv/guest_ctx.h"
#include "hv/mm.h"
#include "hv/vcpu.h"
#include "hv/shadow.h"
#include "hv/vcpu_state.h"
#include "hv/vm.h"

#define EVENTINJ_TYPE(ev) (((ev) >> 8) & 7)

static void seg_out(struct vcpu_state_seg *d, const struct vmcb_seg *s)
{
	d->sel = s->sel;
	d->attr = s->attr;
	d->limit = s->limit;
	d->base = s->base;
}

static void seg_in(struct vmcb_seg *d, const struct vcpu_state_seg *s)
{
	d->sel = s->sel;
	d->attr = s->attr;
	d->limit = s->limit;
	d->base = s->base;
}

/* EVENTINJ and EXITINTINFO types (15.20): 0 INTR, 2 NMI, 3 exception,
 * 4 software interrupt; the same numbers as VT-x's for these four. */
static void event_out(struct vcpu_state_event *e, u64 ev)
{
	if (!(ev & EVENTINJ_VALID))
		return;
	e->valid = 1;
	e->type = (u8)EVENTINJ_TYPE(ev);
	e->vector = (u8)ev;
	e->has_error = !!(ev & EVENTINJ_EV);
	e->error = e->has_error ? (u32)(ev >> 32) : 0;
}

/* VT-x's INT1 and INT3/INTO types are exceptions here, delivered from the
 * RIP the state holds (a state taken on VT-x points at the instruction). */
static u64 event_in(const struct vcpu_state_event *e)
{
	u64 type = e->type == VCPU_EVENT_PRIV_SW_EXCEPTION || e->type == VCPU_EVENT_SW_EXCEPTION
			   ? VCPU_EVENT_HW_EXCEPTION : e->type;
	u64 ev;

	if (!e->valid)
		return 0;
	ev = e->vector | (type << 8) | EVENTINJ_VALID;
	if (e->has_error)
		ev |= EVENTINJ_EV | ((u64)e->error << 32);
	return ev;
}

void svm_pending_event(struct vcpu *v, struct vcpu_state_event *e)
{
	*e = (struct vcpu_state_event){ 0 };
	event_out(e, v->arch.svm.vmcb->control.eventinj);
}

int svm_get_state(struct vcpu *v, struct vcpu_state *s)
{
	const struct vmcb *vmcb = v->arch.svm.vmcb;
	const struct vmcb_save *a = &vmcb->save;
	const struct vmcb_control *c = &vmcb->control;

	seg_out(&s->es, &a->es);
	seg_out(&s->cs, &a->cs);
	seg_out(&s->ss, &a->ss);
	seg_out(&s->ds, &a->ds);
	seg_out(&s->fs, &a->fs);
	seg_out(&s->gs, &a->gs);
	seg_out(&s->tr, &a->tr);
	seg_out(&s->ldtr, &a->ldtr);
	s->gdtr.base = a->gdtr.base;
	s->gdtr.limit = a->gdtr.limit;
	s->idtr.base = a->idtr.base;
	s->idtr.limit = a->idtr.limit;
	s->cr0 = a->cr0;
	s->cr2 = a->cr2;
	s->cr3 = a->cr3;
	s->cr4 = a->cr4;
	s->cr8 = c->int_ctl & V_TPR_MASK;
	s->dr6 = a->dr6;
	s->dr7 = a->dr7;
	s->msrs.efer = a->efer & ~EFER_SVME;
	s->msrs.pat = a->g_pat;
	s->msrs.sysenter_cs = a->sysenter_cs;
	s->msrs.sysenter_esp = a->sysenter_esp;
	s->msrs.sysenter_eip = a->sysenter_eip;
	s->msrs.star = a->star;
	s->msrs.lstar = a->lstar;
	s->msrs.cstar = a->cstar;
	s->msrs.sfmask = a->sfmask;
	s->msrs.kernel_gs_base = a->kernel_gs_base;
	s->msrs.debugctl = a->dbgctl;
	/* svm_run turned an event the exit interrupted into EVENTINJ; V_IRQ
	 * (an interrupt only offered) stays behind in the local APIC's IRR. */
	event_out(&s->event, c->eventinj);
	/* The shadow covers the instruction at the exit's RIP only: once the
	 * dispatcher moved past it, it is over (svm_run's shadow_fixup). AMD-V
	 * does not say whether STI or MOV SS made it. */
	if ((c->int_state & INT_STATE_SHADOW) && a->rip == v->regs.rip)
		s->shadow = VCPU_SHADOW_STI;
	/* AMD-V keeps no NMI blocking in the VMCB without vNMI: ours (svm_nmi.c). */
	s->nmi_blocked = svm_nmi_blocked(v);
	return 0;
}

int svm_set_state(struct vcpu *v, const struct vcpu_state *s)
{
	struct svm_vcpu *sv = &v->arch.svm;
	struct vmcb_save *a = &sv->vmcb->save;
	struct vmcb_control *c = &sv->vmcb->control;

	seg_in(&a->es, &s->es);
	seg_in(&a->cs, &s->cs);
	seg_in(&a->ss, &s->ss);
	seg_in(&a->ds, &s->ds);
	seg_in(&a->fs, &s->fs);
	seg_in(&a->gs, &s->gs);
	seg_in(&a->tr, &s->tr);
	seg_in(&a->ldtr, &s->ldtr);
	a->gdtr.base = s->gdtr.base;
	a->gdtr.limit = (u32)s->gdtr.limit;
	a->idtr.base = s->idtr.base;
	a->idtr.limit = (u32)s->idtr.limit;
	/* The CPL is SS.DPL in protected mode, 0 in real mode, 3 in virtual-8086
	 * mode (APM vol. 2, 15.5.1: VMRUN takes it from the CPL field). */
	a->cpl = !(s->cr0 & CR0_PE) ? 0 : (s->rflags & RFLAGS_VM) ? 3 : (u8)SEG_ATTR_DPL(s->ss.attr);
	a->efer = s->msrs.efer | EFER_SVME; /* SVME stays set in guest mode */
	a->cr0 = s->cr0;
	a->cr2 = s->cr2;
	a->cr3 = s->cr3;
	a->cr4 = s->cr4;
	a->dr6 = s->dr6;
	a->dr7 = s->dr7;
	a->g_pat = s->msrs.pat;
	a->sysenter_cs = s->msrs.sysenter_cs;
	a->sysenter_esp = s->msrs.sysenter_esp;
	a->sysenter_eip = s->msrs.sysenter_eip;
	a->star = s->msrs.star;
	a->lstar = s->msrs.lstar;
	a->cstar = s->msrs.cstar;
	a->sfmask = s->msrs.sfmask;
	a->kernel_gs_base = s->msrs.kernel_gs_base;
	a->dbgctl = s->msrs.debugctl;
	a->rip = v->regs.rip;
	a->rsp = v->regs.gpr[GPR_RSP];
	a->rax = v->regs.gpr[GPR_RAX];
	a->rflags = v->regs.rflags;

	c->int_ctl = (c->int_ctl & ~(V_IRQ | V_TPR_MASK)) | (s->cr8 & V_TPR_MASK);
	c->int_state = s->shadow ? INT_STATE_SHADOW : 0;
	c->eventinj = event_in(&s->event);
	sv->virq_inflight = false;
	svm_set_nmi_blocked(v, s->nmi_blocked);
	/* A fresh ASID at the next vcpu_load: nothing the old state cached
	 * can serve the new one (15.16). */
	tlb_tag_drop(&sv->asid);
	if (v->shadow)
		shadow_flush(v->shadow);
	return 0;
}

void svm_vcpu_destroy(struct vcpu *v)
{
	if (v->arch.svm.vmcb)
		page_free((u64)(uintptr_t)v->arch.svm.vmcb, 1);
	v->arch.svm.vmcb = NULL;
}

/* The VM's permission maps; its nested tables are the gmem's to free. */
void svm_vm_destroy(struct vm *vm)
{
	svm_vm_maps_free(vm);
}
