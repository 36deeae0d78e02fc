/* A memory operand's linear address (operand.h). */
#include "arch/x86/emul/operand.h"
#include "hv/vcpu.h"

/* The segment: the override, else SS for a stack base (rSP, rBP; BP in the
 * 16-bit forms), else DS; STOS always ES. */
static const struct seg *segment(const struct insn *in, const struct guest_ctx *c)
{
	if (in->kind == INSN_STOS)
		return &c->es;
	switch (in->seg) {
	case INSN_SEG_ES: return &c->es;
	case INSN_SEG_CS: return &c->cs;
	case INSN_SEG_SS: return &c->ss;
	case INSN_SEG_DS: return &c->ds;
	case INSN_SEG_FS: return &c->fs;
	case INSN_SEG_GS: return &c->gs;
	}
	return in->base == GPR_RSP || in->base == GPR_RBP ? &c->ss : &c->ds;
}

bool insn_operand_linear(const struct insn *in, const u64 *gpr, u64 rip, const struct guest_ctx *ctx,
			 bool long64, u64 *linear)
{
	const struct seg *s = segment(in, ctx);
	u64 a;

	if (in->kind == INSN_STOS) {
		a = gpr[GPR_RDI];
	} else if (in->kind == INSN_MOV_MOFFS) {
		a = in->imm;
	} else if (in->has_modrm && in->mod != 3) {
		a = (u64)in->disp;
		if (in->rip_rel)
			a += rip + in->len;
		else if (in->base != INSN_NO_REG)
			a += gpr[in->base];
		if (in->index != INSN_NO_REG)
			a += gpr[in->index] * in->scale;
	} else {
		return false;
	}
	if (in->addr_size < 8)
		a &= (1ULL << (in->addr_size * 8)) - 1;
	if (!long64 || s == &ctx->fs || s == &ctx->gs)
		a += s->base;
	*linear = long64 ? a : (u32)a;
	return true;
}
