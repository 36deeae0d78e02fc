/*
 * A VM's CPUID policy: what its guests see. Built once per VM from the host
 * CPU, with the features the hypervisor does not virtualize hidden and the
 * hypervisor leaves 0x40000000+ added; looked up on every CPUID exit.
 */
#ifndef EMUL_CPUID_H
#define EMUL_CPUID_H

#include "hv/types.h"

struct cpuid_leaf {
	u32 eax, ebx, ecx, edx;
};

#define CPUID_DIRECT 0x20      /* leaves 0..0x1f, 0x80000000..0x8000001f indexed directly */
#define CPUID_HV_BASE 0x40000000
#define CPUID_HV_LEAVES 0x11    /* 0x40000000..0x40000010 */
#define CPUID_KVM_BASE 0x40000100 /* KVM's leaves, for kvmclock (devices/pvclock.h) */
#define CPUID_KVM_LEAVES 2
#define CPUID_MAX_SUBLEAVES 64

struct cpuid_subleaf {
	u32 leaf, subleaf;
	struct cpuid_leaf r;
};

struct cpuid_policy {
	u32 max_basic, max_ext;
	struct cpuid_leaf basic[CPUID_DIRECT];
	struct cpuid_leaf ext[CPUID_DIRECT];
	struct cpuid_leaf hv[CPUID_HV_LEAVES];
	struct cpuid_leaf kvm[CPUID_KVM_LEAVES];
	/* Leaves whose answer depends on ECX (4, 7, 0xb, 0xd, ...). */
	struct cpuid_subleaf sub[CPUID_MAX_SUBLEAVES];
	unsigned nr_sub;
	/* What follows from the leaves: the CR4 bits a MOV to CR4 may set
	 * (those of the features offered, arch/x86/emul/cr.c), and whether the
	 * guest sees an AMD vendor string (AMD's own MSRs, arch/x86/emul/msr.c). */
	u64 cr4_allowed;
	bool amd;
};

/* The host CPU, as a function so host tests can feed a made-up one. */
typedef struct cpuid_leaf (*cpuid_source_fn)(u32 leaf, u32 subleaf);

void cpuid_policy_build(struct cpuid_policy *p, cpuid_source_fn host, u32 nr_vcpus, u32 tsc_khz);
/* The TSC and APIC-timer rate of leaf 0x40000010 (a restored VM keeps its
 * first host's: hv/vm_clock.h). */
void cpuid_policy_set_tsc_khz(struct cpuid_policy *p, u32 tsc_khz);

struct cpu_featureset;
/* What a VM of this policy sees in the feature words of hv/cpu_features.h
 * (HTT, which follows the vCPU count, and OSXSAVE, which follows the guest's
 * CR4, left out) and its CPUID.1.EAX: the host's report for pools. */
void cpuid_policy_features(const struct cpuid_policy *p, struct cpu_featureset *out);
/* cpu=pool: p shows only the features of set and set's signature; the CR4
 * bits of hidden features become reserved (#GP), as on a CPU without them. */
void cpuid_policy_restrict(struct cpuid_policy *p, const struct cpu_featureset *set);

/* The leaves that depend on ECX (4 and 7). */
struct cpuid_leaf cpuid_policy_lookup_sub(const struct cpuid_policy *p, u32 leaf, u32 subleaf);

/* What the guest's vCPU vcpu_id reads for (leaf, subleaf). Inline: it runs
 * on every CPUID exit. Leaves beyond the maxima read as zeros (as on AMD). */
static inline struct cpuid_leaf cpuid_policy_lookup(const struct cpuid_policy *p, u32 vcpu_id,
						    u32 leaf, u32 subleaf)
{
	struct cpuid_leaf r = { 0, 0, 0, 0 };

	if (leaf <= p->max_basic) {
		if (leaf == 4 || leaf == 7)
			return cpuid_policy_lookup_sub(p, leaf, subleaf);
		r = p->basic[leaf];
		if (leaf == 1)
			r.ebx = (r.ebx & 0x00ffffff) | (vcpu_id << 24);
	} else if (leaf - 0x80000000u <= p->max_ext - 0x80000000u) {
		r = p->ext[leaf - 0x80000000u];
	} else if (leaf - CPUID_HV_BASE < CPUID_HV_LEAVES) {
		r = p->hv[leaf - CPUID_HV_BASE];
	} else if (leaf - CPUID_KVM_BASE < CPUID_KVM_LEAVES) {
		r = p->kvm[leaf - CPUID_KVM_BASE];
	}
	return r;
}

/* Bits the policy sets or hides (named as in the SDM/APM CPUID tables). */
#define CPUID_1_EDX_APIC BIT(9)
#define CPUID_1_ECX_MONITOR BIT(3)
#define CPUID_1_ECX_VMX BIT(5)
#define CPUID_1_ECX_X2APIC BIT(21)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define CPUID_1_ECX_HYPERVISOR BIT(31)
#define CPUID_8000_0001_ECX_SVM BIT(2)

/* The signature in leaf 0x40000000 EBX, ECX, EDX: "utsuwa" padded with NULs. */
#define UTSUWA_SIG_EBX 0x75737475 /* "utsu" */
#define UTSUWA_SIG_ECX 0x00006177 /* "wa\0\0" */
#define UTSUWA_SIG_EDX 0x00000000

#endif
