/* A VM's guest TSC and guest time (include/hv/vm_clock.h). */
#include "hv/vm_clock.h"
#include "hv/platform.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "arch/x86/emul/msr.h"
#include "asm/cpu.h"

/* a * frac / 2^32, frac a 32.32 fixed-point fraction. */
static u64 mul_frac(u64 a, u64 frac)
{
	return (u64)(((unsigned __int128)a * frac) >> 32);
}

/* The running clock reads g at host TSC host: both forms agree there. */
static void anchor(struct vm *vm, u64 g, u64 host)
{
	vm->clock.base_host = host;
	vm->clock.base_guest = g;
	vm->clock.tsc_offset = g - host;
}

void vm_clock_init(struct vm *vm)
{
	vm->clock.stopped_at = 0;
	vm->clock.scaled = false;
	vm->clock.khz = tsc_khz;
	vm->clock.ns_mult = (1000000ULL << 32) / tsc_khz;
	vm->clock.ticks_per_ns = (tsc_khz << 32) / 1000000;
	anchor(vm, 0, rdtsc());
	__atomic_store_n(&vm->clock.stopped, false, __ATOMIC_RELEASE);
}

void vm_clock_set_khz(struct vm *vm, u64 khz)
{
	u64 host = rdtsc(), g = vm_guest_tsc_at(vm, host);
	u64 diff = khz > tsc_khz ? khz - tsc_khz : tsc_khz - khz;

	vm->clock.khz = khz;
	vm->clock.ns_mult = (1000000ULL << 32) / khz;
	vm->clock.ticks_per_ns = (khz << 32) / 1000000;
	vm->clock.scaled = diff * 1000000 > (u64)VM_CLOCK_TOLERANCE_PPM * tsc_khz;
	vm->clock.ratio = (khz << 32) / tsc_khz;
	vm->clock.inv_ratio = (tsc_khz << 32) / khz;
	if (!vm->clock.stopped)
		anchor(vm, g, host);
}

u64 vm_guest_tsc_at(const struct vm *vm, u64 host_tsc)
{
	s64 since;

	if (__atomic_load_n(&vm->clock.stopped, __ATOMIC_ACQUIRE))
		return vm->clock.stopped_at;
	if (!vm->clock.scaled)
		return host_tsc + vm->clock.tsc_offset;
	/* A CPU whose TSC reads a little behind the anchoring CPU's: the
	 * anchor, never a time before it. */
	since = (s64)(host_tsc - vm->clock.base_host);
	return vm->clock.base_guest + (since > 0 ? mul_frac((u64)since, vm->clock.ratio) : 0);
}

u64 vm_clock_host_tsc_scaled(const struct vm_clock *c, u64 guest_tsc)
{
	s64 ahead = (s64)(guest_tsc - c->base_guest);

	/* One host tick late rather than early: the truncated fraction. */
	return c->base_host + (ahead > 0 ? mul_frac((u64)ahead, c->inv_ratio) + 1 : 0);
}

u64 vm_host_tsc_for(const struct vm *vm, u64 guest_tsc)
{
	return vm_clock_host_tsc(&vm->clock, guest_tsc);
}

u64 vm_guest_tsc(const struct vm *vm)
{
	return vm_guest_tsc_at(vm, rdtsc());
}

u64 vm_guest_ns(const struct vm *vm)
{
	return (u64)(((unsigned __int128)vm_guest_tsc(vm) * vm->clock.ns_mult) >> 32);
}

u64 vm_guest_tsc_of_ns(const struct vm *vm, u64 ns)
{
	return mul_frac(ns, vm->clock.ticks_per_ns) + 1;
}

/* kvmclock maps the guest TSC to guest ns; after the TSC moved, each vCPU
 * that enabled it gets its structure written again (msr.c). */
static void republish_kvmclock(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		msr_kvmclock_publish(vm->vcpus[i]);
}

void vm_set_guest_tsc(struct vm *vm, u64 tsc)
{
	if (vm->clock.stopped) {
		vm->clock.stopped_at = tsc; /* vm_clock_start publishes */
		return;
	}
	anchor(vm, tsc, rdtsc());
	republish_kvmclock(vm);
}

void vm_clock_stop(struct vm *vm)
{
	if (vm->clock.stopped)
		return;
	vm->clock.stopped_at = vm_guest_tsc(vm);
	__atomic_store_n(&vm->clock.stopped, true, __ATOMIC_RELEASE);
}

void vm_clock_start(struct vm *vm)
{
	if (!vm->clock.stopped)
		return;
	anchor(vm, vm->clock.stopped_at, rdtsc());
	__atomic_store_n(&vm->clock.stopped, false, __ATOMIC_RELEASE);
	republish_kvmclock(vm);
}
