/*
 * INVLPG, when the VM's intercept policy catches it (off by default: with
 * nested paging the guest's INVLPG does its own work). Emulated by dropping
 * the vCPU's guest translations on this CPU, a superset of the one page; the
 * address is kept in the exit for shadow paging, which will need it. On
 * VT-x, INVPCID exits with it and is emulated the same way.
 */
#include "core/exit_handlers.h"
#include "arch/x86/emul/fetch.h"
#include "arch/x86/emul/operand.h"
#include "hv/exit.h"
#include "hv/shadow.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

/* INVLPG m (0F 01 /7, a memory operand) decoded from guest memory: its
 * linear address and length go to e. -1 when it is not INVLPG. */
static int invlpg_decode(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	struct insn in;
	u32 pf_error;
	bool long64;
	u64 a;

	vendor->get_ctx(v, &ctx);
	long64 = guest_ctx_mode(&ctx, v->regs.rflags) == MODE_LONG64;
	if (insn_fetch_decode_cached(v->vm, &ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache,
				     &in, &pf_error))
		return -1;
	if (in.map != INSN_MAP_0F || in.opcode != 0x01 || in.mod == 3 || (in.reg & 7) != 7)
		return -1;
	insn_operand_linear(&in, v->regs.gpr, v->regs.rip, &ctx, long64, &a);
	e->invlpg.addr = a;
	e->invlpg.known = true;
	e->insn_len = in.len;
	return 0;
}

/* INVPCID (SDM vol. 2): types 0-3 flush one address, one PCID, all with
 * globals, all without; a larger type is #GP. Each is within a full flush
 * (the descriptor's reserved bits are not checked). */
static enum exit_action invpcid(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	u64 type = v->regs.gpr[e->invlpg.type_gpr & 15];

	vendor->get_paging_ctx(v, &ctx);
	if (guest_ctx_mode(&ctx, v->regs.rflags) != MODE_LONG64)
		type = (u32)type;
	if (type > 3)
		return vcpu_fault(v, EXC_GP, true, 0);
	vendor->flush_guest_tlb(v);
	return ACT_SKIP;
}

enum exit_action handle_invlpg(struct vcpu *v, struct vmexit *e)
{
	if (e->invlpg.invpcid)
		return invpcid(v, e);
	if (!e->invlpg.known && invlpg_decode(v, e))
		return vm_stop_report(v, "an INVLPG exit at rip %lx that is not INVLPG", v->regs.rip);
	if (v->shadow) {
		/* Only the address's region of the shadow (hv/shadow.h). */
		shadow_invlpg(v->shadow, e->invlpg.addr);
		return ACT_SKIP;
	}
	vendor->flush_guest_tlb(v);
	return ACT_SKIP;
}
