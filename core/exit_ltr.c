/*
 * LTR (0F 00 /3), done by the hypervisor where the back end intercepts it:
 * AMD-V (the TR-write intercept, APM vol. 2, 15.11). Why: QEMU's TCG (7.2),
 * where utsuwa's AMD-V runs, loads a null selector into TR where a CPU
 * raises #GP(0), and then aborts the whole emulator ("qemu: fatal: invalid
 * tss") when the guest next takes an interrupt through the TSS. Random
 * guest code found it (tests/guests/crashme.c): one guest could end the
 * machine. Guests run LTR once per CPU at boot, so the exit costs nothing.
 *
 * The checks and effects are the SDM's (vol. 2A, "LTR"; vol. 3A, 8.2.2
 * and 8.2.3 for the TSS descriptor, 16 bytes in IA-32e mode): #UD outside
 * protected mode, #GP(0) above CPL 0 or for a null selector, #GP(selector)
 * for an LDT selector, one beyond the GDT's limit or not an available TSS
 * (only a 64-bit one in IA-32e mode, whose upper type field must be 0),
 * #NP(selector) when not present; then the descriptor is marked busy in
 * the guest's GDT and TR loaded from it.
 */
#include "core/exit_handlers.h"
#include "arch/x86/emul/fetch.h"
#include "arch/x86/emul/gwalk.h"
#include "arch/x86/emul/operand.h"
#include "hv/exit.h"
#include "hv/gmem.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"

#define RFLAGS_VM BIT(17)
#define DESC_TYPE_TSS16_AVAIL 0x1
#define DESC_TYPE_TSS_AVAIL 0x9 /* 32-bit, or 64-bit in IA-32e mode */
#define DESC_TYPE_BUSY 0x2

/* [linear, linear+len) of the guest, at CPL 0, within one page. 0, or a
 * fault already injected (-EFAULT), or -ENOENT (page tables outside RAM). */
static int linear_access(struct vcpu *v, const struct guest_ctx *ctx, u64 linear, void *buf,
			 unsigned len, bool write)
{
	u64 gpa;
	u32 pf;
	int err = gwalk(v->vm, ctx, linear, write ? GW_WRITE : 0, &gpa, &pf);

	if (err == -EFAULT) {
		vendor->set_cr(v, 2, linear);
		vcpu_inject_exception(v, EXC_PF, true, pf);
		return -EFAULT;
	}
	if (err == -EINVAL) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return -EFAULT;
	}
	if (err || !gmem_in_ram(&v->vm->gmem, gpa, len))
		return -ENOENT;
	if (write)
		gmem_write(v->vm, gpa, buf, len);
	else
		gmem_read(v->vm, gpa, buf, len);
	return 0;
}

/* Bytes that may cross a page end, a piece per page. */
static int guest_rw(struct vcpu *v, const struct guest_ctx *ctx, u64 linear, void *buf,
		    unsigned len, bool write)
{
	unsigned first = MIN(len, (unsigned)(PAGE_SIZE - (linear & (PAGE_SIZE - 1))));
	int err = linear_access(v, ctx, linear, buf, first, write);

	if (!err && first < len)
		err = linear_access(v, ctx, linear + first, (u8 *)buf + first, len - first, write);
	return err;
}

/* The selector operand: a register, or a word in memory. */
static int ltr_selector(struct vcpu *v, const struct guest_ctx *ctx, const struct insn *in,
			bool long64, u16 *sel)
{
	u64 a;

	if (in->mod == 3) {
		*sel = (u16)v->regs.gpr[in->rm];
		return 0;
	}
	insn_operand_linear(in, v->regs.gpr, v->regs.rip, ctx, long64, &a);
	return guest_rw(v, ctx, a, sel, 2, false);
}

enum exit_action handle_ltr(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	struct insn in;
	bool long64, ia32e;
	u32 pf, d[4] = { 0 };
	u16 sel;
	unsigned type, dsize;
	int err;

	if (!vendor->load_tr)
		return vm_stop_report(v, "LTR exit on a back end that cannot load TR");
	vendor->get_ctx(v, &ctx);
	if (insn_fetch_decode_cached(v->vm, &ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache, &in,
				     &pf) ||
	    in.map != INSN_MAP_0F || in.opcode != 0x00 || (in.reg & 7) != 3)
		return vm_stop_report(v, "LTR exit at rip %lx: cannot decode it", v->regs.rip);
	e->insn_len = in.len;
	if (!(ctx.cr0 & CR0_PE) || (v->regs.rflags & RFLAGS_VM))
		return vcpu_fault(v, EXC_UD, false, 0);
	if (ctx.cpl)
		return vcpu_fault(v, EXC_GP, true, 0);
	ia32e = ctx.efer & EFER_LMA;
	long64 = guest_ctx_mode(&ctx, v->regs.rflags) == MODE_LONG64;
	err = ltr_selector(v, &ctx, &in, long64, &sel);
	if (err)
		return err == -EFAULT ? ACT_RESUME : vm_stop_report(v, "LTR at rip %lx: its operand's "
								   "page tables lie outside its memory",
								   v->regs.rip);
	if (!(sel & 0xfffc))
		return vcpu_fault(v, EXC_GP, true, 0);
	if (sel & 4)
		return vcpu_fault(v, EXC_GP, true, sel & 0xfffc);
	dsize = ia32e ? 16 : 8;
	if ((u64)(sel & ~7) + dsize - 1 > ctx.gdtr.limit)
		return vcpu_fault(v, EXC_GP, true, sel & 0xfffc);
	err = guest_rw(v, &ctx, ctx.gdtr.base + (sel & ~7), d, dsize, false);
	if (err)
		return err == -EFAULT ? ACT_RESUME : vm_stop_report(v, "LTR at rip %lx: the GDT's page "
								   "tables lie outside its memory",
								   v->regs.rip);
	type = (d[1] >> 8) & 0x1f; /* S and the type */
	if (type != DESC_TYPE_TSS_AVAIL && (ia32e || type != DESC_TYPE_TSS16_AVAIL))
		return vcpu_fault(v, EXC_GP, true, sel & 0xfffc);
	if (ia32e && ((d[3] >> 8) & 0x1f))
		return vcpu_fault(v, EXC_GP, true, sel & 0xfffc);
	if (!(d[1] & BIT(15)))
		return vcpu_fault(v, EXC_NP, true, sel & 0xfffc);

	/* Busy in the GDT (a locked write on a CPU; the guest's other vCPUs
	 * cannot load this TSS meanwhile anyway: it is theirs to share). */
	d[1] |= DESC_TYPE_BUSY << 8;
	err = guest_rw(v, &ctx, ctx.gdtr.base + (sel & ~7) + 4, &d[1], 4, true);
	if (err)
		return err == -EFAULT ? ACT_RESUME : vm_stop_report(v, "LTR at rip %lx: the GDT's page "
								   "tables lie outside its memory",
								   v->regs.rip);
	ctx.tr.sel = sel;
	ctx.tr.base = (d[0] >> 16) | ((u64)(d[1] & 0xff) << 16) | ((u64)(d[1] >> 24) << 24) |
		      (ia32e ? (u64)d[2] << 32 : 0);
	ctx.tr.limit = (d[0] & 0xffff) | (d[1] & 0xf0000);
	if (d[1] & BIT(23)) /* G: 4 KiB units */
		ctx.tr.limit = (ctx.tr.limit << 12) | 0xfff;
	ctx.tr.attr = (u16)(((d[1] >> 8) & 0xff) | (((d[1] >> 20) & 0xf) << 8));
	vendor->load_tr(v, &ctx.tr);
	return ACT_SKIP;
}
