/*
 * AMD-V back end: turning SVM on, building a vCPU's VMCB, the vendor ops.
 * The exit decoder is in svm_exit.c, the world switch in svm_run.S.
 */
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vmcb.h"
#include "arch/x86/nested_pt.h"
#include "hv/console.h"
#include "hv/intercept.h"
#include "hv/mm.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/spinlock.h"
#include "hv/shadow.h"
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "lib/string.h"

#define VM_CR_LOCK BIT(3)
#define VM_CR_SVMDIS BIT(4)

/* CPUID 8000_000Ah EDX (APM vol. 3, E.4.9) */
#define SVM_FEATURE_NP BIT(0)
#define SVM_FEATURE_NRIPS BIT(3)
#define SVM_FEATURE_FLUSH_BY_ASID BIT(6)
#define SVM_FEATURE_DECODE_ASSISTS BIT(7)

/* Reset value of the guest PAT (APM vol. 2, 7.8.1): WB, WT, UC-, UC twice. */
#define PAT_POWER_ON 0x0007040600070406ULL

static u32 svm_features;
bool svm_npt;
bool svm_flush_by_asid;
bool svm_nrip;
bool svm_decode_assists;
u32 svm_nr_asids; /* CPUID 8000_000Ah EBX */

bool svm_supported(void)
{
	if (cpuid(0x80000000).eax < 0x8000000a)
		return false;
	return cpuid(0x80000001).ecx & BIT(2);
}

static int svm_cpu_enable(void)
{
	struct percpu *cpu = this_cpu();
	struct cpuid_regs r;
	u64 hsave, host_vmcb;

	if (!svm_supported()) {
		kprintf("svm: CPU %u has no AMD-V (CPUID 8000_0001h ECX.SVM = 0)\n", cpu->id);
		return -ENODEV;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		kprintf("svm: CPU %u: AMD-V is disabled by the firmware (VM_CR.SVMDIS%s); "
			"enable SVM in the firmware setup\n",
			cpu->id, rdmsr(MSR_VM_CR) & VM_CR_LOCK ? ", locked" : "");
		return -EPERM;
	}
	r = cpuid(0x8000000a);
	if (cpu->id == 0) {
		/* Without nested paging VMs get shadow page tables
		 * (core/vm_paging.c, arch/x86/mmu/). */
		svm_npt = r.edx & SVM_FEATURE_NP;
		if (!svm_npt)
			kprintf("svm: no nested paging (CPUID 8000_000Ah EDX.NP = 0): VMs use "
				"shadow page tables\n");
		svm_features = r.edx;
		svm_nrip = r.edx & SVM_FEATURE_NRIPS;
		svm_flush_by_asid = r.edx & SVM_FEATURE_FLUSH_BY_ASID;
		svm_decode_assists = r.edx & SVM_FEATURE_DECODE_ASSISTS;
		svm_nr_asids = r.ebx;
		kprintf("svm: %u ASIDs, NRIP save %s, flush by ASID %s\n", svm_nr_asids,
			svm_features & SVM_FEATURE_NRIPS ? "yes" : "no (decoding instead)",
			svm_features & SVM_FEATURE_FLUSH_BY_ASID ? "yes" : "no (full flushes)");
	}

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	hsave = page_alloc(1, PAGE_SIZE);
	host_vmcb = page_alloc(1, PAGE_SIZE);
	if (!hsave || !host_vmcb)
		return -ENOMEM;
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	/* Capture this CPU's FS/GS/TR/LDTR/syscall state once; after every exit
	 * svm_vmrun reloads it from here. */
	__asm__ volatile("vmsave %0" ::"a"(host_vmcb) : "memory");
	cpu->vendor_area[0] = hsave;
	cpu->vendor_area[1] = host_vmcb;
	return 0;
}

/* Nothing per VM: the nested tables are vm->gmem's, n_cr3 their root. */
static int svm_vm_init(struct vm *vm)
{
	return svm_vm_maps_build(vm);
}

