/*
 * The MSR policy every back end follows: which MSRs a guest reaches
 * directly, which the hypervisor emulates, and #GP for the rest.
 */
#ifndef EMUL_MSR_H
#define EMUL_MSR_H

#include "hv/types.h"

struct vcpu;

/* MSRs whose guest copy the CPU switches itself (VMCB/VMCS fields or
 * VMLOAD/VMSAVE state), so the guest may read and write them without exits. */
extern const u32 msr_passthrough[];
extern const unsigned nr_msr_passthrough;

/* 0, or -EPERM when the guest must get #GP. */
int msr_read(struct vcpu *v, u32 msr, u64 *val);
int msr_write(struct vcpu *v, u32 msr, u64 val);

/* The architectural checks, for msr_write and tests. EFER: cur is the
 * guest's EFER, cr0 its CR0; 0 with *val as the back end stores it (LMA
 * kept), or -EPERM (#GP). PAT: every byte a valid memory type. */
int msr_efer_check(u64 cur, u64 cr0, u64 *val);
bool msr_pat_valid(u64 val);
/* IA32_MISC_ENABLE: cur is the guest's value; 0 with *val what it becomes
 * (the writable bits from *val, the read-only ones kept), or -EPERM for a
 * reserved or unmodelled bit set. */
int msr_misc_enable_check(u64 cur, u64 *val);

/*
 * The legacy performance counters every AMD64 processor has (APM vol. 2,
 * 13.2 "Performance Monitoring Counters"): PerfEvtSel0-3 at C001_0000h-
 * C001_0003h, PerfCtr0-3 at C001_0004h-C001_0007h. utsuwa gives the guest
 * registers that hold what it writes and never count: guests (Linux's
 * perf, test kernels) reset and program them at start-up, and a #GP there
 * kills them, while counting guest events needs the host's counters
 * switched per vCPU, which nothing here does yet (docs/cpu.md).
 * PerfEvtSel: bits 19 and 21 are reserved, and 63:36, HostOnly and GuestOnly
 * among them (the guest has no SVM): writing one is #GP. PerfCtr is 48 bits
 * wide: bits 63:48 of a write are dropped.
 */
#define MSR_AMD_PERF_EVTSEL0 0xc0010000
#define MSR_AMD_PERF_CTR0 0xc0010004
#define AMD_PERF_EVTSEL_RESERVED (0xfffffff000000000ULL | BIT(21) | BIT(19))
#define AMD_PERF_CTR_MASK ((1ULL << 48) - 1)

/*
 * IA32_MISC_ENABLE (SDM vol. 4, table 2-2). Writable and kept, with no
 * effect on the virtual CPU: fast strings (0) and automatic thermal control
 * (3). Read-only, writes ignored: performance monitoring available (7) = 0
 * (CPUID leaf 0xA says no PMU), BTS unavailable (11) = 1 and PEBS unavailable
 * (12) = 1 (no DS in CPUID). Bits whose setting changes what CPUID shows or
 * what the CPU does, which utsuwa does not model: Enhanced SpeedStep (16),
 * MONITOR FSM (18), limit CPUID maxval (22), xTPR message disable (23), XD
 * bit disable (34): 0, and setting one is #GP, like every reserved bit
 * (docs/cpu.md).
 */
#define MISC_ENABLE_FAST_STRING BIT(0)
#define MISC_ENABLE_TCC BIT(3)
#define MISC_ENABLE_BTS_UNAVAIL BIT(11)
#define MISC_ENABLE_PEBS_UNAVAIL BIT(12)
#define MISC_ENABLE_WRITABLE (MISC_ENABLE_FAST_STRING | MISC_ENABLE_TCC)
#define MISC_ENABLE_READ_ONLY (BIT(7) | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)
#define MISC_ENABLE_RESET (MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)

/* Could the guest have brought these MSRs to val (also vcpu_state_check)?
 * AMD PerfEvtSel0-3 are index 0-3, PerfCtr0-3 index 4-7. */
static inline bool msr_misc_enable_valid(u64 val)
{
	return (val & ~MISC_ENABLE_WRITABLE) == (MISC_ENABLE_RESET & ~MISC_ENABLE_WRITABLE);
}

static inline bool msr_amd_perf_valid(u32 index, u64 val)
{
	return index < 4 ? !(val & AMD_PERF_EVTSEL_RESERVED) : !(val & ~AMD_PERF_CTR_MASK);
}

/* Power-on values of the emulated MSRs. */
void msr_vcpu_reset(struct vcpu *v);

/* Writes the vCPU's kvmclock structure again if the guest enabled it (after
 * the VM's guest TSC was set or its clock started again: hv/vm_clock.h). */
void msr_kvmclock_publish(struct vcpu *v);

#endif
