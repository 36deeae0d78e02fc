#include "core/exit_handlers.h"
#include "arch/x86/emul/cpuid.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

enum exit_action handle_cpuid(struct vcpu *v, struct vmexit *e)
{
	u64 *r = v->regs.gpr;
	struct cpuid_leaf out = cpuid_policy_lookup(v->vm->cpuid, v->id, (u32)r[GPR_RAX],
						    (u32)r[GPR_RCX]);

	/* 32-bit results zero-extend into the 64-bit registers. */
	r[GPR_RAX] = out.eax;
	r[GPR_RBX] = out.ebx;
	r[GPR_RCX] = out.ecx;
	r[GPR_RDX] = out.edx;
	return ACT_SKIP;
}
