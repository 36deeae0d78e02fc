/* The CPUID policy against a made-up host CPU that sets every feature bit. */
#include "unit.h"
#include "arch/x86/emul/cpuid.h"
#include "hv/guest_ctx.h"
#include "hv/cpu_features.h"

#include <string.h>

static struct cpuid_leaf all_ones_host(u32 leaf, u32 subleaf)
{
	if (leaf == 0)
		return (struct cpuid_leaf){ 0xd, 0x68747541, 0x444d4163, 0x69746e65 };
	if (leaf == 0x80000000)
		return (struct cpuid_leaf){ 0x8000001f, 0, 0, 0 };
	if (leaf == 4)
		return (struct cpuid_leaf){ subleaf < 3 ? 0xffffff01 : 0, subleaf, 0, 0 };
	return (struct cpuid_leaf){ ~0u, ~0u, ~0u, ~0u };
}

TEST(hides_virtualization_and_unvirtualized_features)
{
	static struct cpuid_policy p;
	struct cpuid_leaf r;

	cpuid_policy_build(&p, all_ones_host, 2, 2000000);
	r = cpuid_policy_lookup(&p, 1, 1, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_VMX, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_MONITOR, 0);
	CHECK_EQ(r.ecx & BIT(27), 0);          /* OSXSAVE */
	CHECK_EQ(r.ecx & BIT(26), 0);          /* XSAVE */
	CHECK(r.ecx & CPUID_1_ECX_HYPERVISOR);
	CHECK(r.ecx & BIT(0));                 /* SSE3 kept */
	CHECK_EQ(r.ebx >> 24, 1);              /* this vCPU's APIC ID */
	CHECK_EQ((r.ebx >> 16) & 0xff, 2);     /* two logical CPUs */
	r = cpuid_policy_lookup(&p, 0, 0x80000001, 0);
	CHECK_EQ(r.ecx & CPUID_8000_0001_ECX_SVM, 0);
	CHECK_EQ(r.edx & BIT(27), 0);          /* RDTSCP */
	CHECK(r.edx & BIT(29));                /* long mode kept */
	r = cpuid_policy_lookup(&p, 0, 0x8000000a, 0); /* SVM features: gone */
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = cpuid_policy_lookup(&p, 0, 0xa, 0);        /* perf monitoring: gone */
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = cpuid_policy_lookup(&p, 0, 7, 0);
	CHECK_EQ(r.ebx & BIT(5), 0);           /* AVX2 */
	CHECK_EQ(r.edx, 0);
	CHECK(r.ebx & BIT(0));                 /* FSGSBASE kept */
	CHECK_EQ(r.ecx & BIT(7), 0);           /* CET_SS: its MSRs and CR4.CET #GP */
	CHECK_EQ(r.ecx & BIT(3), 0);           /* PKU */
	r = cpuid_policy_lookup(&p, 0, 7, 1);
	CHECK_EQ(r.eax | r.ebx, 0);
}

TEST(hypervisor_leaves_and_limits)
{
	static struct cpuid_policy p;
	struct cpuid_leaf r;

	cpuid_policy_build(&p, all_ones_host, 1, 2000000);
	r = cpuid_policy_lookup(&p, 0, 0x40000000, 0);
	CHECK_EQ(r.eax, 0x40000010);
	CHECK_EQ(r.ebx, UTSUWA_SIG_EBX);
	CHECK_EQ(r.ecx, UTSUWA_SIG_ECX);
	CHECK_EQ(r.edx, UTSUWA_SIG_EDX);
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 0x40000010, 0).eax, 2000000);
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 0x40000010, 0).ebx, 2000000);
	/* KVM's signature and only the clock among its features. */
	r = cpuid_policy_lookup(&p, 0, 0x40000100, 0);
	CHECK_EQ(r.eax, 0x40000101);
	CHECK(!memcmp((char[]){ 'K', 'V', 'M', 'K', 'V', 'M', 'K', 'V', 'M', 0, 0, 0 },
		      (u32[]){ r.ebx, r.ecx, r.edx }, 12));
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 0x40000101, 0).eax, BIT(3) | BIT(24));
	r = cpuid_policy_lookup(&p, 0, 0x40000102, 0);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 0, 0).eax, 0xd);
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 0x80000000, 0).eax, 0x80000008);
	r = cpuid_policy_lookup(&p, 0, 0x8000001f, 0); /* SEV: beyond the max */
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = cpuid_policy_lookup(&p, 0, 0x12345678, 0);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 4, 2).eax & 0x1f, 1);
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 4, 3).eax, 0);
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 4, 0).eax >> 26, 0); /* one core */
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 1, 0).edx & BIT(28), 0); /* no HTT */
}

/* The virtual local APIC's x2APIC and TSC-deadline timer are shown even
 * when the host has neither. */
static struct cpuid_leaf bare_host(u32 leaf, u32 subleaf)
{
	(void)subleaf;
	if (leaf == 0)
		return (struct cpuid_leaf){ 1, 0x68747541, 0x444d4163, 0x69746e65 };
	return (struct cpuid_leaf){ 0, 0, 0, 0 };
}

