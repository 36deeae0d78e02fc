/*
 * MOV to CR8: in 64-bit mode CR8 is the local APIC's TPR[7:4] (SDM vol. 3A,
 * "Task Priority in IA-32e Mode"; APM vol. 2, 16.6.4 "CR8 and the TPR"),
 * and utsuwa's local APIC is a model in memory, so every write exits and
 * goes to it; the back end keeps a copy for reads that do not exit (V_TPR
 * on AMD-V, the virtual-APIC page on VT-x; vendor set_tpr). A guest that
 * raises its TPR this way, as Windows does on every IRQL change, holds back
 * the interrupts below it exactly as through the APIC page.
 */
#include "core/exit_handlers.h"
#include "arch/x86/emul/fetch.h"
#include "devices/vlapic.h"
#include "hv/exit.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

/* The source register of the trapped MOV to CR8: 0F 22 /r with ModRM.reg
 * (REX.R included) 8, or AMD's LOCK MOV CR0 for CR8 outside 64-bit mode.
 * Its length goes to e, so that the dispatcher does not decode it again. */
static int cr8_source(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	struct insn insn;
	u32 pf_error;

	vendor->get_paging_ctx(v, &ctx);
	if (insn_fetch_decode_cached(v->vm, &ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache,
				     &insn, &pf_error))
		return -1;
	if (insn.map != INSN_MAP_0F || insn.opcode != 0x22)
		return -1;
	if (insn.reg != 8 && !(insn.reg == 0 && (insn.prefixes & INSN_PFX_LOCK)))
		return -1;
	e->insn_len = insn.len;
	return insn.rm;
}

enum exit_action handle_cr8_write(struct vcpu *v, struct vmexit *e)
{
	int gpr = e->cr8.gpr >= 0 ? e->cr8.gpr : cr8_source(v, e);
	u64 val;

	if (gpr < 0 || gpr > 15 || !v->lapic)
		return vm_stop_report(v, "a CR8 write exit at rip %lx that is not MOV to CR8",
				      v->regs.rip);
	val = v->regs.gpr[gpr];
	if (val >> 4) /* bits 63:4 are reserved */
		return vcpu_fault(v, EXC_GP, true, 0);
	vlapic_cr8_write(v->lapic, (u8)val);
	v->irq_work = true; /* a lower TPR may let a pending interrupt through */
	return ACT_SKIP;
}
