/* HLT, shutdown, and the exits that end in a fault or a report. */
#include "core/exit_handlers.h"
#include "hv/exit.h"
#include "hv/guest_ctx.h"
#include "hv/spinlock.h"
#include "devices/vlapic.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

enum exit_action handle_nothing(struct vcpu *v, struct vmexit *e)
{
	return ACT_RESUME;
}

enum exit_action handle_hlt(struct vcpu *v, struct vmexit *e)
{
	struct vm *vm = v->vm;
	unsigned stuck = 0;

	if (v->regs.rflags & RFLAGS_IF) {
		v->halted_if0 = false;
		/* An interrupt already waiting is taken at once: the HLT
		 * completes without sleeping. */
		if (vcpu_irq_deliverable(v)) {
			v->irq_work = true;
			return ACT_SKIP;
		}
		return ACT_HALT;
	}
	/* With interrupts off only an NMI, SMI or INIT wakes it. An NMI
	 * already waiting is taken at once. Once every vCPU is halted so, the
	 * VM is taken for dead: no vCPU is left to send an NMI or INIT (an
	 * I/O APIC entry in NMI delivery mode could; utsuwa does not wait for
	 * one). */
	if (v->lapic && vlapic_nmi_pending(v->lapic)) {
		v->irq_work = true;
		return ACT_SKIP;
	}
	v->halted_if0 = true;
	spin_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		stuck += vm->vcpus[i]->halted_if0 || vm->vcpus[i]->state == VCPU_STOPPED;
	spin_unlock(&vm->lock);
	if (stuck == vm->nr_vcpus)
		return vm_stop_report(v, "all vCPUs halted with interrupts disabled");
	return ACT_HALT;
}

enum exit_action handle_shutdown(struct vcpu *v, struct vmexit *e)
{
	return vm_stop_report(v, "shutdown (triple fault) on vCPU %u", v->id);
}

/* XSAVE is not offered (CPUID hides it), so no XCR0 value is accepted. */
enum exit_action handle_xsetbv(struct vcpu *v, struct vmexit *e)
{
	return vcpu_fault(v, EXC_GP, true, 0);
}

/* INVD would discard the host's dirty cache lines; doing nothing is safe,
 * since guest memory is write-back and coherent. */
enum exit_action handle_invd(struct vcpu *v, struct vmexit *e)
{
	return ACT_SKIP;
}

enum exit_action handle_ud(struct vcpu *v, struct vmexit *e)
{
	return vcpu_fault(v, EXC_UD, false, 0);
}

enum exit_action handle_machine_check(struct vcpu *v, struct vmexit *e)
{
	return vm_stop_report(v, "machine check while the guest ran");
}

enum exit_action handle_entry_fail(struct vcpu *v, struct vmexit *e)
{
	return vm_stop_report(v, "the CPU refused to enter the guest (code %lx, information %lx): "
			      "the back end's line above says why", e->hw_code, e->hw_info1);
}

enum exit_action handle_unexpected(struct vcpu *v, struct vmexit *e)
{
	return vm_stop_report(v, "unexpected exit, code %lx, info %lx %lx", e->hw_code,
			      e->hw_info1, e->hw_info2);
}
