/*
 * The exit dispatcher: one table from reason to handler. Handlers return an
 * action; only this file moves RIP (DESIGN.md, "One exit path").
 */
#include "hv/exit.h"
#include "core/exit_handlers.h"
#include "hv/console.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "arch/x86/emul/fetch.h"
#include "lib/string.h"

static const exit_handler_fn handlers[NR_VMEXIT_REASONS] = {
	[VMEXIT_NONE] = handle_nothing,
	[VMEXIT_INTR] = handle_nothing, /* the host's IDT already took it */
	[VMEXIT_IRQ_WINDOW] = handle_nothing,
	[VMEXIT_CPUID] = handle_cpuid,
	[VMEXIT_MSR_READ] = handle_msr_read,
	[VMEXIT_MSR_WRITE] = handle_msr_write,
	[VMEXIT_IO] = handle_io,
	[VMEXIT_HLT] = handle_hlt,
	[VMEXIT_HYPERCALL] = handle_hypercall,
	[VMEXIT_MEM] = handle_mem,
	[VMEXIT_SHUTDOWN] = handle_shutdown,
	[VMEXIT_XSETBV] = handle_xsetbv,
	[VMEXIT_INVD] = handle_invd,
	[VMEXIT_UD] = handle_ud,
	[VMEXIT_CR_ACCESS] = handle_cr_access,
	[VMEXIT_DR_ACCESS] = handle_dr_access,
	[VMEXIT_INVLPG] = handle_invlpg,
	[VMEXIT_EXCEPTION] = handle_exception,
	[VMEXIT_MACHINE_CHECK] = handle_machine_check,
	[VMEXIT_LTR] = handle_ltr,
	[VMEXIT_RDTSC] = handle_rdtsc,
	[VMEXIT_ENTRY_FAIL] = handle_entry_fail,
	[VMEXIT_UNHANDLED] = handle_unexpected,
};
/* Every reason has its handler: exit_dispatch calls without a check. A new
 * reason must be added above (and this count with it). */
_Static_assert(NR_VMEXIT_REASONS == 23, "a vmexit_reason without a handler");

/*
 * The instruction an exit implies, when it has a single encoding without
 * prefixes: if the bytes at RIP are exactly these, that is the instruction
 * (a prefix would come first), and its length needs no decoding. Bytes are
 * little-endian in a u32, compared under mask.
 */
static const struct {
	u32 bytes, mask;
	u8 len;
} implied_insn[NR_VMEXIT_REASONS] = {
	[VMEXIT_CPUID] = { 0xa20f, 0xffff, 2 },
	[VMEXIT_MSR_READ] = { 0x320f, 0xffff, 2 },
	[VMEXIT_MSR_WRITE] = { 0x300f, 0xffff, 2 },
	[VMEXIT_HLT] = { 0xf4, 0xff, 1 },
	[VMEXIT_HYPERCALL] = { 0xd9010f, 0xffffff, 3 }, /* VMMCALL; VT-x's VMCALL is C1 */
	[VMEXIT_XSETBV] = { 0xd1010f, 0xffffff, 3 },
	[VMEXIT_INVD] = { 0x080f, 0xffff, 2 },
	[VMEXIT_RDTSC] = { 0x310f, 0xffff, 2 },
	[VMEXIT_EXCEPTION] = { 0xcc, 0xff, 1 }, /* INT3: the one exception skipped */
};

/* Without a length from the CPU, find the trapped instruction in guest
 * memory and decode it (seed 001, "trap and emulate"). */
static __attribute__((noinline)) int insn_length_decode(struct vcpu *v, const struct guest_ctx *ctx)
{
	struct insn insn;
	u32 pf_error;
	int err;

	err = insn_fetch_decode_cached(v->vm, ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache, &insn,
				       &pf_error);
	return err ? err : insn.len;
}

/* The common case inline: the CPU said, or the cached code page holds the
 * one instruction the exit implies. */
