/*
 * Building a vCPU's VMCS (SDM vol. 3, 25.4-25.8) from the start state the
 * loaders give, the host state of the CPU it runs on (25.5), and reading
 * the guest's architectural state back.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_conv.h"
#include "hv/console.h"
#include "hv/guest_ctx.h"
#include "hv/intercept.h"
#include "hv/mm.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "asm/cpu.h"
#include "asm/desc.h"
#include "asm/vmx.h"

/* Setup VMWRITEs record the first field that failed in *failed (bit 63
 * set: field 0, the VPID, is a valid encoding); 0 while none has. */
static void put(u64 *failed, u64 field, u64 value)
{
	if (!vmwrite_checked(field, value) && !*failed)
		*failed = field | BIT(63);
}

static const struct seg *ctx_seg(const struct guest_ctx *c, enum vmcs_seg s)
{
	switch (s) {
	case VMCS_SEG_ES: return &c->es;
	case VMCS_SEG_CS: return &c->cs;
	case VMCS_SEG_SS: return &c->ss;
	case VMCS_SEG_DS: return &c->ds;
	case VMCS_SEG_FS: return &c->fs;
	case VMCS_SEG_GS: return &c->gs;
	case VMCS_SEG_LDTR: return &c->ldtr;
	default: return &c->tr;
	}
}

/* Which CR0/CR4 bits the guest reads from the read shadows and cannot
 * write without an exit (25.6.6): under shadow paging all of them
 * (vmx_shadow.c), else those VMX operation fixes. */
static void set_masks(struct vmx_vcpu *s, bool shadow)
{
	s->cr0_mask = shadow ? ~0ULL : vmx_caps.cr0_mask;
	s->cr4_mask = shadow ? ~0ULL : vmx_caps.cr4_mask;
}

