#include "arch/x86/emul/cpuid.h"
#include "arch/x86/emul/cr.h"
#include "devices/pvclock.h"
#include "hv/cpu_features.h"
#include "lib/string.h"

/*
 * What the guest must not see, by register. Hidden because the hypervisor
 * does not virtualize it (yet), or because it would leak the host.
 * Leaf 1 (SDM vol. 2A, CPUID, tables 3-10/3-11):
 *   ECX: DTES64 2, MONITOR 3, DS-CPL 4, VMX 5, SMX 6, EST 7, TM2 8, FMA 12,
 *        PDCM 15, XSAVE 26, OSXSAVE 27, AVX 28, F16C 29 (the last four: no
 *        XSAVE state switching yet). x2APIC 21 and TSC-deadline 24 are the
 *        virtual local APIC's (devices/vlapic.h): shown whatever the host has.
 *   EDX: MCE 7, MCA 14, DS 21, ACPI 22, TM 29, PBE 31
 */
#define HIDE_1_ECX (BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(12) | \
		    BIT(15) | BIT(26) | BIT(27) | BIT(28) | BIT(29))
#define HIDE_1_EDX (BIT(7) | BIT(14) | BIT(21) | BIT(22) | BIT(29) | BIT(31))
/* Leaf 7.0 EBX: TSC_ADJUST 1 (its MSR is not emulated), SGX 2, HLE 4, AVX2 5, RTM 11, RDT-M 12, MPX 14, RDT-A 15,
 * AVX-512 16,17,21,26,27,28,30,31, PT 25. ECX: AVX512_VBMI 1, PKU 3, OSPKE 4,
 * WAITPKG 5, AVX512 6,11,12,14, LA57 16, RDPID 22 (#UD on VT-x without
 * "enable RDTSCP", which the TSC_AUX MSR emulation does not cover), CET_SS 7
 * (shadow stacks: neither CR4.CET nor the CET MSRs are virtualized, they
 * #GP). EDX: everything (speculation controls, AMX, CET_IBT 20, ...). */
#define HIDE_7_EBX (BIT(1) | BIT(2) | BIT(4) | BIT(5) | BIT(11) | BIT(12) | BIT(14) | BIT(15) | BIT(16) | \
		    BIT(17) | BIT(21) | BIT(25) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
#define HIDE_7_ECX (BIT(1) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(11) | BIT(12) | \
		    BIT(14) | BIT(16) | BIT(22))
/* Leaf 8000_0001h (APM vol. 3, E.4.2) ECX: SVM 2, OSVW 9, IBS 10, XOP 11,
 * SKINIT 12, WDT 13, LWP 15, FMA4 16, TBM 21, TopologyExtensions 22,
 * PerfCtrExtCore 23, PerfCtrExtNB 24, DataBreakpoint 26, PerfTsc 27,
 * PerfCtrExtLLC 28, MONITORX 29. EDX: RDTSCP 27. */
#define HIDE_E1_ECX (BIT(2) | BIT(9) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(15) | \
		     BIT(16) | BIT(21) | BIT(22) | BIT(23) | BIT(24) | BIT(26) | BIT(27) | \
		     BIT(28) | BIT(29))
#define HIDE_E1_EDX BIT(27)

/* Basic leaves passed through (after masking); the others read as zero:
 * power management (6), performance monitoring (0xa), XSAVE (0xd), RDT,
 * SGX, PT (0xf-0x14) and topology (0xb, 0x1f) until they are virtualized. */
static bool basic_leaf_kept(u32 leaf)
{
	return leaf <= 2 || leaf == 4 || leaf == 7 || leaf == 0x16;
}

/* Extended leaves kept: names, cache/TLB descriptions, address sizes. */
static bool ext_leaf_kept(u32 leaf)
{
	return leaf <= 8 && leaf != 7; /* 7: power management */
}

/*
 * The CR4 bits a guest may set: the ones every x86-64 CPU has (VME to
 * OSXMMEXCPT), and each later one only when CPUID offers its feature (SDM
 * vol. 3, 2.5 "Control Registers": a bit of a feature the CPU lacks is
 * reserved, and setting it is #GP; APM vol. 2, 3.1.3). VMXE, SMXE, LA57 and
 * CET are never offered.
 */