static inline __attribute__((always_inline)) int insn_length(struct vcpu *v, const struct vmexit *e)
{
	struct guest_ctx ctx;
	const u8 *p;

	if (e->insn_len)
		return e->insn_len;
	vendor->get_paging_ctx(v, &ctx);
	p = insn_fetch_peek_cached(&v->fetch_cache, &ctx, v->regs.rip);
	if (p && implied_insn[e->reason].len) {
		u32 bytes;

		__builtin_memcpy(&bytes, p, sizeof(bytes));
		if ((bytes & implied_insn[e->reason].mask) == implied_insn[e->reason].bytes)
			return implied_insn[e->reason].len;
	}
	return insn_length_decode(v, &ctx);
}

static void advance_rip(struct vcpu *v, unsigned len)
{
	u64 rip = v->regs.rip + len;

	/* Outside 64-bit mode the instruction pointer wraps at its width;
	 * with a 16-bit code segment, at 64 KiB. Cheap enough to do exactly. */
	if (rip >> 32 && !(v->regs.rip >> 32))
		rip = (u32)rip;
	v->regs.rip = rip;
}

/*
 * The other vendor's hypercall: a guest that chose VMCALL or VMMCALL by the
 * CPUID vendor it booted on (tests/guests/lib/runtime.c; Linux patches its
 * hypercalls the same way) keeps that instruction after a live migration to
 * a host of the other vendor, where it is #UD: VT-x does not exit on VMMCALL
 * nor AMD-V on VMCALL. #UD is intercepted (INTERCEPT_EXC_ALWAYS), and a #UD
 * on 0F 01 C1 or 0F 01 D9 is taken as the hypercall, 3 bytes long, as KVM
 * does. Any other #UD stays an exception.
 */
static bool foreign_hypercall(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	u8 b[15];
	size_t got = 0;

	if (e->exc.vector != 6)
		return false;
	vendor->get_paging_ctx(v, &ctx);
	if (insn_fetch(v->vm, &ctx, v->regs.rip, b, &got) || got < 3 || b[0] != 0x0f ||
	    b[1] != 0x01 || (b[2] != 0xc1 && b[2] != 0xd9))
		return false;
	e->reason = VMEXIT_HYPERCALL;
	e->insn_len = 3;
	e->hypercall.cpl = ctx.cpl;
	return true;
}

enum exit_action exit_dispatch(struct vcpu *v, struct vmexit *e)
{
	enum exit_action act;
	int len;

	if (unlikely(e->reason == VMEXIT_EXCEPTION))
		foreign_hypercall(v, e);
	v->stats.exits[e->reason]++;
	act = handlers[e->reason](v, e);

	if (act != ACT_SKIP && act != ACT_HALT && act != ACT_YIELD)
		return act;
	len = insn_length(v, e);
	if (len <= 0)
		return vm_stop_report(v, "cannot decode the instruction that trapped at rip %lx (%d)",
				      v->regs.rip, len);
	advance_rip(v, (unsigned)len);
	return act;
}

/*
 * The fault-class exceptions (SDM vol. 3, table 6-1): #DE, #BR, #UD, #NM,
 * #TS, #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP. For these the CPU pushes
 * RF = 1 in the RFLAGS image, so that the handler's IRET back to the
 * faulting instruction does not hit an instruction breakpoint there again
 * (SDM vol. 3, 18.3.1.1 "Instruction-Breakpoint Exception Condition": "for
 * any fault-class exception except a debug exception generated in response
 * to an instruction breakpoint, the value pushed for RF is 1"; AMD CPUs do
 * the same, APM vol. 2, RFLAGS.RF). An injected event is delivered as
 * the CPU delivers any other: it pushes the guest's RFLAGS and then clears
 * RF, so the hypervisor sets RF in the guest's RFLAGS first, as the CPU
 * would have. Not for #DB (an instruction breakpoint's handler sets RF
 * itself), the traps #BP and #OF, nor the aborts #DF and #MC.
 */
#define EXC_FAULTS (BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | \
		    BIT(14) | BIT(16) | BIT(17) | BIT(19) | BIT(20) | BIT(21))

void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	if (vector < 32 && (EXC_FAULTS & BIT(vector)))
		v->regs.rflags |= RFLAGS_RF;
	vendor->inject_exception(v, vector, has_error, error);
}

enum exit_action vcpu_fault(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	vcpu_inject_exception(v, vector, has_error, error);
	return ACT_RESUME;
}
