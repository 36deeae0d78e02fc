/*
 * Real mode without "unrestricted guest" (shadow paging on VT-x): a VM
 * entry needs CR0.PE and CR0.PG (SDM vol. 3, 26.3.1.1), so a guest whose
 * CR0.PE is clear runs in virtual-8086 mode (vol. 3, 20.2), which executes
 * real-mode code as it is, on the shadow's identity map (paging off). The
 * differences, and what is done about them:
 *
 * - Segments: virtual-8086 mode needs base = selector << 4, limit FFFFh and
 *   attributes F3h for CS, SS, DS, ES, FS and GS (26.3.1.2). They are
 *   written so across the entry and the guest's own put back after the exit
 *   (a segment the guest loaded meanwhile gets its base from the selector,
 *   as a real-mode load does). A base that is not selector << 4 but is
 *   16-byte aligned below 1 MiB runs with the selector base >> 4; any other
 *   runs with its selector's base (no "unreal" mode).
 * - CPL 3 and IOPL 3: CLI, STI, PUSHF, POPF and IRET run without faults
 *   (20.2.7); the guest's own IOPL is kept aside. Port I/O is checked
 *   against the TSS's I/O permission bitmap before the VM exit (26.1.1):
 *   the TSS below allows every port, so the VM's I/O bitmaps decide as in
 *   any other mode.
 * - Interrupts and exceptions would go through the protected-mode IDT. The
 *   CPU gets an IDTR with limit 0, so INT n, INT3 and INTO raise #GP with
 *   the IDT flag (6.13) and every exception exits (the exception bitmap is
 *   all ones, vmx_shadow_mode): the hypervisor delivers them, and the
 *   events it injects, through the guest's IVT as a real-mode CPU does
 *   (20.1.4: FLAGS, CS and IP pushed, IF, TF, AC cleared).
 * - Privileged instructions (HLT, MOV CR, LGDT, LIDT, RDMSR, WRMSR, INVD,
 *   WBINVD, CLTS, LMSW) raise #GP at CPL 3: they become the exits they
 *   would have been, or LGDT and LIDT are done here.
 * - The TSS lies at a linear address virtual-8086 code cannot reach (above
 *   10FFEFh), mapped in the shadow tables only while the guest runs in
 *   real mode: the guest's memory holds nothing of it.
 *
 * The switch to protected mode is a CR0 write (an exit): the real-mode
 * segment state then has to pass the VM-entry checks of protected mode
 * until the guest loads its segments (vmx_rmode_pmode_fixup).
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_conv.h"
#include "arch/x86/emul/fetch.h"
#include "arch/x86/emul/operand.h"
#include "hv/gmem.h"
#include "hv/intercept.h"
#include "hv/mm.h"
#include "hv/shadow.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "asm/vmx.h"
#include "lib/string.h"

#define RFLAGS_AC BIT(18)
#define RFLAGS_VM BIT(17)
#define RFLAGS_IOPL (3ULL << 12)
#define CR4_VME BIT(0)
#define CR4_PVI BIT(1)
#define EXC_GP 13
#define EXC_PF 14

#define AR_V86 0xf3        /* present, DPL 3, read/write data, accessed (26.3.1.2) */
#define ATTR_TSS_BUSY 0x08b
#define ATTR_CODE_DPL0 0x09b
#define ATTR_DATA_DPL0 0x093

/* The TSS: 104 bytes, then the I/O permission bitmap (all ports allowed)
 * and its terminating byte of ones (SDM vol. 1, 19.5.2). */
#define TSS_IOMAP 104
#define TSS_LIMIT (TSS_IOMAP + 8192)
#define TSS_PAGES 3
#define TSS_LA 0xfffec000ULL

static u64 rmode_tss;

int vmx_rmode_init(void)
{
	u8 *t;

	rmode_tss = page_alloc(TSS_PAGES, PAGE_SIZE);
	if (!rmode_tss)
		return -ENOMEM;
	t = (u8 *)(uintptr_t)rmode_tss;
	memset(t, 0, TSS_PAGES * PAGE_SIZE);
	*(u16 *)(t + 102) = TSS_IOMAP;
	t[TSS_IOMAP + 8192] = 0xff;
	return 0;
}

