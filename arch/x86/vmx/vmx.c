/*
 * Intel VT-x back end: turning VMX on (SDM vol. 3, 24.6-24.8), choosing
 * the controls from the capability MSRs (Appendix A), EPT and VPIDs
 * (29.3, 29.4), moving a vCPU between CPUs, the vendor ops. The VMCS of a
 * vCPU is built in vmx_vmcs.c, exits are decoded in vmx_exit.c, the world
 * switch is vmx_run.S.
 */
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_conv.h"
#include "arch/x86/nested_pt.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/platform.h"
#include "hv/sched.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "asm/vmx.h"

#define CPUID_1_ECX_VMX BIT(5)

struct vmx_caps vmx_caps;

bool vmx_supported(void)
{
	return cpuid(1).ecx & CPUID_1_ECX_VMX;
}

/* The controls utsuwa needs (required) and uses when present (optional). */
#define PIN_REQUIRED (PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING)
/* Virtual NMIs: the CPU tracks the guest's blocking by NMI and can exit
 * when it ends (NMI-window exiting, 26.2), so a waiting NMI goes in at once. */
#define PIN_OPTIONAL (PIN_PREEMPTION_TIMER | PIN_VIRTUAL_NMIS)
/* The TPR shadow keeps a 64-bit guest's CR8 off the real APIC's TPR, which
 * would hold back the host's own interrupts (26.3, 30.3): MOV from CR8 reads
 * the virtual-APIC page, which set_tpr keeps equal to the local APIC
 * model's TPR, and MOV to CR8 exits ("CR8-load exiting", checked before TPR
 * virtualization, 26.1.3) to reach the model (core/exit_cr8.c). */
#define PROC_REQUIRED (PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING | PROC_MWAIT_EXITING | \
		       PROC_USE_TPR_SHADOW | PROC_CR8_LOAD_EXITING | PROC_USE_IO_BITMAPS | \
		       PROC_USE_MSR_BITMAPS | PROC_MONITOR_EXITING | PROC_SECONDARY_CTLS)
/* Exits of these would stop the guest: a CPU that forces them on (no TRUE
 * controls, 25.6.2) cannot run our guests. */
#define PROC_UNWANTED (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | \
		       PROC_CR8_STORE_EXITING | PROC_INVLPG_EXITING | PROC_RDTSC_EXITING | \
		       PROC_RDPMC_EXITING | PROC_MOV_DR_EXITING)
/* Without "enable INVPCID" the instruction is #UD in the guest (26.3),
 * while CPUID passes PCID and INVPCID through (arch/x86/emul/cpuid.c).
 * Without EPT or unrestricted guest VMs get shadow page tables
 * (vmx_shadow.c) and real mode runs in virtual-8086 mode (vmx_rmode.c). */
#define PROC2_OPTIONAL (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_VPID | \
			PROC2_ENABLE_INVPCID)
/* Every VM exit sets DR7 to 400H (SDM vol. 3, 28.5.1): without "save debug
 * controls" and "load debug controls" the guest's DR7 and DEBUGCTL would be
 * lost at the first exit (28.3.1, 27.3.2.1). */
#define EXIT_REQUIRED (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_DEBUG_CTLS)
#define ENTRY_REQUIRED ENTRY_LOAD_DEBUG_CTLS
/* EFER and PAT switched by the VMCS; without all of these (Core 2) the
 * MSR lists of vmx_msr_list.c do it. */
#define EXIT_EFER_PAT (EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER | \
		       EXIT_LOAD_IA32_EFER)
#define ENTRY_EFER_PAT (ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_IA32_EFER)
#define EPT_REQUIRED (EPT_CAP_WALK_4 | EPT_CAP_WB | EPT_CAP_2M_PAGES | EPT_CAP_INVEPT)

static int missing_ctls(const char *which, u32 missing)
{
	if (!missing)
		return 0;
	kprintf("vmx: the CPU lacks %s controls %x that utsuwa needs\n", which, missing);
	return -ENODEV;
}