static void seg_to_vmcb(struct vmcb_seg *d, const struct seg *s)
{
	d->sel = s->sel;
	d->attr = s->attr;
	d->limit = s->limit;
	d->base = s->base;
}

static void seg_from_vmcb(struct seg *d, const struct vmcb_seg *s)
{
	d->sel = s->sel;
	d->attr = s->attr;
	d->limit = s->limit;
	d->base = s->base;
}

/* The save area from ctx and v->regs (vcpu_init, INIT and SIPI). */
/* TR is VMLOAD/VMSAVE state: the next VMLOAD before VMRUN takes it. */
static void svm_load_tr(struct vcpu *v, const struct seg *tr)
{
	seg_to_vmcb(&v->arch.svm.vmcb->save.tr, tr);
}

static void svm_set_ctx(struct vcpu *v, const struct guest_ctx *c)
{
	struct vmcb *vmcb = v->arch.svm.vmcb;

	seg_to_vmcb(&vmcb->save.es, &c->es);
	seg_to_vmcb(&vmcb->save.cs, &c->cs);
	seg_to_vmcb(&vmcb->save.ss, &c->ss);
	seg_to_vmcb(&vmcb->save.ds, &c->ds);
	seg_to_vmcb(&vmcb->save.fs, &c->fs);
	seg_to_vmcb(&vmcb->save.gs, &c->gs);
	seg_to_vmcb(&vmcb->save.tr, &c->tr);
	seg_to_vmcb(&vmcb->save.ldtr, &c->ldtr);
	vmcb->save.gdtr.base = c->gdtr.base;
	vmcb->save.gdtr.limit = c->gdtr.limit;
	vmcb->save.idtr.base = c->idtr.base;
	vmcb->save.idtr.limit = c->idtr.limit;
	vmcb->save.cpl = c->cpl;
	/* EFER.SVME must stay set in guest mode (APM vol. 2, 15.5.1); the
	 * guest reads it as clear (msr_state). */
	vmcb->save.efer = c->efer | EFER_SVME;
	vmcb->save.cr0 = c->cr0;
	vmcb->save.cr2 = c->cr2;
	vmcb->save.cr3 = c->cr3;
	vmcb->save.cr4 = c->cr4;
	vmcb->save.dr6 = 0xffff0ff0;
	vmcb->save.dr7 = 0x400;
	vmcb->save.g_pat = PAT_POWER_ON;
	vmcb->save.rflags = v->regs.rflags;
	vmcb->save.rip = v->regs.rip;
	vmcb->save.rsp = v->regs.gpr[GPR_RSP];
	vmcb->save.rax = v->regs.gpr[GPR_RAX];
	vmcb->control.eventinj = 0;
	vmcb->control.int_state = 0;
	vmcb->control.int_ctl &= ~(V_IRQ | V_TPR_MASK); /* the TPR is 0 after INIT and reset */
	/* Nor is an NMI handler running (the blocking we keep, svm_nmi.c): a
	 * vCPU reset inside one would otherwise wait for an IRET no boot runs,
	 * and never take an NMI again. A state load sets it after this. */
	svm_set_nmi_blocked(v, false);
	if (v->shadow)
		shadow_flush(v->shadow); /* a new CR3 and paging mode */
}

static void svm_set_tpr(struct vcpu *v, u8 cr8)
{
	struct vmcb_control *c = &v->arch.svm.vmcb->control;

	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) | (cr8 & V_TPR_MASK);
}

