/*
 * The vendor-neutral MSR policy (arch/x86/emul/msr.c) for the MSRs a back
 * end keeps in its VMCB/VMCS: EFER and PAT are checked here, the fake back
 * end only stores and loads them, as svm.c and vmx.c now do.
 */
#include "unit.h"
#include <string.h>
#include "arch/x86/emul/msr.h"
#include "arch/x86/emul/cpuid.h"
#include "hv/guest_ctx.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "asm/cpu.h"

/* ---- the fake back end: EFER and PAT as the VMCB holds them ---- */
static u64 hw_efer, hw_pat, guest_cr0;
static int stores;

static int fake_msr_state(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	u64 *slot = msr == MSR_EFER ? &hw_efer : msr == MSR_IA32_PAT ? &hw_pat : NULL;

	if (!slot)
		return -ENOENT;
	if (write) {
		stores++;
		*slot = *val | (msr == MSR_EFER ? EFER_SVME : 0); /* as AMD-V keeps it */
	} else {
		*val = *slot;
	}
	return 0;
}

static void fake_paging_ctx(struct vcpu *v, struct guest_ctx *c)
{
	c->cr0 = guest_cr0;
	c->efer = hw_efer;
}

static const struct vendor_ops fake_ops = {
	.name = "fake",
	.get_paging_ctx = fake_paging_ctx,
	.msr_state = fake_msr_state,
};
const struct vendor_ops *vendor = &fake_ops;
u64 tsc_khz = 1000000;
void *kzalloc(size_t n) { return calloc(1, n); }
void kfree(void *p) { free(p); }
u64 tsc_to_ns(u64 ticks) { return ticks; } /* the guest clock (core/vm_clock.c) at 1 GHz */

static struct vm vm;
static struct vcpu vcpu;

static void setup(u64 efer, u64 cr0)
{
	memset(&vcpu, 0, sizeof(vcpu));
	vcpu.vm = &vm;
	hw_efer = efer | EFER_SVME;
	hw_pat = 0x0007040600070406ULL;
	guest_cr0 = cr0;
	stores = 0;
}

TEST(efer_check_alone)
{
	u64 v;

	v = EFER_SCE | EFER_NXE;
	CHECK_EQ(msr_efer_check(0, 0, &v), 0);
	CHECK_EQ(v, EFER_SCE | EFER_NXE);
	v = BIT(1); /* reserved */
	CHECK_EQ(msr_efer_check(0, 0, &v), -EPERM);
	v = EFER_SVME;
	CHECK_EQ(msr_efer_check(0, 0, &v), -EPERM);
	v = BIT(63);
	CHECK_EQ(msr_efer_check(0, 0, &v), -EPERM);
	/* LME with paging off: either way. */
	v = EFER_LME;
	CHECK_EQ(msr_efer_check(0, CR0_PE, &v), 0);
	v = 0;
	CHECK_EQ(msr_efer_check(EFER_LME, CR0_PE, &v), 0);
	/* Toggled with paging on: #GP, both directions. */
	v = EFER_LME;
	CHECK_EQ(msr_efer_check(0, CR0_PE | CR0_PG, &v), -EPERM);
	v = 0;
	CHECK_EQ(msr_efer_check(EFER_LME | EFER_LMA, CR0_PE | CR0_PG, &v), -EPERM);
	/* Unchanged LME with paging on is fine; LMA is the CPU's. */
	v = EFER_LME | EFER_NXE;
	CHECK_EQ(msr_efer_check(EFER_LME | EFER_LMA, CR0_PE | CR0_PG, &v), 0);
	CHECK_EQ(v, EFER_LME | EFER_LMA | EFER_NXE);
	v = EFER_LME | EFER_LMA;
	CHECK_EQ(msr_efer_check(EFER_LME, CR0_PE, &v), 0);
	CHECK_EQ(v, EFER_LME);
}

