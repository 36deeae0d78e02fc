#include "arch/x86/emul/msr.h"
#include "arch/x86/emul/cpuid.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "asm/cpu.h"
#include "lib/string.h"
#include "devices/pvclock.h"
#include "devices/vlapic.h"
#include "hv/platform.h"
#include "hv/guest_ctx.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_PLATFORM_ID 0x17
#define MSR_IA32_BIOS_SIGN_ID 0x8b
#define MSR_IA32_MTRRCAP 0xfe
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17a
#define MSR_MTRR_PHYS_FIRST 0x200
#define MSR_MTRR_PHYS_LAST 0x20f
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_AMD_HWCR 0xc0010015
#define MSR_AMD_SYSCFG 0xc0010010 /* APM vol. 2, 3.2.1: memory-type and SME controls */
#define MSR_AMD_NB_CFG 0xc001001f /* northbridge configuration (BKDG) */
/* Interrupt Pending Message (family 0Fh-10h BKDG): Linux reads it on CPUs
 * with AMD erratum 400 to see whether C1E is on. 0: it is not. */
#define MSR_AMD_INT_PENDING_MSG 0xc0010055

#define MSR_IA32_TSC_DEADLINE 0x6e0


/* MTRRcap: 8 variable ranges, fixed ranges, write-combining (SDM vol. 3, 12.11.1). */
#define MTRRCAP_VALUE (8 | BIT(8) | BIT(10))

/*
 * Guest values of these live in the VMCB save area and are switched by
 * VMRUN/VMLOAD/VMSAVE (APM vol. 2, 15.5.1, 15.5.2), or in the VMCS guest
 * state on VT-x: the guest may use them at full speed.
 */
const u32 msr_passthrough[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
};
const unsigned nr_msr_passthrough = ARRAY_SIZE(msr_passthrough);

/* The fixed-range MTRRs: 0x250, 0x258, 0x259, 0x268-0x26f (SDM vol. 3, 12.11.2.2). */
static int mtrr_fixed_index(u32 msr)
{
	if (msr == 0x250)
		return 0;
	if (msr == 0x258 || msr == 0x259)
		return (int)(msr - 0x258) + 1;
	if (msr >= 0x268 && msr <= 0x26f)
		return (int)(msr - 0x268) + 3;
	return -1;
}

/*
 * kvmclock (devices/pvclock.h): the guest names a guest-physical address and
 * the hypervisor writes the clock's parameters there, once: they hold for the
 * VM's life. An address whose structure is not wholly in guest RAM (or
 * crosses a 2 MiB boundary, which no aligned structure does) is a #GP
 * (KVM would silently not update it; a fault says what went wrong).
 */
static int kvmclock_write(struct vcpu *v, u32 msr, u64 val)
{
	if (msr == MSR_KVM_SYSTEM_TIME_NEW) {
		struct pvclock_vcpu_time_info *t;

		if (val & KVM_SYSTEM_TIME_ENABLE) {
			t = gmem_map(v->vm, val & ~(u64)KVM_SYSTEM_TIME_ENABLE, sizeof(*t), true);
			if (!t || (val & 2))
				return -EPERM; /* outside RAM, or not 4-byte aligned */
			pvclock_fill_time(t, v->vm->clock.khz);
		}
		v->msrs.kvm_system_time = val;
		return 0;
	}
	struct pvclock_wall_clock *w = gmem_map(v->vm, val, sizeof(*w), true);

	if (!w || (val & 3))
		return -EPERM;
	pvclock_fill_wall(w, v->vm->created_unix);
	v->msrs.kvm_wall_clock = val;
	return 0;
}

/*
 * EFER (SDM vol. 3, 2.2.1; APM vol. 2, 3.1.7). The guest may set SCE, LME
 * and NXE; every other bit is reserved and faults, SVME included (CPUID
 * tells the guest it has no SVM, so the bit the back end keeps set in the
 * VMCB is not the guest's). LMA is the CPU's: a write keeps its value.
 * LME may not change while paging is on (SDM vol. 3, 10.8.5; APM vol. 2,
 * 3.1.7): #GP.
 */