static int svm_vcpu_init(struct vcpu *v, const struct guest_ctx *c)
{
	struct svm_vcpu *s = &v->arch.svm;
	struct vmcb *vmcb;
	u64 pa = page_alloc(1, PAGE_SIZE);

	if (!pa)
		return -ENOMEM;
	vmcb = (struct vmcb *)(uintptr_t)pa;
	s->vmcb = vmcb;
	tlb_tag_drop(&s->asid); /* an ASID is assigned when it first runs */

	/* #MC belongs to the host; the others as the VM's policy says. */
	vmcb->control.intercept_exceptions = v->vm->intercepts->exceptions | INTERCEPT_EXC_ALWAYS;
	/* CR8 writes go to the local APIC model (core/exit_cr8.c); reads
	 * are V_TPR, which set_tpr keeps equal to the model's TPR. CR4
	 * writes are checked against what CPUID offers (core/exit_cr.c): the
	 * CPU would take OSXSAVE or PKE it has but the guest was not shown,
	 * and AMD-V has no per-bit mask like VT-x's (APM vol. 2, 15.9). */
	/* CR0 writes too: a CPU raises #GP for bits 63:32 and the other
	 * reserved combinations, which QEMU's TCG takes, and VMRUN then
	 * refuses the guest state (the attack guest found it, issue 15).
	 * core/exit_cr.c checks them as the SDM says; guests write CR0 a
	 * handful of times. */
	vmcb->control.intercept_cr = INTERCEPT_CR0_WRITE | INTERCEPT_CR4_WRITE | INTERCEPT_CR8_WRITE;
	/* MOV to and from DR0-DR7: core/exit_dr.c says why (QEMU's TCG
	 * turned a guest's DR7 into breakpoints for the host and other VMs). */
	vmcb->control.intercept_dr = INTERCEPT_DR0_7_READ | INTERCEPT_DR0_7_WRITE;
	vmcb->control.intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI |
					INTERCEPT_INIT | INTERCEPT_CPUID | INTERCEPT_INVD |
					INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO_PROT |
					INTERCEPT_MSR_PROT | INTERCEPT_SHUTDOWN |
					INTERCEPT_TR_WRITE | /* core/exit_ltr.c */
					(v->vm->intercepts->invlpg ? INTERCEPT_INVLPG : 0);
	/* VMRUN must be intercepted (APM vol. 2, 15.5.1); the other SVM
	 * instructions too, since the guest is told it has no SVM. */
	vmcb->control.intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
					INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI |
					INTERCEPT_SKINIT | INTERCEPT_RDTSCP | INTERCEPT_MONITOR |
					INTERCEPT_MWAIT | INTERCEPT_MWAIT_COND | INTERCEPT_XSETBV |
					INTERCEPT_RDPRU;
	vmcb->control.iopm_base_pa = v->vm->arch.svm.iopm_pa;
	vmcb->control.msrpm_base_pa = v->vm->arch.svm.msrpm_pa;
	vmcb->control.tsc_offset = v->vm->clock.tsc_offset;
	vmcb->control.tlb_control = TLB_CONTROL_FLUSH_ALL;
	vmcb->control.int_ctl = V_INTR_MASKING;
	if (v->shadow) {
		svm_shadow_vcpu_init(v);
	} else {
		vmcb->control.np_ctl = NP_ENABLE;
		vmcb->control.n_cr3 = v->vm->gmem.pt.root;
	}

	svm_set_ctx(v, c);
	return 0;
}

/*
 * ASIDs are per CPU and handed out on first use there (QEMU offers only 16;
 * hv/tlb_tag.h). A vCPU keeps its ASID while it stays on one CPU, so a
 * world switch flushes nothing; a new generation starts with one full
 * flush (APM vol. 2, 15.16 "TLB Control") at the next VMRUN on the CPU,
 * whichever vCPU's it is: the one loaded here may leave without running
 * (an AP waiting for its SIPI), and another would then run on a reused
 * ASID before the flush. Under shadow paging the ASID is the current
 * shadow root's, taken before each VMRUN (svm_shadow.c).
 */
static void svm_vcpu_load(struct vcpu *v)
{
	struct svm_vcpu *s = &v->arch.svm;
	struct percpu *cpu = this_cpu();

	/* The VM's clock may have been stopped, started, set or rescaled since
	 * the vCPU last ran (hv/vm_clock.h); a scaled one answers RDTSC itself. */
	s->vmcb->control.tsc_offset = v->vm->clock.tsc_offset;
	if (v->vm->clock.scaled)
		s->vmcb->control.intercept_misc1 |= INTERCEPT_RDTSC;
	else
		s->vmcb->control.intercept_misc1 &= ~INTERCEPT_RDTSC;
	if (v->shadow)
		return;
	if (tlb_tag_get(&s->asid, &cpu->tlb_tags, (int)cpu->id, svm_nr_asids) ==
	    TLB_TAG_NEW_GENERATION)
		cpu->tlb_tags.flush_all = true; /* at the next VMRUN here (svm_run) */
	s->vmcb->control.guest_asid = s->asid.id;
}

