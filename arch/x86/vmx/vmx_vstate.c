/*
 * The VT-x part of a vCPU's whole state (include/hv/vcpu_state.h): the
 * VMCS guest-state area (SDM vol. 3, 25.4: registers, interruptibility,
 * activity state, pending debug exceptions, PDPTEs), the VM-entry
 * interruption information (25.8.3), what the back end keeps beside the
 * VMCS while the vCPU is off a CPU (CR2, DR6, the syscall MSRs: vmx.c's
 * vcpu_put), the TPR in the virtual-APIC page (30.1.1); and freeing them.
 *
 * A quiesced vCPU's VMCS is clear (vcpu_put VMCLEARed it): these load it on
 * this CPU, do their VMREADs or VMWRITEs, and clear it again (25.11.1), so
 * any CPU may launch it next. Whatever VMCS was current here is made
 * current again.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_conv.h"
#include "hv/console.h"
#include "hv/guest_ctx.h"
#include "hv/mm.h"
#include "hv/vcpu.h"
#include "hv/vcpu_state.h"
#include "hv/vm.h"
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "asm/vmx.h"

#define NO_VMCS (~0ULL)

/* Makes v's VMCS current here; *prev is what was. -EBUSY while the vCPU is
 * loaded on a CPU (not quiesced). */
static int vmcs_borrow(struct vcpu *v, u64 *prev)
{
	struct vmx_vcpu *s = &v->arch.vmx;

	if (s->vmcs_cpu >= 0)
		return -EBUSY;
	*prev = vmptrst();
	if (!vmptrld(s->vmcs)) {
		kprintf("vmx: vm %s: vCPU %u: VMPTRLD of its VMCS %lx failed\n", v->vm->name, v->id,
			s->vmcs);
		return -EIO;
	}
	return 0;
}

static void vmcs_return(struct vcpu *v, u64 prev)
{
	struct vmx_vcpu *s = &v->arch.vmx;

	if (!vmclear(s->vmcs))
		panic("vmx: VMCLEAR of vCPU %u's VMCS %lx failed", v->id, s->vmcs);
	s->launched = false;
	if (prev != NO_VMCS && prev != s->vmcs)
		vmptrld(prev);
}

static struct vcpu_state_seg *state_seg(struct vcpu_state *st, enum vmcs_seg s)
{
	switch (s) {
	case VMCS_SEG_ES: return &st->es;
	case VMCS_SEG_CS: return &st->cs;
	case VMCS_SEG_SS: return &st->ss;
	case VMCS_SEG_DS: return &st->ds;
	case VMCS_SEG_FS: return &st->fs;
	case VMCS_SEG_GS: return &st->gs;
	case VMCS_SEG_LDTR: return &st->ldtr;
	default: return &st->tr;
	}
}

/* CR0/CR4 as the guest sees them: its own bits, the shadow's where masked. */
static u64 guest_cr(u64 cr_field, u64 shadow_field, u64 mask)
{
	return (vmread(cr_field) & ~mask) | (vmread(shadow_field) & mask);
}

static bool is_sw_event(u8 type)
{
	return type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	       type == INTR_TYPE_SW_EXCEPTION;
}

/* The event the next entry injects, unless it is only the interrupt the
 * core offered: that one has not been taken (core/vcpu_irq.c counts it as
 * offered while it sits here) and stays in IRR or irq_pending. */
static void event_out(struct vcpu *v, struct vcpu_state_event *e)
{
	u32 info = v->arch.vmx.entry_intr;

	if (!(info & INTR_INFO_VALID))
		return;
	if (INTR_INFO_TYPE(info) == INTR_TYPE_EXT_INTR && v->offered == INTR_INFO_VECTOR(info))
		return;
	e->valid = 1;
	e->type = (u8)INTR_INFO_TYPE(info);
	e->vector = INTR_INFO_VECTOR(info);
	e->has_error = !!(info & INTR_INFO_ERROR_VALID);
	e->error = e->has_error ? (u32)vmread(VMCS_ENTRY_EXCEPTION_ERROR) : 0;
	e->insn_len = is_sw_event(e->type) ? (u32)vmread(VMCS_ENTRY_INSN_LEN) : 0;
}

void vmx_pending_event(struct vcpu *v, struct vcpu_state_event *e)
{
	*e = (struct vcpu_state_event){ 0 };
	event_out(v, e);
}