static void seg_read(struct seg *d, enum vmcs_seg s)
{
	d->sel = (u16)vmread(VMCS_GUEST_SEL(s));
	d->limit = (u32)vmread(VMCS_GUEST_LIMIT(s));
	d->attr = vmx_attr_from_ar((u32)vmread(VMCS_GUEST_AR(s)));
	d->base = vmread(VMCS_GUEST_BASE(s));
}

static void seg_write(enum vmcs_seg s, const struct seg *d)
{
	vmwrite(VMCS_GUEST_SEL(s), d->sel);
	vmwrite(VMCS_GUEST_LIMIT(s), d->limit);
	vmwrite(VMCS_GUEST_AR(s), vmx_ar_from_attr(d->attr));
	vmwrite(VMCS_GUEST_BASE(s), d->base);
}

static bool is_sw_event(u32 type)
{
	return type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	       type == INTR_TYPE_SW_EXCEPTION;
}

/*
 * The event the entry was to inject, delivered as a real-mode CPU does
 * (SDM vol. 3, 20.1.4): FLAGS, CS and IP pushed on SS:SP, IF, TF and AC
 * cleared, CS:IP from the IVT at the IDTR's base. The guest's registers
 * and segments are its own here (before the switch to virtual-8086 mode).
 * A stack or IVT outside RAM loses the event, where a CPU would shut down.
 */
static void deliver(struct vcpu *v)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	u32 info = s->entry_intr, vector = INTR_INFO_VECTOR(info), ivt;
	u64 ip = v->regs.rip, sp = (u16)(v->regs.gpr[GPR_RSP] - 6);
	u16 frame[3];

	if (is_sw_event(INTR_INFO_TYPE(info)))
		ip += vmread(VMCS_ENTRY_INSN_LEN); /* returns after INT n */
	s->entry_intr = 0;
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	if (gmem_read(v->vm, (u32)(vmread(VMCS_GUEST_IDTR_BASE) + vector * 4), &ivt, 4))
		return;
	frame[0] = (u16)ip;
	frame[1] = (u16)vmread(VMCS_GUEST_CS_SEL);
	frame[2] = (u16)v->regs.rflags;
	if (gmem_write(v->vm, (u32)(vmread(VMCS_GUEST_BASE(VMCS_SEG_SS)) + sp), frame, sizeof(frame)))
		return;
	v->regs.gpr[GPR_RSP] = (v->regs.gpr[GPR_RSP] & ~0xffffULL) | sp;
	v->regs.rflags &= ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC | RFLAGS_RF);
	v->regs.rip = ivt & 0xffff;
	vmwrite(VMCS_GUEST_CS_SEL, ivt >> 16);
	vmwrite(VMCS_GUEST_CS_BASE, (u64)(ivt >> 16) << 4);
	vmwrite(VMCS_GUEST_RIP, v->regs.rip);
	vmwrite(VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
}

