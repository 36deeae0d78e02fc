#include "core/exit_handlers.h"
#include "arch/x86/emul/msr.h"
#include "hv/exit.h"
#include "hv/vcpu.h"

enum exit_action handle_msr_read(struct vcpu *v, struct vmexit *e)
{
	u64 *r = v->regs.gpr;
	u64 val;

	if (msr_read(v, (u32)r[GPR_RCX], &val))
		return vcpu_fault(v, EXC_GP, true, 0);
	r[GPR_RAX] = (u32)val;
	r[GPR_RDX] = val >> 32;
	return ACT_SKIP;
}

enum exit_action handle_msr_write(struct vcpu *v, struct vmexit *e)
{
	u64 *r = v->regs.gpr;
	u64 val = (r[GPR_RDX] << 32) | (u32)r[GPR_RAX];

	if (msr_write(v, (u32)r[GPR_RCX], val))
		return vcpu_fault(v, EXC_GP, true, 0);
	return ACT_SKIP;
}
