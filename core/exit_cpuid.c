#include "core/exit_handlers.h"
#include "arch/x86/emul/cpuid.h"
#include "devices/vlapic.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"

enum exit_action handle_cpuid(struct vcpu *v, struct vmexit *e)
{
	u64 *r = v->regs.gpr;
	u32 leaf = (u32)r[GPR_RAX];
	struct cpuid_leaf out = cpuid_policy_lookup(v->vm->cpuid, v->id, leaf, (u32)r[GPR_RCX]);

	/* With IA32_APIC_BASE.EN clear the CPU is one without a local APIC,
	 * and CPUID.1:EDX.APIC[9] reads 0 (SDM vol. 3, 11.4.3 "Enabling or
	 * Disabling the Local APIC"). */
	if (unlikely(leaf == 1) && v->lapic && !vlapic_globally_enabled(v->lapic))
		out.edx &= ~(u32)CPUID_1_EDX_APIC;

	/* 32-bit results zero-extend into the 64-bit registers. */
	r[GPR_RAX] = out.eax;
	r[GPR_RBX] = out.ebx;
	r[GPR_RCX] = out.ecx;
	r[GPR_RDX] = out.edx;
	return ACT_SKIP;
}

/* RDTSC while the VM's TSC is scaled (hv/vm_clock.h): the guest TSC in
 * EDX:EAX, the high halves of RAX and RDX cleared (SDM vol. 2B, RDTSC). */
enum exit_action handle_rdtsc(struct vcpu *v, struct vmexit *e)
{
	u64 tsc = vm_guest_tsc(v->vm);

	v->regs.gpr[GPR_RAX] = (u32)tsc;
	v->regs.gpr[GPR_RDX] = tsc >> 32;
	return ACT_SKIP;
}
