/*
 * A #PF under shadow paging (include/hv/shadow.h): the shadow MMU says
 * whether it was its own (a leaf to fill), the guest's (delivered as the
 * CPU would, CR2 with it), or an access to device memory, which goes to the
 * same MMIO path as a nested page fault (core/exit_mem.c).
 */
#include "core/exit_handlers.h"
#include "hv/exit.h"
#include "hv/shadow.h"
#include "hv/vcpu.h"
#include "hv/vcpu_state.h"
#include "hv/vendor.h"
#include "hv/vm.h"

/* #DE, #TS, #NP, #SS, #GP: the contributory exceptions (SDM vol. 3,
 * table 6-4). */
static bool contributory(u8 vector)
{
	return vector == 0 || (vector >= 10 && vector <= 13);
}

/*
 * The guest's tables forbid the access: a #PF for the guest, unless the
 * exit stopped the delivery of an exception, where the CPU would combine
 * the two (SDM vol. 3, 6.15, table 6-5; APM vol. 2, 8.2.9): a #PF on the
 * way into a #PF or a contributory exception is a #DF (CR2 untouched), on
 * the way into a #DF a triple fault, which stops the VM as a shutdown
 * exit does. After a benign exception, an NMI or an interrupt the #PF
 * comes alone (VT-x keeps an external interrupt waiting behind it; AMD-V
 * and NMIs lose it). Under nested paging the CPU does this itself: the
 * guest's own #PF never exits.
 */
static enum exit_action guest_page_fault(struct vcpu *v, u64 la, u32 error)
{
	struct vcpu_state_event ev;

	vendor->pending_event(v, &ev);
	if (ev.valid && ev.type == VCPU_EVENT_HW_EXCEPTION) {
		if (ev.vector == EXC_DF)
			return vm_stop_report(v, "shutdown (triple fault) on vCPU %u: a #PF "
					      "delivering #DF", v->id);
		if (ev.vector == EXC_PF || contributory(ev.vector))
			return vcpu_fault(v, EXC_DF, true, 0);
	}
	/* CR2 is written with the #PF's delivery (APM vol. 2, 15.12). */
	vendor->set_cr(v, 2, la);
	return vcpu_fault(v, EXC_PF, true, error);
}

enum exit_action handle_shadow_pf(struct vcpu *v, struct vmexit *e)
{
	u64 la = e->exc.address;
	u32 hw_error = e->exc.error;
	struct shadow_fault f = { 0 };
	struct guest_ctx ctx;

	vendor->get_paging_ctx(v, &ctx);
	ctx.efer &= ~EFER_SVME; /* AMD-V's, not the guest's */
	shadow_page_fault(v->shadow, v->vm, &ctx, la, hw_error, &f);
	switch (f.kind) {
	case SHADOW_FIXED:
		return ACT_RESUME;
	case SHADOW_GUEST_FAULT:
		return guest_page_fault(v, la, f.error);
	case SHADOW_GP:
		return vcpu_fault(v, EXC_GP, true, 0);
	case SHADOW_BAD_TABLE:
		return vm_stop_report(v, "its page tables reach guest-physical %lx, outside its RAM",
				      f.gpa);
	case SHADOW_MMIO:
		break;
	}
	/* The union's #PF fields become a nested page fault's. */
	e->mem.gpa = f.gpa;
	e->mem.write = hw_error & PF_ERR_W;
	e->mem.fetch = hw_error & PF_ERR_ID;
	e->mem.present = false;
	e->mem.walk = false;
	return handle_mem(v, e);
}