TEST(pat_check_alone)
{
	CHECK(msr_pat_valid(0x0007040600070406ULL)); /* power-on */
	CHECK(msr_pat_valid(0));
	CHECK(msr_pat_valid(0x0706050401000706ULL));
	for (int byte = 0; byte < 8; byte++) {
		for (u32 type = 0; type < 256; type++) {
			u64 val = 0x0606060606060606ULL & ~(0xffULL << (8 * byte));
			bool ok = type <= 1 || (type >= 4 && type <= 7);

			val |= (u64)type << (8 * byte);
			if (msr_pat_valid(val) != ok)
				CHECK(!"a PAT entry judged wrongly");
		}
	}
}

TEST(efer_through_msr_write)
{
	u64 val;

	/* Long mode on: SVME set in the VMCB, hidden from the guest. */
	setup(EFER_LME | EFER_LMA | EFER_SCE, CR0_PE | CR0_PG);
	CHECK_EQ(msr_read(&vcpu, MSR_EFER, &val), 0);
	CHECK_EQ(val, EFER_LME | EFER_LMA | EFER_SCE);
	/* Clearing LME with paging on: #GP (the AMD-V copy used to allow it). */
	CHECK_EQ(msr_write(&vcpu, MSR_EFER, EFER_SCE), -EPERM);
	CHECK_EQ(stores, 0);
	/* Setting SVME: #GP. */
	CHECK_EQ(msr_write(&vcpu, MSR_EFER, EFER_LME | EFER_LMA | EFER_SVME), -EPERM);
	/* NXE on, LMA written as 0: LMA kept, SVME kept by the back end. */
	CHECK_EQ(msr_write(&vcpu, MSR_EFER, EFER_LME | EFER_NXE), 0);
	CHECK_EQ(hw_efer, EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
	CHECK_EQ(stores, 1);

	/* Protected mode without paging: LME may be set. */
	setup(0, CR0_PE);
	CHECK_EQ(msr_write(&vcpu, MSR_EFER, EFER_LME), 0);
	CHECK_EQ(hw_efer, EFER_LME | EFER_SVME);
}

TEST(pat_through_msr_write)
{
	u64 val;

	setup(0, 0);
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_PAT, 0x0007010600070106ULL), 0);
	CHECK_EQ(hw_pat, 0x0007010600070106ULL);
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_PAT, 0x0007010600070206ULL), -EPERM); /* type 2 */
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_PAT, 0x0807010600070106ULL), -EPERM); /* type 8 */
	CHECK_EQ(hw_pat, 0x0007010600070106ULL);
	CHECK_EQ(msr_read(&vcpu, MSR_IA32_PAT, &val), 0);
	CHECK_EQ(val, 0x0007010600070106ULL);
}

/* IA32_MISC_ENABLE keeps what the guest may write (SDM vol. 4, table 2-2). */
TEST(misc_enable_keeps_writable_bits)
{
	u64 val;

	setup(0, 0);
	msr_vcpu_reset(&vcpu);
	CHECK_EQ(msr_read(&vcpu, MSR_IA32_MISC_ENABLE, &val), 0);
	CHECK_EQ(val, BIT(0) | BIT(11) | BIT(12)); /* fast strings; no BTS, no PEBS */
	/* Fast strings off, thermal control on: kept. */
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_MISC_ENABLE, BIT(3) | BIT(11) | BIT(12)), 0);
	CHECK_EQ(msr_read(&vcpu, MSR_IA32_MISC_ENABLE, &val), 0);
	CHECK_EQ(val, BIT(3) | BIT(11) | BIT(12));
	/* Read-only bits: a write does not change them. */
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_MISC_ENABLE, BIT(0) | BIT(7)), 0);
	CHECK_EQ(msr_read(&vcpu, MSR_IA32_MISC_ENABLE, &val), 0);
	CHECK_EQ(val, BIT(0) | BIT(11) | BIT(12));
	/* Unmodelled (limit CPUID maxval, MONITOR FSM, XD disable) or reserved: #GP. */
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_MISC_ENABLE, val | BIT(22)), -EPERM);
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_MISC_ENABLE, val | BIT(18)), -EPERM);
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_MISC_ENABLE, val | (1ULL << 34)), -EPERM);
	CHECK_EQ(msr_write(&vcpu, MSR_IA32_MISC_ENABLE, val | BIT(1)), -EPERM);
	CHECK_EQ(msr_read(&vcpu, MSR_IA32_MISC_ENABLE, &val), 0);
	CHECK_EQ(val, BIT(0) | BIT(11) | BIT(12));
	CHECK(msr_misc_enable_valid(val));
}

