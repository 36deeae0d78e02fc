/*
 * A VM's clock: its guest TSC, which every vCPU of the VM reads alike (one
 * TSC offset per VM), and everything in the VM that keeps time (the PIT,
 * the RTC, local APIC timers, HC_TIMER, HC_TIME_NS, kvmclock) derives from.
 * The guest TSC is 0 when the VM is created, runs at the host TSC's rate,
 * stands still while the clock is stopped (a paused VM), and can be set to
 * continue from a saved value (a restored VM): it never goes backwards.
 *
 * The hardware adds the offset on every guest RDTSC (the VMCB's or VMCS's
 * TSC offset): the back ends copy vm->clock.tsc_offset there when a vCPU
 * comes to a CPU (vcpu_load), so changing it costs the exit path nothing.
 *
 * TSC scaling, in software: a VM whose rate (khz) is not this host's, by
 * more than VM_CLOCK_TOLERANCE_PPM (one migrated from a host of another
 * TSC rate, or made with tsc_khz=), has its guest TSC counted as
 *
 *     guest TSC = base_guest + (host TSC - base_host) * khz / tsc_khz
 *
 * from an anchor set whenever the clock is set, started or rescaled, and
 * RDTSC exits (the back ends intercept it while clock.scaled; core/exit.c
 * answers from here), since neither QEMU's AMD-V nor Bochs's VT-x offers a
 * hardware TSC multiplier. Everything else already reads the guest TSC from
 * here. docs/migration.md, "TSC rates".
 */
#ifndef HV_VM_CLOCK_H
#define HV_VM_CLOCK_H

#include "hv/types.h"

struct vm;

struct vm_clock {
	u64 tsc_offset; /* guest TSC = host TSC + tsc_offset (mod 2^64) while running */
	u64 stopped_at; /* the guest TSC while stopped */
	bool stopped;   /* written with release, read with acquire: stopped_at first */
	/* The guest TSC's rate as the guest was told it (CPUID 0x40000010,
	 * kvmclock) and guest ns count it: this host's calibration at
	 * creation, the first host's after a restore or a migration. Hosts
	 * calibrate the same TSC a few parts in 10^5 apart; kvmclock maps the
	 * whole guest TSC to ns with it, so another rate on another host would
	 * move a guest's clock by (its uptime x that difference) at once, and
	 * Linux's watchdog would call its TSC unstable. */
	u64 khz;
	u64 ns_mult; /* (10^6 << 32) / khz: guest ns per guest TSC tick, fixed point */
	u64 ticks_per_ns; /* (khz << 32) / 10^6: its inverse */
	/* Scaling (above): the anchor, and khz / tsc_khz and its inverse in
	 * 32.32 fixed point. Counted from the anchor, the fractions' error
	 * (2^-32 of the rate) stays below a microsecond per hour. */
	bool scaled;
	u64 base_host, base_guest;
	u64 ratio, inv_ratio;
};

/* Hosts' calibrations of one rate differ by a few parts in 10^5; a VM
 * within this of the host's rate runs unscaled (KVM's tsc_tolerance_ppm). */
#define VM_CLOCK_TOLERANCE_PPM 250

/* At creation: the guest TSC is 0 now, and running, at this host's rate. */
void vm_clock_init(struct vm *vm);
/* The rate the guest was told elsewhere (a restore, an incoming migration,
 * tsc_khz=), before vm_set_guest_tsc publishes kvmclock with it: the guest
 * TSC goes on from where it is, scaled when khz is not this host's rate. */
void vm_clock_set_khz(struct vm *vm, u64 khz);

/* The guest TSC now; at host TSC host_tsc (the timer tick reads the host
 * TSC once for every VM). */
u64 vm_guest_tsc(const struct vm *vm);
u64 vm_guest_tsc_at(const struct vm *vm, u64 host_tsc);
/* The host TSC at which the running VM's guest TSC reaches guest_tsc (a
 * timer's deadline): not before it. */
u64 vm_host_tsc_for(const struct vm *vm, u64 guest_tsc);
/* The same on the clock itself, inline for the entry path's timer arming
 * (core/sched_timer.c): unscaled, one subtraction. */
u64 vm_clock_host_tsc_scaled(const struct vm_clock *c, u64 guest_tsc);
static inline u64 vm_clock_host_tsc(const struct vm_clock *c, u64 guest_tsc)
{
	if (__builtin_expect(!c->scaled, 1))
		return guest_tsc - c->tsc_offset;
	return vm_clock_host_tsc_scaled(c, guest_tsc);
}
/* The guest's time since creation, in ns of its TSC. */
u64 vm_guest_ns(const struct vm *vm);
/* The guest TSC at guest time ns: not before it (a device's deadline). */
u64 vm_guest_tsc_of_ns(const struct vm *vm, u64 ns);

/*
 * The following three run while no vCPU of the VM is on a CPU (the VM is
 * quiesced): a vCPU takes the new offset at its next vcpu_load.
 *
 * vm_set_guest_tsc: the guest TSC continues from tsc (after a restore): now
 * if the clock runs, from vm_clock_start if stopped. Every vCPU's kvmclock
 * is published again (by vm_clock_start if stopped).
 */
void vm_set_guest_tsc(struct vm *vm, u64 tsc);
/* Guest time stands still: TSC, PIT, RTC, APIC timers, HC_TIMER. Stopping
 * a stopped clock does nothing. */
void vm_clock_stop(struct vm *vm);
/* Guest time runs on from where it stood; kvmclock is published again. */
void vm_clock_start(struct vm *vm);

#endif