static u64 cr4_allowed(const struct cpuid_policy *p)
{
	struct cpuid_leaf l1 = p->basic[1], l7 = cpuid_policy_lookup_sub(p, 7, 0);
	u64 cr4 = CR4_ALWAYS_GUEST_BITS;

	if (l1.ecx & BIT(17))
		cr4 |= CR4_PCIDE;
	if (l1.ecx & BIT(26))
		cr4 |= CR4_OSXSAVE;
	if (l7.ebx & BIT(0))
		cr4 |= CR4_FSGSBASE;
	if (l7.ebx & BIT(7))
		cr4 |= CR4_SMEP;
	if (l7.ebx & BIT(20))
		cr4 |= CR4_SMAP;
	if (l7.ecx & BIT(2))
		cr4 |= CR4_UMIP;
	if (l7.ecx & BIT(3))
		cr4 |= CR4_PKE;
	return cr4;
}

static void add_sub(struct cpuid_policy *p, u32 leaf, u32 subleaf, struct cpuid_leaf r)
{
	if (p->nr_sub < CPUID_MAX_SUBLEAVES)
		p->sub[p->nr_sub++] = (struct cpuid_subleaf){ leaf, subleaf, r };
}

void cpuid_policy_set_tsc_khz(struct cpuid_policy *p, u32 tsc_khz)
{
	p->hv[0x10].eax = tsc_khz;
	p->hv[0x10].ebx = tsc_khz;
}

void cpuid_policy_build(struct cpuid_policy *p, cpuid_source_fn host, u32 nr_vcpus, u32 tsc_khz)
{
	struct cpuid_leaf r;

	memset(p, 0, sizeof(*p));
	r = host(0, 0);
	p->max_basic = r.eax < CPUID_DIRECT - 1 ? r.eax : CPUID_DIRECT - 1;
	for (u32 l = 0; l <= p->max_basic; l++)
		if (basic_leaf_kept(l))
			p->basic[l] = host(l, 0);
	p->basic[0].eax = p->max_basic;

	r = p->basic[1];
	r.ecx = (r.ecx & ~(u32)HIDE_1_ECX) | CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC |
		CPUID_1_ECX_TSC_DEADLINE;
	r.edx &= ~(u32)HIDE_1_EDX;
	/* EBX[23:16]: logical processors in the package; EDX bit 28 (HTT)
	 * says that field is valid. The APIC ID (EBX[31:24]) is per vCPU. */
	r.ebx = (r.ebx & 0x0000ffff) | ((nr_vcpus & 0xff) << 16);
	r.edx = nr_vcpus > 1 ? r.edx | BIT(28) : r.edx & ~(u32)BIT(28);
	p->basic[1] = r;

	/* Leaf 4 (Intel deterministic cache parameters): every subleaf until
	 * the type field reads 0, with the core count in EAX[31:26] made ours. */
	if (p->max_basic >= 4) {
		for (u32 s = 0; s < 8; s++) {
			r = host(4, s);
			if (!(r.eax & 0x1f))
				break;
			r.eax = (r.eax & 0x03ffffff) | ((nr_vcpus - 1) << 26);
			add_sub(p, 4, s, r);
		}
	}
	if (p->max_basic >= 7) {
		r = host(7, 0);
		r.eax = 0; /* only subleaf 0 */
		r.ebx &= ~(u32)HIDE_7_EBX;
		r.ecx &= ~(u32)HIDE_7_ECX;
		r.edx = 0;
		add_sub(p, 7, 0, r);
	}

	r = host(0x80000000, 0);
	p->max_ext = r.eax >= 0x80000000 && r.eax < 0x80000000 + CPUID_DIRECT
			     ? r.eax
			     : 0x80000000 + CPUID_DIRECT - 1;
	if (r.eax < 0x80000000)
		p->max_ext = 0x80000000;
	for (u32 l = 0; l <= p->max_ext - 0x80000000; l++)
		if (ext_leaf_kept(l))
			p->ext[l] = host(0x80000000 + l, 0);
	if (p->max_ext > 0x80000008)
		p->max_ext = 0x80000008;
	p->ext[0].eax = p->max_ext;
	p->ext[1].ecx &= ~(u32)HIDE_E1_ECX;
	p->ext[1].edx &= ~(u32)HIDE_E1_EDX;
	/* 8000_0008h: keep the address sizes (EAX); EBX holds speculation
	 * controls (hidden); ECX[7:0] is the core count minus one. */
	p->ext[8].ebx = 0;
	p->ext[8].ecx = (nr_vcpus - 1) & 0xff;
	p->ext[8].edx = 0;

	/* The hypervisor leaves: vendor signature, and the timing leaf
	 * 0x40000010 of the VMware convention: TSC and APIC timer (bus)
	 * frequencies in kHz; the vLAPIC timer counts at the TSC rate. */
	p->hv[0] = (struct cpuid_leaf){ CPUID_HV_BASE + CPUID_HV_LEAVES - 1, UTSUWA_SIG_EBX,
					UTSUWA_SIG_ECX, UTSUWA_SIG_EDX };
	cpuid_policy_set_tsc_khz(p, tsc_khz);
	/* KVM's leaves, offering kvmclock and nothing else: Linux takes the TSC
	 * frequency from it on any vendor (devices/pvclock.h). */
	p->kvm[0] = (struct cpuid_leaf){ CPUID_KVM_BASE + CPUID_KVM_LEAVES - 1, KVM_SIG_EBX,
					 KVM_SIG_ECX, KVM_SIG_EDX };
	p->kvm[1].eax = KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;

	p->cr4_allowed = cr4_allowed(p);
	/* "AuthenticAMD": EBX "Auth", EDX "enti", ECX "cAMD". */
	p->amd = p->basic[0].ebx == 0x68747541 && p->basic[0].edx == 0x69746e65 &&
		 p->basic[0].ecx == 0x444d4163;
}

