/*
 * A paravirtual clock in KVM's format ("kvmclock"), so that a Linux guest
 * knows its TSC frequency without calibrating it against the PIT (issue 4,
 * item 6). Linux 6.1 reads a TSC frequency from CPUID 0x15 only on Intel
 * CPUs, but it reads kvmclock on any vendor when CPUID 0x40000100 holds
 * KVM's signature and 0x40000101 offers the clock.
 *
 * The ABI is Linux's Documentation/virt/kvm/x86/cpuid.rst (the leaves and
 * feature bits) and msr.rst (the MSRs and the structures below). utsuwa
 * offers only the clock: KVM_FEATURE_CLOCKSOURCE2 and the stable bit; every
 * other KVM feature reads as absent, so Linux uses nothing else of KVM's.
 *
 * The guest's clock is its TSC scaled to nanoseconds: the TSC offset is
 * fixed per VM (0 at VM creation, the same on every vCPU), so one
 * tsc_to_system_mul/tsc_shift pair, written once when the guest registers
 * its structure, is right for the VM's whole life and every vCPU.
 */
#ifndef DEVICES_PVCLOCK_H
#define DEVICES_PVCLOCK_H

#include "hv/types.h"

/* CPUID leaves (cpuid.rst). 0x40000100 also has the highest KVM leaf in EAX. */
#define KVM_CPUID_SIGNATURE 0x40000100
#define KVM_CPUID_FEATURES 0x40000101
#define KVM_SIG_EBX 0x4b4d564b /* "KVMK" */
#define KVM_SIG_ECX 0x564b4d56 /* "VMKV" */
#define KVM_SIG_EDX 0x0000004d /* "M\0\0\0" */
#define KVM_FEATURE_CLOCKSOURCE2 BIT(3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT BIT(24)

/* MSRs (msr.rst): the "new" numbers, announced by KVM_FEATURE_CLOCKSOURCE2. */
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_SYSTEM_TIME_ENABLE BIT(0)

#define PVCLOCK_TSC_STABLE_BIT BIT(0)

/* Per vCPU, at the guest-physical address written to MSR_KVM_SYSTEM_TIME_NEW.
 * Guest time in ns = system_time + scale(tsc - tsc_timestamp), where scale
 * shifts left by tsc_shift (right if negative) and multiplies by
 * tsc_to_system_mul / 2^32. version is odd while the host writes. */
struct pvclock_vcpu_time_info {
	u32 version;
	u32 pad0;
	u64 tsc_timestamp;
	u64 system_time;
	u32 tsc_to_system_mul;
	s8 tsc_shift;
	u8 flags;
	u8 pad[2];
} __attribute__((packed));
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock_vcpu_time_info");

/* At the address written to MSR_KVM_WALL_CLOCK_NEW: the wall-clock time
 * (UTC) at which the guest's system time was 0. */
struct pvclock_wall_clock {
	u32 version;
	u32 sec;
	u32 nsec;
} __attribute__((packed));
_Static_assert(sizeof(struct pvclock_wall_clock) == 12, "pvclock_wall_clock");

/* mul and shift that turn ticks of a tsc_khz clock into nanoseconds with
 * mul >= 2^31 (the most precision 32 bits give); tsc_khz must not be 0. */
void pvclock_scale(u64 tsc_khz, u32 *mul, s8 *shift);

/* Fills t for a clock that reads 0 ns at TSC 0 and runs at tsc_khz,
 * following the version protocol (odd while writing, then even). */
void pvclock_fill_time(struct pvclock_vcpu_time_info *t, u64 tsc_khz);

/* Fills w with unix_sec (seconds since 1970, UTC) as the time at system time 0. */
void pvclock_fill_wall(struct pvclock_wall_clock *w, u64 unix_sec);

/* What a guest computes from t at TSC tsc: its clock in ns. */
u64 pvclock_read_ns(const struct pvclock_vcpu_time_info *t, u64 tsc);

#endif