static void svm_flush_guest_tlb(struct vcpu *v)
{
	if (v->shadow) {
		shadow_flush(v->shadow); /* every root's ASID flushed at its next use */
		return;
	}
	v->arch.svm.vmcb->control.tlb_control = (svm_features & SVM_FEATURE_FLUSH_BY_ASID)
							? TLB_CONTROL_FLUSH_ASID
							: TLB_CONTROL_FLUSH_ALL;
}

static void svm_get_ctx(struct vcpu *v, struct guest_ctx *c)
{
	const struct vmcb_save *s = &v->arch.svm.vmcb->save;

	seg_from_vmcb(&c->es, &s->es);
	seg_from_vmcb(&c->cs, &s->cs);
	seg_from_vmcb(&c->ss, &s->ss);
	seg_from_vmcb(&c->ds, &s->ds);
	seg_from_vmcb(&c->fs, &s->fs);
	seg_from_vmcb(&c->gs, &s->gs);
	seg_from_vmcb(&c->tr, &s->tr);
	seg_from_vmcb(&c->ldtr, &s->ldtr);
	c->gdtr.base = s->gdtr.base;
	c->gdtr.limit = s->gdtr.limit;
	c->idtr.base = s->idtr.base;
	c->idtr.limit = s->idtr.limit;
	c->cr0 = s->cr0;
	c->cr2 = s->cr2;
	c->cr3 = s->cr3;
	c->cr4 = s->cr4;
	c->efer = s->efer & ~EFER_SVME;
	c->cpl = s->cpl;
}

static void svm_get_paging_ctx(struct vcpu *v, struct guest_ctx *c)
{
	const struct vmcb_save *s = &v->arch.svm.vmcb->save;

	c->cs.attr = s->cs.attr;
	c->cs.base = s->cs.base;
	c->cr0 = s->cr0;
	c->cr3 = s->cr3;
	c->cr4 = s->cr4;
	c->efer = s->efer;
	c->cpl = s->cpl;
}

static void svm_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	u64 ev = vector | EVENTINJ_TYPE_EXCEPTION | EVENTINJ_VALID;

	if (has_error)
		ev |= EVENTINJ_EV | ((u64)error << 32);
	v->arch.svm.vmcb->control.eventinj = ev;
}

/*
 * External interrupts go through the virtual interrupt (V_IRQ): the CPU
 * delivers it itself once the guest has RFLAGS.IF set and no interrupt
 * shadow, and clears V_IRQ when it does (APM vol. 2, 15.21.4).
 */
static bool svm_offer_irq(struct vcpu *v, u8 vector)
{
	struct vmcb_control *c = &v->arch.svm.vmcb->control;

	if (c->int_ctl & V_IRQ)
		return false;
	c->int_ctl = (c->int_ctl & ~(0xffULL << V_INTR_VECTOR_SHIFT) & ~(0xfULL << V_INTR_PRIO_SHIFT)) |
		     V_IRQ | V_IGN_TPR | (0xfULL << V_INTR_PRIO_SHIFT) |
		     ((u64)vector << V_INTR_VECTOR_SHIFT);
	return true;
}

/* The shadow ends with the instruction it covers: once the dispatcher has
 * moved RIP past it, it no longer counts (svm_run clears the bit). */
static bool svm_irq_shadow(struct vcpu *v)
{
	const struct vmcb *vmcb = v->arch.svm.vmcb;

	return (vmcb->control.int_state & 1) && vmcb->save.rip == v->regs.rip;
}

static bool svm_irq_offered(struct vcpu *v)
{
	return v->arch.svm.vmcb->control.int_ctl & V_IRQ;
}