struct cpuid_leaf cpuid_policy_lookup_sub(const struct cpuid_policy *p, u32 leaf, u32 subleaf)
{
	for (unsigned i = 0; i < p->nr_sub; i++)
		if (p->sub[i].leaf == leaf && p->sub[i].subleaf == subleaf)
			return p->sub[i].r;
	return (struct cpuid_leaf){ 0, 0, 0, 0 };
}

/* The bits pools leave alone: HTT (1.EDX 28) follows the VM's vCPU count,
 * OSXSAVE (1.ECX 27) the guest's CR4. */
static const u32 pool_neutral[CPU_FEATURE_WORDS] = { BIT(27), BIT(28), 0, 0, 0, 0, 0 };

/* The register of the policy that holds feature word i. */
static u32 *feature_reg(struct cpuid_policy *p, unsigned i)
{
	const struct cpu_feature_word *fw = &cpu_feature_words[i];
	struct cpuid_leaf *l = NULL;

	if (fw->leaf == 1)
		l = &p->basic[1];
	else if (fw->leaf == 0x80000001)
		l = &p->ext[1];
	else
		for (unsigned k = 0; k < p->nr_sub; k++)
			if (p->sub[k].leaf == fw->leaf && p->sub[k].subleaf == fw->subleaf)
				l = &p->sub[k].r;
	if (!l)
		return NULL;
	return fw->reg == 0 ? &l->eax : fw->reg == 1 ? &l->ebx : fw->reg == 2 ? &l->ecx : &l->edx;
}

void cpuid_policy_features(const struct cpuid_policy *p, struct cpu_featureset *out)
{
	out->sig = p->basic[1].eax;
	for (unsigned i = 0; i < CPU_FEATURE_WORDS; i++) {
		u32 *r = feature_reg((struct cpuid_policy *)p, i);

		out->w[i] = r ? *r & ~pool_neutral[i] : 0;
	}
}

void cpuid_policy_restrict(struct cpuid_policy *p, const struct cpu_featureset *set)
{
	for (unsigned i = 0; i < CPU_FEATURE_WORDS; i++) {
		u32 *r = feature_reg(p, i);

		if (r)
			*r &= set->w[i] | pool_neutral[i];
	}
	p->basic[1].eax = set->sig;
	if (p->ext[1].eax) /* AMD repeats the signature in 8000_0001h.EAX (APM E.4.2) */
		p->ext[1].eax = set->sig;
	p->cr4_allowed = cr4_allowed(p);
}