int msr_efer_check(u64 cur, u64 cr0, u64 *val)
{
	if (*val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return -EPERM;
	if (((*val ^ cur) & EFER_LME) && (cr0 & CR0_PG))
		return -EPERM;
	*val = (*val & ~EFER_LMA) | (cur & EFER_LMA);
	return 0;
}

/* PAT (SDM vol. 3, 12.12.2 "Programming the PAT"; APM vol. 2, 7.8): every
 * entry a memory type the PAT knows, UC 0, WC 1, WT 4, WP 5, WB 6, UC- 7;
 * 2, 3 and 8-FFh are #GP. */
bool msr_pat_valid(u64 val)
{
	for (int i = 0; i < 8; i++) {
		u8 type = (u8)(val >> (i * 8));

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/* The back end only keeps these (msr_state): the checks are here. */
static int efer_read(struct vcpu *v, u64 *val)
{
	if (vendor->msr_state(v, MSR_EFER, false, val))
		return -EPERM;
	*val &= ~EFER_SVME;
	return 0;
}

static int efer_write(struct vcpu *v, u64 val)
{
	struct guest_ctx ctx;
	u64 cur;

	if (vendor->msr_state(v, MSR_EFER, false, &cur))
		return -EPERM;
	vendor->get_paging_ctx(v, &ctx);
	if (msr_efer_check(cur & ~EFER_SVME, ctx.cr0, &val))
		return -EPERM;
	return vendor->msr_state(v, MSR_EFER, true, &val) ? -EPERM : 0;
}

void msr_kvmclock_publish(struct vcpu *v)
{
	u64 val = v->msrs.kvm_system_time;
	struct pvclock_vcpu_time_info *t;

	if (!(val & KVM_SYSTEM_TIME_ENABLE))
		return;
	t = gmem_map(v->vm, val & ~(u64)KVM_SYSTEM_TIME_ENABLE, sizeof(*t), true);
	if (t) /* checked when the guest wrote the MSR; a restored VM has its RAM */
		pvclock_fill_time(t, v->vm->clock.khz);
}

void msr_vcpu_reset(struct vcpu *v)
{
	memset(&v->msrs, 0, sizeof(v->msrs));
	v->msrs.misc_enable = MISC_ENABLE_RESET;
}

int msr_misc_enable_check(u64 cur, u64 *val)
{
	if (*val & ~(MISC_ENABLE_WRITABLE | MISC_ENABLE_READ_ONLY))
		return -EPERM;
	*val = (*val & MISC_ENABLE_WRITABLE) | (cur & ~MISC_ENABLE_WRITABLE);
	return 0;
}

/* PerfEvtSel0-3 and PerfCtr0-3 as index 0-7, for a VM whose CPUID says
 * AMD; -1 otherwise (the MSRs do not exist on Intel: #GP). */
static int amd_perf_index(const struct vcpu *v, u32 msr)
{
	if (msr - MSR_AMD_PERF_EVTSEL0 >= 8 || !v->vm->cpuid->amd)
		return -1;
	return (int)(msr - MSR_AMD_PERF_EVTSEL0);
}

static int amd_perf_write(struct vcpu *v, int i, u64 val)
{
	if (i >= 4)
		val &= AMD_PERF_CTR_MASK;
	if (!msr_amd_perf_valid((u32)i, val))
		return -EPERM;
	v->msrs.amd_perf[i] = val;
	return 0;
}

int msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	int fixed;

	switch (msr) {
	case MSR_IA32_APIC_BASE:
		if (!v->lapic)
			return -EPERM;
		*val = vlapic_apic_base_read(v->lapic);
		return 0;
	case MSR_IA32_TSC_DEADLINE:
		return v->lapic ? vlapic_tsc_deadline_read(v->lapic, val) : -EPERM;
	case MSR_IA32_TSC:
		*val = vm_guest_tsc(v->vm); /* one TSC for all the VM's vCPUs */
		return 0;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_BIOS_SIGN_ID: /* no microcode revision to report */
	case MSR_IA32_MCG_CAP:      /* no machine-check banks */
	case MSR_IA32_MCG_STATUS:
	case MSR_AMD_HWCR:
	case MSR_AMD_SYSCFG: /* no SME, no fixed-MTRR DRAM modifiers */
	case MSR_AMD_NB_CFG:
	case MSR_AMD_INT_PENDING_MSG:
		*val = 0;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*val = v->msrs.misc_enable;
		return 0;
	case MSR_IA32_MTRRCAP:
		*val = MTRRCAP_VALUE;
		return 0;
	case MSR_MTRR_DEF_TYPE:
		*val = v->msrs.mtrr_def_type;
		return 0;
	case MSR_TSC_AUX:
		*val = v->msrs.tsc_aux;
		return 0;
	case MSR_KVM_SYSTEM_TIME_NEW:
		*val = v->msrs.kvm_system_time;
		return 0;
	case MSR_KVM_WALL_CLOCK_NEW:
		*val = v->msrs.kvm_wall_clock;
		return 0;
	case MSR_EFER:
		return efer_read(v, val);
	}
	if (msr >= MSR_MTRR_PHYS_FIRST && msr <= MSR_MTRR_PHYS_LAST) {
		*val = v->msrs.mtrr_var[msr - MSR_MTRR_PHYS_FIRST];
		return 0;
	}
	if (vlapic_is_x2apic_msr(msr))
		return v->lapic ? vlapic_msr_read(v->lapic, msr, val) : -EPERM;
	fixed = mtrr_fixed_index(msr);
	if (fixed >= 0) {
		*val = v->msrs.mtrr_fixed[fixed];
		return 0;
	}
	fixed = amd_perf_index(v, msr);
	if (fixed >= 0) {
		*val = v->msrs.amd_perf[fixed];
		return 0;
	}
	return vendor->msr_state(v, msr, false, val) == 0 ? 0 : -EPERM;
}

/* Memory types valid in an MTRR: UC 0, WC 1, WT 4, WP 5, WB 6. */
static bool mtrr_type_ok(u8 type)
{
	return type <= 1 || (type >= 4 && type <= 6);
}

int msr_write(struct vcpu *v, u32 msr, u64 val)
{
	int fixed;

	switch (msr) {
	case MSR_IA32_APIC_BASE:
		v->irq_work = true; /* enabling or disabling changes what is deliverable */
		return v->lapic ? vlapic_apic_base_write(v->lapic, val) : -EPERM;
	case MSR_IA32_TSC_DEADLINE:
		return v->lapic ? vlapic_tsc_deadline_write(v->lapic, val) : -EPERM;
	case MSR_IA32_TSC:
		return 0; /* the VM keeps one TSC offset for all its vCPUs */
	case MSR_IA32_MISC_ENABLE:
		if (msr_misc_enable_check(v->msrs.misc_enable, &val))
			return -EPERM;
		v->msrs.misc_enable = val;
		return 0;
	case MSR_IA32_BIOS_SIGN_ID:
	case MSR_IA32_MCG_STATUS:
	case MSR_AMD_NB_CFG: /* Linux sets "enable CF8 extended config"; nothing to do */
		return 0;
	case MSR_MTRR_DEF_TYPE:
		if (val & ~0xcffULL || !mtrr_type_ok((u8)val))
			return -EPERM;
		v->msrs.mtrr_def_type = val;
		return 0;
	case MSR_TSC_AUX:
		if (val >> 32)
			return -EPERM;
		v->msrs.tsc_aux = val;
		return 0;
	case MSR_KVM_SYSTEM_TIME_NEW:
	case MSR_KVM_WALL_CLOCK_NEW:
		return kvmclock_write(v, msr, val);
	case MSR_EFER:
		return efer_write(v, val);
	case MSR_IA32_PAT:
		if (!msr_pat_valid(val))
			return -EPERM;
		break; /* the back end keeps it (VMCB G_PAT, VMCS guest PAT) */
	}
	if (vlapic_is_x2apic_msr(msr)) {
		v->irq_work = true; /* TPR, EOI, ... */
		return v->lapic ? vlapic_msr_write(v->lapic, msr, val) : -EPERM;
	}
	if (msr >= MSR_MTRR_PHYS_FIRST && msr <= MSR_MTRR_PHYS_LAST) {
		if (!(msr & 1) && !mtrr_type_ok((u8)val))
			return -EPERM;
		v->msrs.mtrr_var[msr - MSR_MTRR_PHYS_FIRST] = val;
		return 0;
	}
	fixed = mtrr_fixed_index(msr);
	if (fixed >= 0) {
		for (int i = 0; i < 8; i++)
			if (!mtrr_type_ok((u8)(val >> (8 * i))))
				return -EPERM;
		v->msrs.mtrr_fixed[fixed] = val;
		return 0;
	}
	fixed = amd_perf_index(v, msr);
	if (fixed >= 0)
		return amd_perf_write(v, fixed, val);
	return vendor->msr_state(v, msr, true, &val) == 0 ? 0 : -EPERM;
}