static void put_guest_state(u64 *f, struct vcpu *v, const struct guest_ctx *c)
{
	struct vmx_vcpu *s = &v->arch.vmx;

	set_masks(s, v->shadow);
	for (enum vmcs_seg s = VMCS_SEG_ES; s <= VMCS_SEG_TR; s++) {
		const struct seg *seg = ctx_seg(c, s);

		put(f, VMCS_GUEST_SEL(s), seg->sel);
		put(f, VMCS_GUEST_LIMIT(s), seg->limit);
		put(f, VMCS_GUEST_AR(s), vmx_ar_from_attr(seg->attr));
		put(f, VMCS_GUEST_BASE(s), seg->base);
	}
	put(f, VMCS_GUEST_GDTR_BASE, c->gdtr.base);
	put(f, VMCS_GUEST_GDTR_LIMIT, c->gdtr.limit);
	put(f, VMCS_GUEST_IDTR_BASE, c->idtr.base);
	put(f, VMCS_GUEST_IDTR_LIMIT, c->idtr.limit);

	/* CR0/CR4 as VMX operation needs them; the guest reads its own values
	 * from the shadows (25.6.6). PE and PG are the guest's own: unrestricted
	 * guest (25.6.2), or under shadow paging replaced across each entry
	 * (vmx_shadow.c). */
	put(f, VMCS_GUEST_CR0, vmx_cr_fixed(c->cr0, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1,
					 CR0_PE | CR0_PG));
	put(f, VMCS_CR0_READ_SHADOW, c->cr0);
	put(f, VMCS_CR0_GUEST_HOST_MASK, s->cr0_mask);
	put(f, VMCS_GUEST_CR4, vmx_cr_fixed(c->cr4, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
	put(f, VMCS_CR4_READ_SHADOW, c->cr4);
	put(f, VMCS_CR4_GUEST_HOST_MASK, s->cr4_mask);
	put(f, VMCS_GUEST_CR3, c->cr3);
	if (vmx_caps.msr_lists) { /* the fields do not exist (25.4.2) */
		vmx_set_guest_efer(v, c->efer);
		vmx_set_guest_pat(v, PAT_POWER_ON);
	} else {
		put(f, VMCS_GUEST_IA32_EFER, c->efer);
		put(f, VMCS_GUEST_IA32_PAT, PAT_POWER_ON);
	}
	put(f, VMCS_GUEST_DR7, 0x400);
	put(f, VMCS_GUEST_IA32_DEBUGCTL, 0);
	put(f, VMCS_GUEST_IA32_SYSENTER_CS, 0);
	put(f, VMCS_GUEST_IA32_SYSENTER_ESP, 0);
	put(f, VMCS_GUEST_IA32_SYSENTER_EIP, 0);
	/* The PDPTE fields exist only with EPT (25.4.2). */
	for (unsigned i = 0; vmx_caps.ept && i < 4; i++)
		put(f, VMCS_GUEST_PDPTE0 + 2 * i, 0);
	put(f, VMCS_GUEST_RIP, v->regs.rip);
	put(f, VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
	put(f, VMCS_GUEST_RFLAGS, v->regs.rflags);
	put(f, VMCS_GUEST_INTERRUPTIBILITY, 0);
	put(f, VMCS_GUEST_ACTIVITY_STATE, 0); /* active */
	put(f, VMCS_GUEST_PENDING_DBG, 0);
	put(f, VMCS_LINK_POINTER, ~0ULL); /* no shadow VMCS (27.3.1.5) */
	v->arch.vmx.cr2 = c->cr2;
}

/* The primary controls of the VM's vCPUs: "INVLPG exiting" (every VT-x
 * CPU may set it, A.3.2) when its intercept policy asks, "RDTSC exiting"
 * while its TSC is scaled (hv/vm_clock.h; vmx_vcpu_load follows changes);
 * under shadow paging CR3 loads and stores exit too (vmx_shadow.c; allowed
 * on every CPU, A.3.2). */
u32 vmx_proc_ctls_of(const struct vm *vm)
{
	return vmx_caps.proc | (vm->intercepts->invlpg ? PROC_INVLPG_EXITING : 0) |
	       (vm->clock.scaled ? PROC_RDTSC_EXITING : 0) |
	       (vm->shadow ? PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING : 0);
}

static void put_controls(u64 *f, struct vcpu *v, const struct guest_ctx *c)
{
	struct vmx_vcpu *s = &v->arch.vmx;

	s->proc_ctls = vmx_proc_ctls_of(v->vm);
	put(f, VMCS_PIN_BASED_CTLS, vmx_caps.pin);
	put(f, VMCS_PROC_BASED_CTLS, s->proc_ctls);
	/* Shadow paging runs without EPT, and so without unrestricted guest
	 * (26.2.1.1). */
	s->proc2_ctls = v->shadow ? vmx_caps.proc2 & ~(u32)(PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST)
				  : vmx_caps.proc2;
	put(f, VMCS_PROC_BASED_CTLS2, s->proc2_ctls);
	put(f, VMCS_EXIT_CTLS, vmx_caps.exit);
	/* "IA-32e mode guest" follows EFER.LMA; every exit saves it (28.2). */
	put(f, VMCS_ENTRY_CTLS, vmx_caps.entry | (c->efer & EFER_LMA ? ENTRY_IA32E_MODE_GUEST : 0));
	/* #MC belongs to the host; the others as the VM's policy says. */
	put(f, VMCS_EXCEPTION_BITMAP, v->vm->intercepts->exceptions | INTERCEPT_EXC_ALWAYS);
	put(f, VMCS_PF_ERROR_MASK, 0);
	put(f, VMCS_PF_ERROR_MATCH, 0);
	put(f, VMCS_CR3_TARGET_COUNT, 0);
	put(f, VMCS_EXIT_MSR_STORE_COUNT, 0);
	put(f, VMCS_EXIT_MSR_LOAD_COUNT, 0);
	put(f, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	put(f, VMCS_ENTRY_INTR_INFO, 0);
	put(f, VMCS_IO_BITMAP_A, v->vm->arch.vmx.io_bitmap_pa);
	put(f, VMCS_IO_BITMAP_B, v->vm->arch.vmx.io_bitmap_pa + PAGE_SIZE);
	put(f, VMCS_MSR_BITMAP, v->vm->arch.vmx.msr_bitmap_pa);
	s->tsc_offset = v->vm->clock.tsc_offset;
	put(f, VMCS_TSC_OFFSET, s->tsc_offset);
	if (s->proc2_ctls & PROC2_ENABLE_EPT)
		put(f, VMCS_EPT_POINTER, v->vm->arch.vmx.eptp);
	/* CR8 reads and writes go to the TPR byte of this page; with a
	 * threshold of 0 they never exit (30.3). */
	put(f, VMCS_VIRTUAL_APIC_PAGE, s->virtual_apic);
	put(f, VMCS_TPR_THRESHOLD, 0);
	if (vmx_caps.vpid) {
		put(f, VMCS_VPID, 0); /* assigned when it first runs (vcpu_load) */
		s->vmcs_vpid = 0;
	}
	if (vmx_caps.preemption_timer)
		put(f, VMCS_PREEMPTION_TIMER_VALUE, 0); /* armed before each entry */
}

/*
 * INIT and SIPI (core/vm_apic.c): the VMCS is current on this CPU. What an
 * earlier entry was to inject, and any interrupt shadow, go with the old
 * state, and so do the vCPU's cached translations (INIT flushes the TLB).
 */
/* VTPR, byte 0x80 of the virtual-APIC page (30.1.1): TPR[7:4] is CR8. */
void vmx_set_tpr(struct vcpu *v, u8 cr8)
{
	volatile u8 *page = (volatile u8 *)(uintptr_t)v->arch.vmx.virtual_apic;

	page[0x80] = (u8)((cr8 & 0xf) << 4);
}

void vmx_set_ctx(struct vcpu *v, const struct guest_ctx *c)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	u64 failed = 0, *f = &failed;

	put_guest_state(f, v, c);
	vmx_set_tpr(v, 0); /* the TPR is 0 after INIT and reset */
	put(f, VMCS_ENTRY_CTLS, vmx_caps.entry | (c->efer & EFER_LMA ? ENTRY_IA32E_MODE_GUEST : 0));
	put(f, VMCS_ENTRY_INTR_INFO, 0);
	s->entry_intr = 0;
	s->window_pending = false;
	s->intr_shadow = 0;
	s->proc_ctls = vmx_proc_ctls_of(v->vm);
	put(f, VMCS_PROC_BASED_CTLS, s->proc_ctls);
	write_cr2(c->cr2);
	if (v->shadow) {
		vmx_shadow_mode(v);
		vmx_shadow_flush(v);
	}
	if (vmx_caps.vpid && !v->shadow && s->vpid.gen)
		invvpid(vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE ? INVVPID_SINGLE_CONTEXT
								    : INVVPID_ALL_CONTEXT, s->vpid.id);
	if (failed)
		kprintf("vmx: vm %s: vCPU %u: VMWRITE of field %lx failed\n", v->vm->name, v->id,
			failed & ~BIT(63));
}

/* What every CPU has alike: selectors, where exits land. */
static void put_host_constants(u64 *f)
{
	put(f, VMCS_HOST_CS_SEL, SEL_CODE64);
	put(f, VMCS_HOST_SS_SEL, SEL_DATA);
	put(f, VMCS_HOST_DS_SEL, SEL_DATA);
	put(f, VMCS_HOST_ES_SEL, SEL_DATA);
	put(f, VMCS_HOST_FS_SEL, 0);
	put(f, VMCS_HOST_GS_SEL, 0);
	put(f, VMCS_HOST_TR_SEL, SEL_TSS);
	put(f, VMCS_HOST_RIP, (u64)(uintptr_t)vmx_exit_entry);
	put(f, VMCS_HOST_IA32_SYSENTER_CS, 0);
	put(f, VMCS_HOST_IA32_SYSENTER_ESP, 0);
	put(f, VMCS_HOST_IA32_SYSENTER_EIP, 0);
}

int vmx_vcpu_init(struct vcpu *v, const struct guest_ctx *c)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	u64 pa = page_alloc(1, PAGE_SIZE), current, failed = 0, *f = &failed;

	s->virtual_apic = page_alloc(1, PAGE_SIZE);
	if (!pa || !s->virtual_apic || vmx_msr_list_init(v, c->efer))
		return -ENOMEM;
	*(u32 *)(uintptr_t)pa = vmx_caps.revision;
	s->vmcs = pa;
	s->host_cpu = -1;
	tlb_tag_drop(&s->vpid);
	s->vmcs_cpu = -1;
	s->dr6 = 0xffff0ff0; /* power-on value (SDM vol. 3, 10.1.1) */

	/* Build it as the current VMCS of this CPU, then clear it so any CPU
	 * can load it; whatever VMCS was current here stays so. */
	current = vmptrst();
	if (!vmclear(pa) || !vmptrld(pa)) {
		kprintf("vmx: vm %s: cannot load a new VMCS\n", v->vm->name);
		return -EIO;
	}
	put_controls(f, v, c);
	vmx_msr_list_put(v, put, f);
	put_guest_state(f, v, c);
	put_host_constants(f);
	if (v->shadow)
		vmx_shadow_mode(v);
	vmclear(pa);
	if (current != ~0ULL)
		vmptrld(current);
	if (failed) {
		kprintf("vmx: vm %s: VMWRITE of field %lx failed\n", v->vm->name,
			failed & ~BIT(63));
		return -EIO;
	}
	return 0;
}

/* The host state that differs between CPUs (25.5), written when the
 * VMCS comes to a CPU other than the one it last ran on. */
void vmx_write_host_state(struct percpu *cpu)
{
	struct desc_ptr idtr;

	sidt(&idtr);
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, (u64)(uintptr_t)cpu); /* this_cpu() reads %gs:0 */
	vmwrite(VMCS_HOST_TR_BASE, (u64)(uintptr_t)cpu->tss);
	vmwrite(VMCS_HOST_GDTR_BASE, (u64)(uintptr_t)cpu->gdt);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	if (!vmx_caps.msr_lists) { /* else the VM-exit MSR-load list has them */
		vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
		vmwrite(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	}
}

static void seg_from_vmcs(struct seg *d, enum vmcs_seg s)
{
	d->sel = (u16)vmread(VMCS_GUEST_SEL(s));
	d->limit = (u32)vmread(VMCS_GUEST_LIMIT(s));
	d->attr = vmx_attr_from_ar((u32)vmread(VMCS_GUEST_AR(s)));
	d->base = vmread(VMCS_GUEST_BASE(s));
}

/* CR0/CR4 as the guest sees them: its own bits, the shadow's where masked. */
static u64 guest_cr(u64 cr_field, u64 shadow_field, u64 mask)
{
	return (vmread(cr_field) & ~mask) | (vmread(shadow_field) & mask);
}

void vmx_get_ctx(struct vcpu *v, struct guest_ctx *c)
{
	seg_from_vmcs(&c->es, VMCS_SEG_ES);
	seg_from_vmcs(&c->cs, VMCS_SEG_CS);
	seg_from_vmcs(&c->ss, VMCS_SEG_SS);
	seg_from_vmcs(&c->ds, VMCS_SEG_DS);
	seg_from_vmcs(&c->fs, VMCS_SEG_FS);
	seg_from_vmcs(&c->gs, VMCS_SEG_GS);
	seg_from_vmcs(&c->ldtr, VMCS_SEG_LDTR);
	seg_from_vmcs(&c->tr, VMCS_SEG_TR);
	c->gdtr.base = vmread(VMCS_GUEST_GDTR_BASE);
	c->gdtr.limit = (u32)vmread(VMCS_GUEST_GDTR_LIMIT);
	c->idtr.base = vmread(VMCS_GUEST_IDTR_BASE);
	c->idtr.limit = (u32)vmread(VMCS_GUEST_IDTR_LIMIT);
	c->cr0 = guest_cr(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, v->arch.vmx.cr0_mask);
	c->cr2 = read_cr2(); /* the guest's while its VMCS is loaded here */
	c->cr3 = vmread(VMCS_GUEST_CR3);
	c->cr4 = guest_cr(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, v->arch.vmx.cr4_mask);
	c->efer = vmx_guest_efer(v);
	/* The CPL is SS.DPL (25.4.1). */
	c->cpl = (u8)SEG_ATTR_DPL(c->ss.attr);
}

void vmx_get_paging_ctx(struct vcpu *v, struct guest_ctx *c)
{
	c->cs.attr = vmx_attr_from_ar((u32)vmread(VMCS_GUEST_CS_AR));
	c->cs.base = vmread(VMCS_GUEST_CS_BASE);
	c->cr0 = guest_cr(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, v->arch.vmx.cr0_mask);
	c->cr3 = vmread(VMCS_GUEST_CR3);
	c->cr4 = guest_cr(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, v->arch.vmx.cr4_mask);
	c->efer = vmx_guest_efer(v);
	c->cpl = (u8)((vmread(VMCS_GUEST_SS_AR) >> 5) & 3);
}
