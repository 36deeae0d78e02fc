/*
 * MOV to and from a control register. The back end says which register and
 * which way, and the register operand when the CPU told it; the checks are
 * the vendor-neutral policy's (arch/x86/emul/cr.c), and the back end only
 * loads the result (vendor set_cr). What exits today: CR8 writes on both
 * back ends; every CR4 write on AMD-V; on VT-x the CR0/CR4 writes that
 * change a bit VMX operation fixes or a CR4 bit of a feature CPUID may hide
 * (vmx_cr4_mask); shadow paging will add CR0/CR3/CR4 reads and writes.
 */
#include "core/exit_handlers.h"
#include "arch/x86/emul/cpuid.h"
#include "arch/x86/emul/cr.h"
#include "arch/x86/emul/fetch.h"
#include "asm/cpu.h"
#include "hv/exit.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

/* mov_cr_operand's answers for the other CR0 writers. */
#define CR0_CLTS 100
#define CR0_LMSW_BASE 200

/*
 * The register operand of the trapped instruction, from guest memory (AMD-V
 * without decode assists): 0F 22 /r is MOV to CR[reg], 0F 20 /r MOV from it,
 * and with LOCK, CR0 means CR8 (AMD's form outside 64-bit mode). -1 when it
 * is not the MOV the exit names. Its length goes to e: the dispatcher need
 * not decode it again.
 */
static int mov_cr_operand(struct vcpu *v, struct vmexit *e, const struct guest_ctx *ctx)
{
	struct insn insn;
	u32 pf_error;
	unsigned cr;

	if (insn_fetch_decode_cached(v->vm, ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache,
				     &insn, &pf_error))
		return -1;
	if (insn.map == INSN_MAP_0F && e->cr.cr == 0 && e->cr.write &&
	    (insn.opcode == 0x06 || (insn.opcode == 0x01 && insn.mod == 3 && (insn.reg & 7) == 6))) {
		/* CLTS (0F 06) and LMSW r16 (0F 01 /6) write CR0 too, and exit
		 * with its write intercept (shadow paging, APM vol. 2, 15.9). */
		e->insn_len = insn.len;
		return insn.opcode == 0x06 ? CR0_CLTS : CR0_LMSW_BASE + insn.rm;
	}
	if (insn.map != INSN_MAP_0F || (insn.opcode != 0x20 && insn.opcode != 0x22))
		return -1;
	cr = insn.reg == 0 && (insn.prefixes & INSN_PFX_LOCK) ? 8 : insn.reg;
	if (cr != e->cr.cr || (insn.opcode == 0x22) != e->cr.write)
		return -1;
	e->insn_len = insn.len;
	return insn.rm;
}

static enum exit_action cr0_write(struct vcpu *v, const struct guest_ctx *ctx, bool long64,
				  u64 val)
{
	u64 efer;

	if (cr0_write_check(ctx, long64, &val, &efer))
		return vcpu_fault(v, EXC_GP, true, 0);
	/* Entering or leaving long mode: EFER.LMA first, the back end's
	 * CR0 load may depend on it (VT-x's PDPTEs). */
	if (efer != ctx->efer)
		vendor->msr_state(v, MSR_EFER, true, &efer);
	if (vendor->set_cr(v, 0, val)) {
		u64 old = ctx->efer;

		if (efer != old)
			vendor->msr_state(v, MSR_EFER, true, &old);
		return vcpu_fault(v, EXC_GP, true, 0);
	}
	return ACT_SKIP;
}

static enum exit_action cr_write(struct vcpu *v, struct guest_ctx *ctx, bool long64, unsigned cr,
				 u64 val)
{
	switch (cr) {
	case 0:
		return cr0_write(v, ctx, long64, val);
	case 2:
		vendor->set_cr(v, 2, val);
		return ACT_SKIP;
	case 3:
		/* With PCIDs, bit 63 only asks the CPU to keep the PCID's
		 * translations; it is not part of CR3 (SDM vol. 3, 4.10.4.1). */
		if (ctx->cr4 & BIT(17))
			val &= ~BIT(63);
		return vendor->set_cr(v, 3, val) ? vcpu_fault(v, EXC_GP, true, 0) : ACT_SKIP;
	case 4:
		if (cr4_write_check(ctx, long64, v->vm->cpuid->cr4_allowed, &val) ||
		    vendor->set_cr(v, 4, val))
			return vcpu_fault(v, EXC_GP, true, 0);
		return ACT_SKIP;
	case 8:
		return cr8_write(v, val);
	}
	return vm_stop_report(v, "MOV to CR%u at rip %lx: no such register", cr, v->regs.rip);
}

static enum exit_action cr_read(struct vcpu *v, bool long64, unsigned cr, int gpr)
{
	struct guest_ctx ctx;
	u64 val;

	if (cr == 8) {
		val = cr8_read(v);
	} else {
		vendor->get_ctx(v, &ctx);
		switch (cr) {
		case 0: val = ctx.cr0; break;
		case 2: val = ctx.cr2; break;
		case 3: val = ctx.cr3; break;
		case 4: val = ctx.cr4; break;
		default:
			return vm_stop_report(v, "MOV from CR%u at rip %lx: no such register", cr,
					      v->regs.rip);
		}
	}
	v->regs.gpr[gpr] = long64 ? val : (u32)val;
	return ACT_SKIP;
}

enum exit_action handle_cr_access(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	int gpr = e->cr.gpr;
	bool long64;
	u64 val;

	/* VT-x's CR8 writes (64-bit mode only there), without a look at the mode. */
	if (e->cr.cr == 8 && e->cr.write && gpr >= 0 && gpr < 16)
		return cr8_write(v, v->regs.gpr[gpr]);
	vendor->get_paging_ctx(v, &ctx);
	ctx.efer &= ~EFER_SVME; /* AMD-V's, not the guest's */
	long64 = guest_ctx_mode(&ctx, v->regs.rflags) == MODE_LONG64;
	if (gpr < 0)
		gpr = mov_cr_operand(v, e, &ctx);
	if (gpr == CR0_CLTS)
		return cr_write(v, &ctx, long64, 0, ctx.cr0 & ~CR0_TS);
	if (gpr >= CR0_LMSW_BASE && gpr < CR0_LMSW_BASE + 16) {
		/* LMSW loads CR0[3:0] from the operand; it can set PE, not
		 * clear it (SDM vol. 2, LMSW). */
		u64 src = v->regs.gpr[gpr - CR0_LMSW_BASE] & 0xf;

		return cr_write(v, &ctx, long64, 0, (ctx.cr0 & ~0xeULL) | src | (ctx.cr0 & CR0_PE));
	}
	if (gpr < 0 || gpr > 15)
		return vm_stop_report(v, "a CR%u %s exit at rip %lx that is not MOV %s CR%u",
				      e->cr.cr, e->cr.write ? "write" : "read", v->regs.rip,
				      e->cr.write ? "to" : "from", e->cr.cr);
	if (!e->cr.write)
		return cr_read(v, long64, e->cr.cr, gpr);
	/* Outside 64-bit mode the operand is 32 bits (SDM vol. 2, MOV CRn). */
	val = long64 ? v->regs.gpr[gpr] : (u32)v->regs.gpr[gpr];
	return cr_write(v, &ctx, long64, e->cr.cr, val);
}
