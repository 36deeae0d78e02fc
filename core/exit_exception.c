/*
 * Exceptions the VM's intercept policy catches (hv/intercept.h; #MC and #UD
 * by default: a #UD that is the other vendor's hypercall never gets here,
 * core/exit.c). Nothing in utsuwa needs to see them yet: each goes back to
 * the guest as the CPU would have delivered it, so that shadow paging (#PF)
 * or a debugger (#DB, #BP) can hook in here later.
 */
#include "core/exit_handlers.h"
#include "hv/exit.h"
#include "hv/intercept.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

#define EXC_BP 3
#define EXC_OF 4

enum exit_action handle_exception(struct vcpu *v, struct vmexit *e)
{
	u8 vector = e->exc.vector;

	if (vector >= 32 || !(v->vm->intercepts->exceptions & BIT(vector)))
		return vm_stop_report(v, "exception %u exited, which the VM's policy does not "
				      "intercept", vector);
	/* Shadow paging: most #PFs are its own (hv/shadow.h). */
	if (vector == EXC_PF && v->shadow)
		return handle_shadow_pf(v, e);
	/* A #PF's address reaches CR2 only with its delivery (APM vol. 2,
	 * 15.12; SDM vol. 3, 28.1): deliver both. */
	if (vector == EXC_PF)
		vendor->set_cr(v, 2, e->exc.address);
	vcpu_inject_exception(v, vector, e->exc.has_error, e->exc.error);
	/* INT3 and INTO are traps: the exit leaves RIP on them, the guest's
	 * handler must return after them (SDM vol. 3, 6.5). */
	if (vector == EXC_BP || vector == EXC_OF)
		return ACT_SKIP;
	return ACT_RESUME;
}
