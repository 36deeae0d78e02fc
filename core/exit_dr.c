/*
 * MOV to and from a debug register, on AMD-V, where the back end intercepts
 * them (arch/x86/svm/svm.c). A CPU would let the guest have them: DR0-DR3
 * live in the CPU while the vCPU runs (core/vcpu_run.c switches them), DR6
 * and DR7 in the VMCB. They exit because of QEMU's TCG: a guest's own
 * MOV to DR7 makes it plant breakpoints of its own at DR0-DR3's linear
 * addresses, and its VMRUN and #VMEXIT load DR7 without taking them out
 * (QEMU 7.2, target/i386/tcg/sysemu/svm_helper.c and bpt_helper.c). They
 * stay for whatever that host CPU runs next, and an execute breakpoint
 * raises #DB whatever the DR7 then loaded says: in another VM (the drbp
 * case saw it) and in the hypervisor itself, at its own code if a guest
 * names that address. Emulated here, the guest's DR7 only ever reaches
 * the CPU through VMRUN: on QEMU the guest's breakpoints then never fire
 * (its VMRUN plants none), on a CPU they do (docs/cpu.md).
 *
 * The instruction's rules (SDM vol. 2, MOV DR; APM vol. 3): CPL 0 only
 * (#GP), DR4/DR5 are DR6/DR7 unless CR4.DE (#UD), DR8-15 #UD, bits 63:32
 * of DR6/DR7 must be 0 (#GP), DR7.GD makes the access itself a #DB with
 * DR6.BD. Outside 64-bit mode the operand is 32 bits.
 */
#include "core/exit_handlers.h"
#include "arch/x86/emul/fetch.h"
#include "asm/cpu.h"
#include "hv/exit.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

#define CR4_DE BIT(3)
#define DR6_BD BIT(13)
#define DR7_GD BIT(13)
/* Reserved bits read as 1 in DR6 (SDM vol. 3, 19.2.3; APM vol. 2, 13.1.1.3)
 * and DR7's bit 10; the rest of DR7's reserved bits (11, 12, 14, 15) 0. */
#define DR6_FIXED_1 0xffff0ff0ULL
#define DR6_WRITABLE 0xe00fULL
#define DR7_FIXED_1 BIT(10)
#define DR7_FIXED_0 (BIT(11) | BIT(12) | BIT(14) | BIT(15))

/* The register operand of MOV DR from guest memory: 0F 23 /r writes
 * DR[reg], 0F 21 /r reads it (the mod bits are ignored: always a
 * register). -1 when it is not the MOV the exit names. */
static int mov_dr_operand(struct vcpu *v, struct vmexit *e, const struct guest_ctx *ctx)
{
	struct insn insn;
	u32 pf_error;

	if (insn_fetch_decode_cached(v->vm, ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache,
				     &insn, &pf_error))
		return -1;
	if (insn.map != INSN_MAP_0F || (insn.opcode != 0x21 && insn.opcode != 0x23) ||
	    (insn.opcode == 0x23) != e->dr.write || insn.reg != e->dr.dr)
		return -1;
	e->insn_len = insn.len;
	return insn.rm;
}

static u64 dr_read(struct vcpu *v, unsigned n)
{
	u64 val = 0;

	switch (n) {
	case 0: return read_dr0();
	case 1: return read_dr1();
	case 2: return read_dr2();
	case 3: return read_dr3();
	}
	vendor->debug_reg(v, n, false, &val);
	return val;
}

static void dr_write(struct vcpu *v, unsigned n, u64 val)
{
	switch (n) {
	case 0: write_dr0(val); return;
	case 1: write_dr1(val); return;
	case 2: write_dr2(val); return;
	case 3: write_dr3(val); return;
	case 6: val = (val & DR6_WRITABLE) | DR6_FIXED_1; break;
	default: val = (val | DR7_FIXED_1) & ~DR7_FIXED_0; break;
	}
	vendor->debug_reg(v, n, true, &val);
}

enum exit_action handle_dr_access(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	unsigned n = e->dr.dr;
	int gpr = e->dr.gpr;
	bool long64;
	u64 val, dr7 = 0;

	if (!vendor->debug_reg)
		return vm_stop_report(v, "MOV DR exit at rip %lx on a back end that keeps no DR7",
				      v->regs.rip);
	vendor->get_ctx(v, &ctx);
	if (ctx.cpl)
		return vcpu_fault(v, EXC_GP, true, 0);
	if (n >= 8 || ((n == 4 || n == 5) && (ctx.cr4 & CR4_DE)))
		return vcpu_fault(v, EXC_UD, false, 0);
	if (n == 4 || n == 5)
		n += 2;
	vendor->debug_reg(v, 7, false, &dr7);
	if (dr7 & DR7_GD) {
		/* General detect: a fault before the access, GD cleared so that
		 * the handler may use the registers (SDM vol. 3, 19.2.4). */
		u64 dr6 = 0;

		vendor->debug_reg(v, 6, false, &dr6);
		dr6 |= DR6_BD;
		dr7 &= ~DR7_GD;
		vendor->debug_reg(v, 6, true, &dr6);
		vendor->debug_reg(v, 7, true, &dr7);
		return vcpu_fault(v, EXC_DB, false, 0);
	}
	long64 = guest_ctx_mode(&ctx, v->regs.rflags) == MODE_LONG64;
	if (gpr < 0)
		gpr = mov_dr_operand(v, e, &ctx);
	if (gpr < 0 || gpr > 15)
		return vm_stop_report(v, "a DR%u %s exit at rip %lx that is not MOV %s DR%u", e->dr.dr,
				      e->dr.write ? "write" : "read", v->regs.rip,
				      e->dr.write ? "to" : "from", e->dr.dr);
	if (!e->dr.write) {
		val = dr_read(v, n);
		v->regs.gpr[gpr] = long64 ? val : (u32)val;
		return ACT_SKIP;
	}
	val = long64 ? v->regs.gpr[gpr] : (u32)v->regs.gpr[gpr];
	if (n >= 6 && val >> 32)
		return vcpu_fault(v, EXC_GP, true, 0);
	dr_write(v, n, val);
	return ACT_SKIP;
}
