/*
 * CR8: in 64-bit mode CR8 is the local APIC's TPR[7:4] (SDM vol. 3A, "Task
 * Priority in IA-32e Mode"; APM vol. 2, 16.6.4 "CR8 and the TPR"), and
 * utsuwa's local APIC is a model in memory, so every write exits and goes
 * to it (core/exit_cr.c passes it here); the back end keeps a copy for reads
 * that do not exit (V_TPR on AMD-V, the virtual-APIC page on VT-x; vendor
 * set_tpr). A guest that raises its TPR this way, as Windows does on every
 * IRQL change, holds back the interrupts below it exactly as through the
 * APIC page.
 */
#include "core/exit_handlers.h"
#include "devices/vlapic.h"
#include "hv/exit.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

enum exit_action cr8_write(struct vcpu *v, u64 val)
{
	if (!v->lapic)
		return vm_stop_report(v, "MOV to CR8 at rip %lx without a local APIC", v->regs.rip);
	if (val >> 4) /* bits 63:4 are reserved */
		return vcpu_fault(v, EXC_GP, true, 0);
	vlapic_cr8_write(v->lapic, (u8)val);
	v->irq_work = true; /* a lower TPR may let a pending interrupt through */
	return ACT_SKIP;
}

u64 cr8_read(struct vcpu *v)
{
	return v->lapic ? vlapic_cr8_read(v->lapic) : 0;
}