/* On the boot CPU: what this machine's VT-x offers, checked once for all. */
static int vmx_probe(void)
{
	struct vmx_caps *c = &vmx_caps;
	u64 basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	u32 missing;
	int err;

	if (VMX_BASIC_VMCS_SIZE(basic) > PAGE_SIZE) {
		kprintf("vmx: VMCS of %lu bytes does not fit a page\n", VMX_BASIC_VMCS_SIZE(basic));
		return -ENODEV;
	}
	c->revision = VMX_BASIC_REVISION(basic);

	/* With IA32_VMX_BASIC[55], the TRUE_* MSRs tell which default-1
	 * controls may be 0 (A.2). */
	c->pin = vmx_ctls_adjust(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
						 : MSR_IA32_VMX_PINBASED_CTLS),
				 PIN_REQUIRED, PIN_OPTIONAL, &missing);
	err = missing_ctls("pin-based", missing);
	c->proc = vmx_ctls_adjust(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
						  : MSR_IA32_VMX_PROCBASED_CTLS),
				  PROC_REQUIRED, 0, &missing);
	err = err ?: missing_ctls("processor-based", missing);
	if (!err && (c->proc & PROC_UNWANTED)) {
		kprintf("vmx: the CPU forces processor-based controls %x on\n",
			(u32)(c->proc & PROC_UNWANTED));
		err = -ENODEV;
	}
	c->proc2 = vmx_ctls_adjust(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2), 0, PROC2_OPTIONAL,
				   &missing);
	c->exit = vmx_ctls_adjust(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS
						  : MSR_IA32_VMX_EXIT_CTLS),
				  EXIT_REQUIRED, EXIT_SAVE_PREEMPTION_TIMER | EXIT_EFER_PAT, &missing);
	err = err ?: missing_ctls("VM-exit", missing);
	/* IA-32e mode guest is set per vCPU: it must be allowed either way. */
	c->entry = vmx_ctls_adjust(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS
						   : MSR_IA32_VMX_ENTRY_CTLS),
				   ENTRY_REQUIRED | ENTRY_IA32E_MODE_GUEST, ENTRY_EFER_PAT, &missing);
	err = err ?: missing_ctls("VM-entry", missing);
	c->entry &= ~ENTRY_IA32E_MODE_GUEST;
	c->msr_lists = (c->exit & EXIT_EFER_PAT) != EXIT_EFER_PAT ||
		       (c->entry & ENTRY_EFER_PAT) != ENTRY_EFER_PAT;
	if (c->msr_lists) {
		c->exit &= ~EXIT_EFER_PAT;
		c->entry &= ~ENTRY_EFER_PAT;
	}
	if (err)
		return err;

	/* The MSR exists only with EPT or VPIDs (A.10). */
	c->ept_vpid = c->proc2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID)
			      ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	c->ept = (c->proc2 & PROC2_ENABLE_EPT) && (c->ept_vpid & EPT_REQUIRED) == EPT_REQUIRED &&
		 (c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL));
	/* The MSR lists hold the EFER the hypervisor set, so LMA must change
	 * only through exits: shadow paging's CR0 writes (vmx_msr_list.c). No
	 * CPU with EPT lacks the controls. */
	if (c->msr_lists && c->ept) {
		kprintf("vmx: EPT without the EFER and PAT controls: not used\n");
		c->ept = false;
	}
	if ((c->proc2 & PROC2_ENABLE_EPT) && !c->ept && !c->msr_lists)
		kprintf("vmx: EPT lacks a 4-level walk, write-back tables, 2 MiB pages or INVEPT "
			"(IA32_VMX_EPT_VPID_CAP %lx): not used\n", c->ept_vpid);
	/* Unrestricted guest needs EPT (26.2.1.1). */
	c->ug = c->ept && (c->proc2 & PROC2_UNRESTRICTED_GUEST);
	if (!c->ept)
		c->proc2 &= ~(u32)PROC2_ENABLE_EPT;
	if (!c->ug)
		c->proc2 &= ~(u32)PROC2_UNRESTRICTED_GUEST;
	/* VPIDs are handed out per CPU and flushed all at once on rollover. */
	c->vpid = (c->proc2 & PROC2_ENABLE_VPID) && (c->ept_vpid & VPID_CAP_INVVPID) &&
		  (c->ept_vpid & VPID_CAP_INVVPID_ALL);
	if (!c->vpid)
		c->proc2 &= ~PROC2_ENABLE_VPID;

	/* NMI-window exiting may be 1 only with virtual NMIs (26.2.1.1). */
	c->nmi_window = (c->pin & PIN_VIRTUAL_NMIS) &&
			(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
					 : MSR_IA32_VMX_PROCBASED_CTLS) >> 32 & PROC_NMI_WINDOW_EXITING);
	c->preemption_timer = c->pin & PIN_PREEMPTION_TIMER;
	c->timer_rate = VMX_MISC_TIMER_RATE(rdmsr(MSR_IA32_VMX_MISC));
	c->timer_max = (u32)MAX(tsc_khz * 1000 / SCHED_TICK_HZ >> c->timer_rate, 1);
	c->timer_saved = c->preemption_timer && (c->exit & EXIT_SAVE_PREEMPTION_TIMER);
	if (!c->timer_saved)
		c->exit &= ~EXIT_SAVE_PREEMPTION_TIMER;

	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* An unrestricted guest may clear PE and PG (25.6.2); the bits VMX
	 * still forces hide behind the read shadows. */
	c->cr0_mask = vmx_cr_forced(c->cr0_fixed0, c->cr0_fixed1, CR0_PE | CR0_PG);
	c->cr4_mask = vmx_cr4_mask(c->cr4_fixed0, c->cr4_fixed1);

	kprintf("vmx: VMCS revision %x, %s controls, EPT %s, unrestricted guest %s, VPID %s, "
		"preemption timer %s\n", c->revision, true_ctls ? "TRUE" : "default",
		!c->ept ? "no" : c->ept_vpid & EPT_CAP_AD ? "yes (A/D yes)" : "yes (A/D no)",
		c->ug ? "yes" : "no",
		c->vpid ? "yes" : "no (TLB flushed on every switch)",
		!c->preemption_timer ? "no (APIC timer slices)"
		: c->timer_saved ? "yes" : "yes (rearmed on every entry)");
	if (c->msr_lists)
		kprintf("vmx: no VMCS controls for EFER and PAT: MSR-load lists switch them\n");
	if (!c->ug)
		kprintf("vmx: no %s: VMs use shadow page tables, real mode runs in "
			"virtual-8086 mode\n", c->ept ? "unrestricted guest" : "EPT");
	return vmx_rmode_init();
}