/* AMD's legacy counters: per vCPU registers that hold values, only when the
 * guest sees an AMD CPU. */
TEST(amd_perf_counters_hold_values)
{
	static struct cpuid_policy amd = { .amd = true }, intel = { .amd = false };
	u64 val;

	setup(0, 0);
	vm.cpuid = &amd;
	for (u32 i = 0; i < 8; i++) {
		CHECK_EQ(msr_read(&vcpu, 0xc0010000 + i, &val), 0);
		CHECK_EQ(val, 0);
	}
	CHECK_EQ(msr_write(&vcpu, 0xc0010000, 0x0000000f00530076ULL), 0);
	CHECK_EQ(msr_write(&vcpu, 0xc0010003, 0x430076), 0);
	CHECK_EQ(msr_write(&vcpu, 0xc0010004, 0xffffffffffffULL), 0);
	CHECK_EQ(msr_write(&vcpu, 0xc0010007, 0xffff800000000001ULL), 0); /* 48 bits kept */
	CHECK_EQ(msr_read(&vcpu, 0xc0010000, &val), 0);
	CHECK_EQ(val, 0x0000000f00530076ULL);
	CHECK_EQ(msr_read(&vcpu, 0xc0010003, &val), 0);
	CHECK_EQ(val, 0x430076);
	CHECK_EQ(msr_read(&vcpu, 0xc0010004, &val), 0);
	CHECK_EQ(val, 0xffffffffffffULL); /* not counting */
	CHECK_EQ(msr_read(&vcpu, 0xc0010007, &val), 0);
	CHECK_EQ(val, 0x800000000001ULL);
	/* Reserved PerfEvtSel bits (21, HostOnly 41): #GP, value kept. */
	CHECK_EQ(msr_write(&vcpu, 0xc0010001, BIT(21)), -EPERM);
	CHECK_EQ(msr_write(&vcpu, 0xc0010001, 1ULL << 41), -EPERM);
	CHECK_EQ(msr_read(&vcpu, 0xc0010001, &val), 0);
	CHECK_EQ(val, 0);
	CHECK_EQ(vcpu.msrs.amd_perf[0], 0x0000000f00530076ULL);
	/* Past the four pairs: not these (the fake back end has nothing). */
	CHECK_EQ(msr_read(&vcpu, 0xc0010008, &val), -EPERM);

	/* An Intel guest has no such MSRs. */
	vm.cpuid = &intel;
	CHECK_EQ(msr_read(&vcpu, 0xc0010000, &val), -EPERM);
	CHECK_EQ(msr_write(&vcpu, 0xc0010004, 0), -EPERM);
	/* Nor the architectural PMU's (CPUID leaf 0xA says version 0). */
	CHECK_EQ(msr_read(&vcpu, 0x186, &val), -EPERM);  /* IA32_PERFEVTSEL0 */
	CHECK_EQ(msr_read(&vcpu, 0xc1, &val), -EPERM);   /* IA32_PMC0 */
	CHECK_EQ(msr_write(&vcpu, 0x38f, 0), -EPERM);    /* IA32_PERF_GLOBAL_CTRL */
	vm.cpuid = NULL;
}

int main(void)
{
	RUN(efer_check_alone);
	RUN(pat_check_alone);
	RUN(efer_through_msr_write);
	RUN(pat_through_msr_write);
	RUN(misc_enable_keeps_writable_bits);
	RUN(amd_perf_counters_hold_values);
	return unit_done();
}