void vmx_rmode_enter(struct vcpu *v, struct vmx_rmode_saved *r, struct shadow_hw *hw)
{
	static const struct seg tss = { .base = TSS_LA, .limit = TSS_LIMIT, .attr = ATTR_TSS_BUSY };

	if (v->arch.vmx.entry_intr & INTR_INFO_VALID)
		deliver(v);
	for (enum vmcs_seg i = VMCS_SEG_ES; i <= VMCS_SEG_GS; i++) {
		struct seg *g = &r->seg[i];
		struct seg vm86;

		seg_read(g, i);
		vm86.sel = g->sel;
		if (g->base != (u64)g->sel << 4 && !(g->base & 0xf) && g->base <= 0xffff0)
			vm86.sel = (u16)(g->base >> 4);
		vm86.base = (u64)vm86.sel << 4;
		vm86.limit = 0xffff;
		vmwrite(VMCS_GUEST_SEL(i), vm86.sel);
		vmwrite(VMCS_GUEST_LIMIT(i), vm86.limit);
		vmwrite(VMCS_GUEST_AR(i), AR_V86);
		vmwrite(VMCS_GUEST_BASE(i), vm86.base);
		r->vsel[i] = vm86.sel;
	}
	seg_read(&r->tr, VMCS_SEG_TR);
	seg_write(VMCS_SEG_TR, &tss);
	r->idtr_base = vmread(VMCS_GUEST_IDTR_BASE);
	r->idtr_limit = (u32)vmread(VMCS_GUEST_IDTR_LIMIT);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);
	r->iopl = v->regs.rflags & RFLAGS_IOPL;
	vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags | RFLAGS_VM | RFLAGS_IOPL);
	/* No alignment checks at CPL 3 (real mode has none), no VME/PVI
	 * redirection: INT n must fault (above). */
	hw->cr0 &= ~(u64)CR0_AM;
	hw->cr4 &= ~(u64)(CR4_VME | CR4_PVI);
	/* After shadow_hw_regs: a format change has flushed by now. */
	for (unsigned i = 0; i < TSS_PAGES; i++) {
		/* A flush for a full pool dropped the pages before: again. */
		if (shadow_map_host(v->shadow, TSS_LA + i * PAGE_SIZE, rmode_tss + i * PAGE_SIZE) &&
		    i)
			i = -1u;
	}
}

void vmx_rmode_leave(struct vcpu *v, const struct vmx_rmode_saved *r)
{
	for (enum vmcs_seg i = VMCS_SEG_ES; i <= VMCS_SEG_GS; i++) {
		struct seg g = r->seg[i];
		u16 sel = (u16)vmread(VMCS_GUEST_SEL(i));

		if (sel != r->vsel[i]) { /* loaded by the guest: a real-mode load */
			g.sel = sel;
			g.base = (u64)sel << 4;
		}
		seg_write(i, &g);
	}
	seg_write(VMCS_SEG_TR, &r->tr);
	vmwrite(VMCS_GUEST_IDTR_BASE, r->idtr_base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, r->idtr_limit);
	v->regs.rflags = (v->regs.rflags & ~(RFLAGS_VM | RFLAGS_IOPL)) | r->iopl;
}

/*
 * CR0.PE was just set (or a state with it loaded): until the guest loads
 * its segments they keep their real-mode contents, which a protected-mode
 * VM entry without unrestricted guest refuses unless CS is accessed code,
 * SS read/write data with DPL = its RPL = CS's RPL, and every data segment
 * accessed with DPL >= RPL (26.3.1.2). The RPLs are cleared and real mode's
 * DPL 0 kept: the guest's next segment loads replace all of it.
 */
void vmx_rmode_pmode_fixup(struct vcpu *v)
{
	(void)v;
	for (enum vmcs_seg i = VMCS_SEG_ES; i <= VMCS_SEG_GS; i++) {
		struct seg g;

		seg_read(&g, i);
		if (!(g.attr & SEG_ATTR_P) || !(g.attr & SEG_ATTR_S))
			continue; /* unusable, or a protected-mode descriptor's */
		if (i != VMCS_SEG_CS && i != VMCS_SEG_SS && SEG_ATTR_DPL(g.attr) >= (g.sel & 3))
			continue;
		if (i == VMCS_SEG_CS && (g.attr & 0x9) == 0x9 && !(g.sel & 3) &&
		    !SEG_ATTR_DPL(g.attr))
			continue;
		if (i == VMCS_SEG_SS && !(g.sel & 3) && !SEG_ATTR_DPL(g.attr))
			continue;
		g.sel &= ~3;
		g.attr = (g.attr & ~0x7fu) | (i == VMCS_SEG_CS ? ATTR_CODE_DPL0 : ATTR_DATA_DPL0);
		seg_write(i, &g);
	}
}

/* Queues a software interrupt the CPU refused (INT n, INT3, INTO, INT1 at
 * CPL 3 with an IDT limit of 0): delivered through the IVT at the entry. */
static void queue_soft_int(struct vcpu *v, u8 vector, u8 len)
{
	u32 info = vector | (INTR_TYPE_SW_INTR << 8) | INTR_INFO_VALID;

	vmwrite(VMCS_ENTRY_INSN_LEN, len);
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	v->arch.vmx.entry_intr = info;
}