int vmx_get_state(struct vcpu *v, struct vcpu_state *st)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	u64 prev, intr;
	int err = vmcs_borrow(v, &prev);

	if (err)
		return err;
	for (enum vmcs_seg i = VMCS_SEG_ES; i <= VMCS_SEG_TR; i++) {
		struct vcpu_state_seg *d = state_seg(st, i);

		d->sel = (u16)vmread(VMCS_GUEST_SEL(i));
		d->limit = (u32)vmread(VMCS_GUEST_LIMIT(i));
		d->attr = vmx_attr_from_ar((u32)vmread(VMCS_GUEST_AR(i)));
		d->base = vmread(VMCS_GUEST_BASE(i));
	}
	st->gdtr.base = vmread(VMCS_GUEST_GDTR_BASE);
	st->gdtr.limit = (u32)vmread(VMCS_GUEST_GDTR_LIMIT);
	st->idtr.base = vmread(VMCS_GUEST_IDTR_BASE);
	st->idtr.limit = (u32)vmread(VMCS_GUEST_IDTR_LIMIT);
	st->cr0 = guest_cr(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, s->cr0_mask);
	st->cr2 = s->cr2;
	st->cr3 = vmread(VMCS_GUEST_CR3);
	st->cr4 = guest_cr(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, s->cr4_mask);
	st->cr8 = ((const volatile u8 *)(uintptr_t)s->virtual_apic)[0x80] >> 4;
	st->dr6 = s->dr6;
	st->dr7 = vmread(VMCS_GUEST_DR7);
	st->pending_dbg = vmread(VMCS_GUEST_PENDING_DBG);
	for (unsigned i = 0; vmx_caps.ept && i < 4; i++)
		st->pdpte[i] = vmread(VMCS_GUEST_PDPTE0 + 2 * i);
	st->msrs.efer = vmx_guest_efer(v);
	st->msrs.pat = vmx_guest_pat(v);
	st->msrs.debugctl = vmread(VMCS_GUEST_IA32_DEBUGCTL);
	st->msrs.sysenter_cs = vmread(VMCS_GUEST_IA32_SYSENTER_CS);
	st->msrs.sysenter_esp = vmread(VMCS_GUEST_IA32_SYSENTER_ESP);
	st->msrs.sysenter_eip = vmread(VMCS_GUEST_IA32_SYSENTER_EIP);
	st->msrs.star = s->msrs.star;
	st->msrs.lstar = s->msrs.lstar;
	st->msrs.cstar = s->msrs.cstar;
	st->msrs.sfmask = s->msrs.sfmask;
	st->msrs.kernel_gs_base = s->msrs.kernel_gs_base;
	event_out(v, &st->event);
	/* STI/MOV-SS blocking covers the instruction at the exit's RIP only:
	 * once the dispatcher moved past it, it is over (vmx_run drops it). */
	intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (v->regs.rip == s->exit_rip)
		st->shadow = (u8)(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	st->nmi_blocked = !!(intr & INTERRUPTIBILITY_NMI);
	vmcs_return(v, prev);
	return 0;
}