TEST(shows_the_virtual_apic_features)
{
	static struct cpuid_policy p;
	struct cpuid_leaf r;

	cpuid_policy_build(&p, bare_host, 1, 2000000);
	r = cpuid_policy_lookup(&p, 0, 1, 0);
	CHECK(r.ecx & CPUID_1_ECX_X2APIC);
	CHECK(r.ecx & CPUID_1_ECX_TSC_DEADLINE);
	CHECK(r.ecx & CPUID_1_ECX_HYPERVISOR);
}

/* MOV to CR4 may set the bits of the features offered, and no other. */
TEST(cr4_bits_follow_the_features_offered)
{
	static struct cpuid_policy p;

	cpuid_policy_build(&p, all_ones_host, 1, 2000000);
	CHECK(p.amd);
	CHECK_EQ(p.cr4_allowed & 0x7ff, 0x7ff);            /* VME .. OSXMMEXCPT */
	CHECK(p.cr4_allowed & (CR4_FSGSBASE | CR4_SMEP | CR4_SMAP | CR4_PCIDE | CR4_UMIP));
	CHECK_EQ(p.cr4_allowed & CR4_OSXSAVE, 0);          /* XSAVE hidden */
	CHECK_EQ(p.cr4_allowed & CR4_PKE, 0);              /* PKU hidden */
	CHECK_EQ(p.cr4_allowed & (CR4_VMXE | CR4_LA57 | BIT(14) | BIT(23)), 0); /* VMX, LA57, SMX, CET */
	CHECK_EQ(p.cr4_allowed >> 24, 0);
	cpuid_policy_build(&p, bare_host, 1, 2000000);
	CHECK_EQ(p.cr4_allowed, 0x7ff);
}

/* The vendor the guest sees decides whether AMD's own MSRs exist. */
static struct cpuid_leaf intel_host(u32 leaf, u32 subleaf)
{
	(void)subleaf;
	if (leaf == 0) /* "GenuineIntel" */
		return (struct cpuid_leaf){ 1, 0x756e6547, 0x6c65746e, 0x49656e69 };
	return (struct cpuid_leaf){ 0, 0, 0, 0 };
}

TEST(vendor_is_known)
{
	static struct cpuid_policy p;

	cpuid_policy_build(&p, intel_host, 1, 2000000);
	CHECK(!p.amd);
	cpuid_policy_build(&p, bare_host, 1, 2000000);
	CHECK(p.amd);
}

/* cpu=pool: the features a pool lacks disappear from every leaf that shows
 * them, the signature becomes the pool's, the CR4 bits of hidden features
 * become reserved; HTT follows the vCPU count whatever the pool says. */
TEST(pool_restricts_features_and_cr4)
{
	static struct cpuid_policy p;
	struct cpu_featureset host, pool, seen;
	struct cpuid_leaf r;

	cpuid_policy_build(&p, all_ones_host, 2, 2000000);
	cpuid_policy_features(&p, &host);
	CHECK_EQ(host.w[1] & BIT(28), 0);        /* HTT left out of the report */
	CHECK_EQ(host.w[0] & BIT(27), 0);        /* OSXSAVE too */
	CHECK(host.w[5] & BIT(0));               /* LAHF-LM */
	CHECK(host.w[2] & BIT(7));               /* SMEP */
	pool = host;
	pool.w[5] &= ~BIT(0);                    /* no LAHF-LM */
	pool.w[2] &= ~(BIT(7) | BIT(0));         /* no SMEP, no FSGSBASE */
	pool.w[1] &= ~BIT(28);
	pool.sig = 0x00000f61;                   /* family 0Fh model 6 */
	cpuid_policy_restrict(&p, &pool);
	cpuid_policy_features(&p, &seen);
	CHECK(!memcmp(&seen, &pool, sizeof(seen)));
	r = cpuid_policy_lookup(&p, 1, 0x80000001, 0);
	CHECK_EQ(r.ecx & BIT(0), 0);
	CHECK_EQ(r.eax, 0x00000f61);
	r = cpuid_policy_lookup(&p, 1, 1, 0);
	CHECK_EQ(r.eax, 0x00000f61);
	CHECK(r.edx & BIT(28));                  /* 2 vCPUs: HTT stays */
	CHECK_EQ(r.ebx >> 24, 1);                /* the APIC ID is still the vCPU's */
	r = cpuid_policy_lookup(&p, 0, 7, 0);
	CHECK_EQ(r.ebx & (BIT(7) | BIT(0)), 0);
	CHECK_EQ(p.cr4_allowed & (CR4_SMEP | CR4_FSGSBASE), 0);
	CHECK(p.cr4_allowed & CR4_SMAP);         /* still offered */
	/* A pool cannot add what the host lacks. */
	cpuid_policy_build(&p, bare_host, 1, 2000000);
	pool.w[2] = ~0u;
	cpuid_policy_restrict(&p, &pool);
	CHECK_EQ(cpuid_policy_lookup(&p, 0, 7, 0).ebx, 0);
}

int main(void)
{
	RUN(hides_virtualization_and_unvirtualized_features);
	RUN(hypervisor_leaves_and_limits);
	RUN(shows_the_virtual_apic_features);
	RUN(cr4_bits_follow_the_features_offered);
	RUN(vendor_is_known);
	RUN(pool_restricts_features_and_cr4);
	return unit_done();
}