/* LGDT or LIDT: limit, then a 24-bit base (32 with an operand-size
 * prefix) (SDM vol. 2, LGDT/LIDT). */
static bool load_dtable(struct vcpu *v, const struct insn *in, const struct guest_ctx *ctx)
{
	struct __attribute__((packed)) { u16 limit; u32 base; } d;
	bool idt = (in->reg & 7) == 3;
	u64 linear;

	/* Paging is off: the linear address is the guest-physical one. */
	if (!insn_operand_linear(in, v->regs.gpr, v->regs.rip, ctx, false, &linear) ||
	    gmem_read(v->vm, linear, &d, sizeof(d)))
		return false;
	if (in->op_size == 2)
		d.base &= 0xffffff;
	vmwrite(idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE, d.base);
	vmwrite(idt ? VMCS_GUEST_IDTR_LIMIT : VMCS_GUEST_GDTR_LIMIT, d.limit);
	return true;
}

/* #GP at CPL 3: the instruction real mode would have run. */
static enum vmexit_reason rmode_gp(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	struct insn in;
	u32 error = e->exc.error, pf_error;

	vmx_get_ctx(v, &ctx);
	if (insn_fetch_decode(v->vm, &ctx, v->regs.rip, v->regs.rflags, &in, &pf_error))
		goto reflect;
	if ((error & 2) && in.map == INSN_MAP_1B &&
	    (in.opcode == 0xcc || in.opcode == 0xcd || in.opcode == 0xce || in.opcode == 0xf1)) {
		queue_soft_int(v, (u8)(error >> 3), in.len);
		return VMEXIT_NONE;
	}
	e->insn_len = in.len;
	if (in.map == INSN_MAP_1B && in.opcode == 0xf4)
		return VMEXIT_HLT;
	if (in.map != INSN_MAP_0F)
		goto reflect;
	switch (in.opcode) {
	case 0x30:
		return VMEXIT_MSR_WRITE;
	case 0x32:
		return VMEXIT_MSR_READ;
	case 0x08: /* INVD */
	case 0x09: /* WBINVD */
		return VMEXIT_INVD;
	case 0x20:
	case 0x22:
		e->cr.cr = in.reg;
		e->cr.write = in.opcode == 0x22;
		e->cr.gpr = in.rm;
		return VMEXIT_CR_ACCESS;
	case 0x06: /* CLTS: core/exit_cr.c decodes it */
		e->cr.cr = 0;
		e->cr.write = true;
		e->cr.gpr = -1;
		return VMEXIT_CR_ACCESS;
	case 0x01:
		if (in.mod == 3 && (in.reg & 7) == 6) { /* LMSW r16 */
			e->cr.cr = 0;
			e->cr.write = true;
			e->cr.gpr = -1;
			return VMEXIT_CR_ACCESS;
		}
		if (in.mod != 3 && ((in.reg & 7) == 2 || (in.reg & 7) == 3)) {
			if (!load_dtable(v, &in, &ctx))
				goto reflect;
			/* Done here, as an exit handler would; nothing else
			 * moves RIP for it. */
			v->regs.rip = (u16)(v->regs.rip + in.len);
			return VMEXIT_NONE;
		}
		break;
	}
reflect:
	/* What real mode faults on too: #GP, without an error code there. */
	e->insn_len = 0;
	vmx_inject_exception(v, EXC_GP, false, 0);
	return VMEXIT_NONE;
}

enum vmexit_reason vmx_rmode_exception(struct vcpu *v, struct vmexit *e)
{
	u8 vector = e->exc.vector;

	if (vector == EXC_PF)
		return VMEXIT_EXCEPTION; /* the shadow MMU's */
	if (vector == EXC_GP)
		return rmode_gp(v, e);
	if (v->vm->intercepts->exceptions & BIT(vector))
		return VMEXIT_EXCEPTION; /* the core's, as in any mode */
	/* The rest only exit because real mode's go through the IVT. */
	vmx_inject_exception(v, vector, false, 0);
	return VMEXIT_NONE;
}