static void svm_withdraw_irq(struct vcpu *v, u8 vector)
{
	struct vmcb_control *c = &v->arch.svm.vmcb->control;

	if ((c->int_ctl & V_IRQ) && (u8)(c->int_ctl >> V_INTR_VECTOR_SHIFT) == vector)
		c->int_ctl &= ~V_IRQ;
}

/* EFER and PAT live in the VMCB; arch/x86/emul/msr.c has checked what
 * is written. EFER.SVME stays set in guest mode (APM vol. 2, 15.5.1). */
static int svm_msr_state(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	struct vmcb_save *s = &v->arch.svm.vmcb->save;

	switch (msr) {
	case MSR_EFER:
		if (write) {
			s->efer = *val | EFER_SVME;
			if (v->shadow) /* NXE and LMA change what the leaves mean */
				shadow_flush(v->shadow);
		} else
			*val = s->efer;
		return 0;
	case MSR_IA32_PAT:
		if (write)
			s->g_pat = *val;
		else
			*val = s->g_pat;
		return 0;
	}
	return -ENOENT;
}

/* DR6 and DR7 live in the VMCB save area (APM vol. 2, 15.5.1, VMRUN). */
static void svm_debug_reg(struct vcpu *v, unsigned n, bool write, u64 *val)
{
	struct vmcb_save *s = &v->arch.svm.vmcb->save;

	if (write && n == 6)
		s->dr6 = *val;
	else if (write)
		s->dr7 = *val;
	else
		*val = n == 6 ? s->dr6 : s->dr7;
}

/* Control registers live in the VMCB save area; core/exit_cr.c has checked
 * the value. The CPU's own MOV to CR0/CR3/CR4 would drop translations when
 * paging changes: so does this vCPU's ASID (APM vol. 2, 15.16). */
static int svm_set_cr(struct vcpu *v, unsigned cr, u64 val)
{
	struct vmcb_save *s = &v->arch.svm.vmcb->save;

	switch (cr) {
	case 0:
		s->cr0 = val;
		break;
	case 2:
		s->cr2 = val;
		return 0;
	case 3:
		s->cr3 = val;
		if (v->shadow) {
			/* A root kept for it comes back, checked; the ASID's
			 * entries go before the next VMRUN (hw_flush). */
			struct guest_ctx ctx;

			svm_get_paging_ctx(v, &ctx);
			shadow_load_cr3(v->shadow, v->vm, &ctx);
			return 0;
		}
		break;
	case 4:
		s->cr4 = val;
		break;
	default:
		return -EINVAL;
	}
	svm_flush_guest_tlb(v);
	return 0;
}

void svm_run(struct vcpu *v, struct vmexit *exit);

static bool svm_nested_paging(void)
{
	return svm_npt;
}

const struct vendor_ops svm_ops = {
	.name = "svm",
	.cpu_enable = svm_cpu_enable,
	.nested_paging = svm_nested_paging,
	.shadow_paging = true,
	.pt_format = &pt_format_npt,
	.vm_init = svm_vm_init,
	.vcpu_init = svm_vcpu_init,
	.vcpu_load = svm_vcpu_load,
	.run = svm_run,
	.set_ctx = svm_set_ctx,
	.load_tr = svm_load_tr,
	.set_tpr = svm_set_tpr,
	.get_ctx = svm_get_ctx,
	.get_paging_ctx = svm_get_paging_ctx,
	.inject_exception = svm_inject_exception,
	.pending_event = svm_pending_event,
	.offer_irq = svm_offer_irq,
	.offer_nmi = svm_offer_nmi,
	.irq_shadow = svm_irq_shadow,
	.irq_offered = svm_irq_offered,
	.withdraw_irq = svm_withdraw_irq,
	.msr_state = svm_msr_state,
	.flush_guest_tlb = svm_flush_guest_tlb,
	.set_cr = svm_set_cr,
	.debug_reg = svm_debug_reg,
	.get_state = svm_get_state,
	.set_state = svm_set_state,
	.vcpu_destroy = svm_vcpu_destroy,
	.vm_destroy = svm_vm_destroy,
};