int vmx_set_state(struct vcpu *v, const struct vcpu_state *st)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	const struct vcpu_state_event *e = &st->event;
	u32 info = 0;
	u64 prev;
	int err = vmcs_borrow(v, &prev);

	if (err)
		return err;
	for (enum vmcs_seg i = VMCS_SEG_ES; i <= VMCS_SEG_TR; i++) {
		const struct vcpu_state_seg *d = state_seg((struct vcpu_state *)st, i);

		vmwrite(VMCS_GUEST_SEL(i), d->sel);
		vmwrite(VMCS_GUEST_LIMIT(i), d->limit);
		vmwrite(VMCS_GUEST_AR(i), vmx_ar_from_attr(d->attr));
		vmwrite(VMCS_GUEST_BASE(i), d->base);
	}
	vmwrite(VMCS_GUEST_GDTR_BASE, st->gdtr.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, st->gdtr.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, st->idtr.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, st->idtr.limit);
	/* The bits VMX operation forces live behind the read shadows (25.6.6);
	 * PE and PG are the guest's own (unrestricted guest, 25.6.2). */
	vmwrite(VMCS_GUEST_CR0, vmx_cr_fixed(st->cr0, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1,
					      CR0_PE | CR0_PG));
	vmwrite(VMCS_CR0_READ_SHADOW, st->cr0);
	vmwrite(VMCS_GUEST_CR4, vmx_cr_fixed(st->cr4, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
	vmwrite(VMCS_CR4_READ_SHADOW, st->cr4);
	vmwrite(VMCS_GUEST_CR3, st->cr3);
	vmx_set_guest_efer(v, st->msrs.efer);
	/* "IA-32e mode guest" must equal EFER.LMA (27.3.1.1). */
	vmwrite(VMCS_ENTRY_CTLS, vmx_caps.entry | (st->msrs.efer & EFER_LMA ? ENTRY_IA32E_MODE_GUEST : 0));
	vmx_set_guest_pat(v, st->msrs.pat);
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, st->msrs.debugctl);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_CS, st->msrs.sysenter_cs);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_ESP, st->msrs.sysenter_esp);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_EIP, st->msrs.sysenter_eip);
	vmwrite(VMCS_GUEST_DR7, st->dr7);
	vmwrite(VMCS_GUEST_PENDING_DBG, st->pending_dbg);
	for (unsigned i = 0; vmx_caps.ept && i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, st->pdpte[i]);
	vmwrite(VMCS_GUEST_RIP, v->regs.rip);
	vmwrite(VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
	vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, st->shadow | (st->nmi_blocked ? INTERRUPTIBILITY_NMI : 0));
	/* HLT and wait-for-SIPI are the scheduler's (every HLT exits): the CPU
	 * always enters active. */
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);

	if (e->valid) {
		info = e->vector | ((u32)e->type << 8) | INTR_INFO_VALID;
		if (e->has_error) {
			info |= INTR_INFO_ERROR_VALID;
			vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, e->error);
		}
		/* A state taken on AMD-V has no length: its RIP is already past
		 * the instruction, and a length of 0 is refused (27.2.1.3). */
		if (is_sw_event(e->type))
			vmwrite(VMCS_ENTRY_INSN_LEN, e->insn_len ? e->insn_len : 1);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	s->entry_intr = info;
	s->window_pending = false;
	s->proc_ctls = vmx_proc_ctls_of(v->vm); /* no interrupt-window exiting */
	vmwrite(VMCS_PROC_BASED_CTLS, s->proc_ctls);
	s->intr_shadow = st->shadow;
	s->exit_rip = v->regs.rip;
	s->tsc_offset = v->vm->clock.tsc_offset;
	vmwrite(VMCS_TSC_OFFSET, s->tsc_offset);
	if (v->shadow) {
		vmx_shadow_mode(v);
		vmx_shadow_flush(v);
	}
	vmcs_return(v, prev);

	s->cr2 = st->cr2;
	s->dr6 = st->dr6;
	s->msrs.star = st->msrs.star;
	s->msrs.lstar = st->msrs.lstar;
	s->msrs.cstar = st->msrs.cstar;
	s->msrs.sfmask = st->msrs.sfmask;
	s->msrs.kernel_gs_base = st->msrs.kernel_gs_base;
	vmx_set_tpr(v, (u8)st->cr8);
	/* A fresh VPID at the next vcpu_load: nothing the old state cached can
	 * serve the new one (29.4.3). */
	tlb_tag_drop(&s->vpid);
	return 0;
}

void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	struct percpu *cpu = this_cpu();

	if (!s->vmcs) /* vcpu_init failed before it had one */
		return;
	if (s->vmcs_cpu >= 0 && s->vmcs_cpu != (int)cpu->id)
		panic("vmx: vCPU %u destroyed while its VMCS is current on CPU %d", v->id,
		      s->vmcs_cpu);
	/* A VMCS must leave the processor before its memory is reused (25.11.1). */
	if (s->vmcs && (s->vmcs_cpu >= 0 || vmptrst() == s->vmcs))
		vmclear(s->vmcs);
	s->vmcs_cpu = -1;
	if (s->vmcs)
		page_free(s->vmcs, 1);
	if (s->virtual_apic)
		page_free(s->virtual_apic, 1);
	vmx_msr_list_free(v);
	s->vmcs = s->virtual_apic = 0;
}

/* The VM's I/O and MSR bitmaps; its EPT tables are the gmem's to free. */
void vmx_vm_destroy(struct vm *vm)
{
	vmx_vm_maps_free(vm);
}
