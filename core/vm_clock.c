/* A VM's guest TSC and guest time (include/hv/vm_clock.h). */
#include "hv/vm_clock.h"
#include "hv/platform.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "arch/x86/emul/msr.h"
#include "asm/cpu.h"

void vm_clock_init(struct vm *vm)
{
	vm->clock.tsc_offset = (u64)0 - rdtsc();
	vm->clock.stopped_at = 0;
	vm_clock_set_khz(vm, tsc_khz);
	__atomic_store_n(&vm->clock.stopped, false, __ATOMIC_RELEASE);
}

void vm_clock_set_khz(struct vm *vm, u64 khz)
{
	vm->clock.khz = khz;
	vm->clock.ns_mult = (1000000ULL << 32) / khz;
}

u64 vm_guest_tsc_at(const struct vm *vm, u64 host_tsc)
{
	if (__atomic_load_n(&vm->clock.stopped, __ATOMIC_ACQUIRE))
		return vm->clock.stopped_at;
	return host_tsc + vm->clock.tsc_offset;
}

u64 vm_guest_tsc(const struct vm *vm)
{
	return vm_guest_tsc_at(vm, rdtsc());
}

u64 vm_guest_ns(const struct vm *vm)
{
	return (u64)(((unsigned __int128)vm_guest_tsc(vm) * vm->clock.ns_mult) >> 32);
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
	vm->clock.tsc_offset = tsc - rdtsc();
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
	vm->clock.tsc_offset = vm->clock.stopped_at - rdtsc();
	__atomic_store_n(&vm->clock.stopped, false, __ATOMIC_RELEASE);
	republish_kvmclock(vm);
}