/* IA32_FEATURE_CONTROL: firmware may have locked VMX off (24.7). */
static int feature_control_enable(struct percpu *cpu)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCK)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
		return 0;
	}
	if (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)
		return 0;
	kprintf("vmx: CPU %u: VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked "
		"with VMX off); enable VT-x (\"Intel Virtualization Technology\") in the "
		"firmware setup\n", cpu->id);
	return -EPERM;
}

static int vmx_cpu_enable(void)
{
	struct percpu *cpu = this_cpu();
	u64 vmxon_region;
	int err;

	if (!vmx_supported()) {
		kprintf("vmx: CPU %u has no VT-x (CPUID.1:ECX.VMX = 0)\n", cpu->id);
		return -ENODEV;
	}
	err = feature_control_enable(cpu);
	if (err)
		return err;
	if (cpu->id == 0) {
		err = vmx_probe();
		if (err)
			return err;
	}

	vmxon_region = page_alloc(1, PAGE_SIZE);
	if (!vmxon_region)
		return -ENOMEM;
	*(u32 *)(uintptr_t)vmxon_region = vmx_caps.revision;
	/* The bits VMX operation fixes in CR0 and CR4, CR4.VMXE among them (24.8). */
	write_cr0(vmx_cr_fixed(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, 0));
	write_cr4(vmx_cr_fixed(read_cr4() | CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
	if (!vmxon(vmxon_region)) {
		kprintf("vmx: CPU %u: VMXON failed\n", cpu->id);
		return -EIO;
	}
	cpu->vendor_area[0] = vmxon_region;
	/* Nothing cached from before us may serve an EPT of ours (VPIDs get
	 * theirs at the first generation, assign_vpid). */
	if (vmx_caps.ept && (vmx_caps.ept_vpid & EPT_CAP_INVEPT_ALL))
		invept(INVEPT_ALL_CONTEXT, 0);
	return 0;
}

/* The EPT pointer of the VM's tables (vm->gmem's), SDM vol. 3, 25.6.11;
 * with accessed and dirty flags where the CPU has them, so dirty logging
 * needs no write protection (core/gmem_dirty.c). */
static int vmx_vm_init(struct vm *vm)
{
	vm->arch.vmx.eptp = vm->gmem.pt.root | EPTP_WB | EPTP_WALK_4;
	/* Under shadow paging the nested tables only record what dirty
	 * logging protects (arch/x86/mmu/shadow_gmem.c): no CPU sets their
	 * A/D bits. */
	if (!vm->shadow && (vmx_caps.ept_vpid & EPT_CAP_AD)) {
		vm->arch.vmx.eptp |= EPTP_AD;
		vm->gmem.hw_dirty = true;
	}
	return vmx_vm_maps_build(vm);
}

/*
 * VPIDs are per CPU and handed out on first use there, like the ASIDs of
 * svm.c (hv/tlb_tag.h): a vCPU keeps its VPID while it stays on one CPU,
 * so entries and exits flush nothing. A new generation starts with one
 * INVVPID of all contexts (29.4.3.3). Under shadow paging the VPID is the
 * current shadow root's, taken before each entry (vmx_shadow.c).
 */
static void assign_vpid(struct vmx_vcpu *s, struct percpu *cpu)
{
	if (tlb_tag_get(&s->vpid, &cpu->tlb_tags, (int)cpu->id, VMX_VPID_LIMIT) ==
	    TLB_TAG_NEW_GENERATION)
		invvpid(INVVPID_ALL_CONTEXT, 0);
	s->vmcs_vpid = (u16)s->vpid.id;
	vmwrite(VMCS_VPID, s->vpid.id);
}

/* The guest's syscall MSRs, CR2 and DR6: no VMCS field holds them (DR0-3
 * the core switches, core/vcpu_run.c). */
static void guest_regs_load(const struct vmx_vcpu *s)
{
	wrmsr(MSR_STAR, s->msrs.star);
	wrmsr(MSR_LSTAR, s->msrs.lstar);
	wrmsr(MSR_CSTAR, s->msrs.cstar);
	wrmsr(MSR_SFMASK, s->msrs.sfmask);
	wrmsr(MSR_KERNEL_GS_BASE, s->msrs.kernel_gs_base);
	write_cr2(s->cr2);
	write_dr6(s->dr6);
}

static void guest_regs_save(struct vmx_vcpu *s)
{
	s->msrs.star = rdmsr(MSR_STAR);
	s->msrs.lstar = rdmsr(MSR_LSTAR);
	s->msrs.cstar = rdmsr(MSR_CSTAR);
	s->msrs.sfmask = rdmsr(MSR_SFMASK);
	s->msrs.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	s->cr2 = read_cr2();
	s->dr6 = read_dr6();
}

/* VMPTRLD makes the VMCS current here (25.11.1); it was VMCLEARed when it
 * left its last CPU, so the next entry is a VMLAUNCH. */
static void vmx_vcpu_load(struct vcpu *v)
{
	struct vmx_vcpu *s = &v->arch.vmx;
	struct percpu *cpu = this_cpu();

	if (!vmptrld(s->vmcs))
		panic("vmx: VMPTRLD of vCPU %u's VMCS %lx failed", v->id, s->vmcs);
	if (s->host_cpu != (int)cpu->id) {
		vmx_write_host_state(cpu);
		s->host_cpu = (int)cpu->id;
	}
	s->vmcs_cpu = (int)cpu->id;
	if (vmx_caps.vpid && !v->shadow)
		assign_vpid(s, cpu);
	/* The VM's clock may have been stopped, started or set since the vCPU
	 * last ran (hv/vm_clock.h). */
	if (s->tsc_offset != v->vm->clock.tsc_offset) {
		s->tsc_offset = v->vm->clock.tsc_offset;
		vmwrite(VMCS_TSC_OFFSET, s->tsc_offset);
	}
	/* A scaled clock answers RDTSC itself (every VT-x CPU may set "RDTSC
	 * exiting", SDM vol. 3, A.3.2). */
	{
		u32 ctls = v->vm->clock.scaled ? s->proc_ctls | PROC_RDTSC_EXITING
					       : s->proc_ctls & ~PROC_RDTSC_EXITING;

		if (ctls != s->proc_ctls) {
			s->proc_ctls = ctls;
			vmwrite(VMCS_PROC_BASED_CTLS, ctls);
		}
	}
	guest_regs_load(s);
}

/* VMCLEAR writes the VMCS back to memory and makes it launchable on any
 * CPU (25.11.1): the vCPU may run elsewhere next. */
static void vmx_vcpu_put(struct vcpu *v)
{
	struct vmx_vcpu *s = &v->arch.vmx;

	guest_regs_save(s);
	if (!vmclear(s->vmcs))
		panic("vmx: VMCLEAR of vCPU %u's VMCS %lx failed", v->id, s->vmcs);
	s->launched = false;
	s->vmcs_cpu = -1;
}

/* After a change to the VM's EPT: its guest-physical and combined
 * translations go, on this CPU (29.4.3.1). */
static void vmx_flush_guest_tlb(struct vcpu *v)
{
	if (v->shadow) {
		vmx_shadow_flush(v);
		return;
	}
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, v->vm->arch.vmx.eptp);
	else
		invept(INVEPT_ALL_CONTEXT, 0);
}

/* EFER and PAT live in the VMCS guest state; arch/x86/emul/msr.c and
 * core/exit_cr.c have checked what is written. */
static int vmx_msr_state(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	if (msr != MSR_EFER && msr != MSR_IA32_PAT)
		return -ENOENT;
	if (!write) {
		*val = msr == MSR_EFER ? vmx_guest_efer(v) : vmx_guest_pat(v);
		return 0;
	}
	if (msr == MSR_EFER)
		vmx_set_guest_efer(v, *val);
	else
		vmx_set_guest_pat(v, *val);
	if (msr == MSR_EFER && v->shadow) /* NXE and LMA change what the leaves mean */
		vmx_shadow_flush(v);
	/* "IA-32e mode guest" is EFER.LMA on entry (26.2.4): a CR0 write
	 * that enters or leaves long mode stores EFER here first. */
	if (msr == MSR_EFER) {
		u64 entry = vmread(VMCS_ENTRY_CTLS);
		u64 want = (*val & EFER_LMA) ? entry | ENTRY_IA32E_MODE_GUEST
					     : entry & ~(u64)ENTRY_IA32E_MODE_GUEST;

		if (want != entry)
			vmwrite(VMCS_ENTRY_CTLS, want);
	}
	return 0;
}

/* VM-instruction error numbers (SDM vol. 3, 31.4, Table 31-1). */
const char *vmx_insn_error_str(u32 err)
{
	switch (err) {
	case 4: return "VMLAUNCH with a non-clear VMCS";
	case 5: return "VMRESUME with a non-launched VMCS";
	case 7: return "VM entry with invalid control fields";
	case 8: return "VM entry with invalid host-state fields";
	case 9: return "VMPTRLD with an invalid physical address";
	case 11: return "VMPTRLD with an incorrect VMCS revision";
	case 12: return "VMREAD/VMWRITE of an unsupported VMCS component";
	case 13: return "VMWRITE to a read-only VMCS component";
	case 26: return "VM entry with events blocked by MOV SS";
	case 28: return "invalid operand to INVEPT/INVVPID";
	}
	return "see SDM vol. 3, 31.4";
}

/* Nested paging needs EPT, and unrestricted guest for real mode and
 * paging off (26.3.1.1): without either, every VM gets shadow paging. */
static bool vmx_nested_paging(void)
{
	return vmx_caps.ug;
}

const struct vendor_ops vmx_ops = {
	.name = "vmx",
	.cpu_enable = vmx_cpu_enable,
	.nested_paging = vmx_nested_paging,
	.shadow_paging = true,
	.pt_format = &pt_format_ept,
	.vm_init = vmx_vm_init,
	.vcpu_init = vmx_vcpu_init,
	.set_ctx = vmx_set_ctx,
	.set_tpr = vmx_set_tpr,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_put = vmx_vcpu_put,
	.run = vmx_run,
	.get_ctx = vmx_get_ctx,
	.get_paging_ctx = vmx_get_paging_ctx,
	.inject_exception = vmx_inject_exception,
	.pending_event = vmx_pending_event,
	.offer_irq = vmx_offer_irq,
	.offer_nmi = vmx_offer_nmi,
	.irq_shadow = vmx_irq_shadow,
	.irq_offered = vmx_irq_offered,
	.withdraw_irq = vmx_withdraw_irq,
	.msr_state = vmx_msr_state,
	.flush_guest_tlb = vmx_flush_guest_tlb,
	.set_cr = vmx_set_cr,
	.get_state = vmx_get_state,
	.set_state = vmx_set_state,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vm_destroy = vmx_vm_destroy,
};
