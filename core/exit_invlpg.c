/*
 * INVLPG, when the VM's intercept policy catches it (off by default: with
 * nested paging the guest's INVLPG does its own work). Emulated by dropping
 * the vCPU's guest translations on this CPU, a superset of the one page; the
 * address is kept in the exit for shadow paging, which will need it. On
 * VT-x, INVPCID exits with it and is emulated the same way.
 */
#include "core/exit_handlers.h"
#include "arch/x86/emul/fetch.h"
#include "hv/exit.h"
#include "hv/shadow.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

/* The segment an address is formed in: the override, else SS for a stack
 * base (rSP, rBP; BP in 16-bit forms), else DS (SDM vol. 1, 3.7.4). In
 * 64-bit mode only FS and GS have a base (3.3.7.1). */
static u64 segment_base(const struct guest_ctx *c, const struct insn *in, bool long64)
{
	switch (in->seg) {
	case INSN_SEG_FS: return c->fs.base;
	case INSN_SEG_GS: return c->gs.base;
	case INSN_SEG_ES: return long64 ? 0 : c->es.base;
	case INSN_SEG_CS: return long64 ? 0 : c->cs.base;
	case INSN_SEG_SS: return long64 ? 0 : c->ss.base;
	case INSN_SEG_DS: return long64 ? 0 : c->ds.base;
	}
	if (long64)
		return 0;
	return in->base == GPR_RSP || in->base == GPR_RBP ? c->ss.base : c->ds.base;
}

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
	a = (u64)in.disp;
	if (in.rip_rel)
		a += v->regs.rip + in.len;
	else if (in.base != INSN_NO_REG)
		a += v->regs.gpr[in.base];
	if (in.index != INSN_NO_REG)
		a += v->regs.gpr[in.index] * in.scale;
	if (in.addr_size < 8)
		a &= (1ULL << (in.addr_size * 8)) - 1;
	a += segment_base(&ctx, &in, long64);
	e->invlpg.addr = long64 ? a : (u32)a;
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
