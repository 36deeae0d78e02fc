/*
 * The guest's watchdog (HC_WATCHDOG, docs/hypercalls.md), after Xen's
 * SCHEDOP_watchdog: a guest that arms it and then stops renewing it in
 * time is taken for hung. A guest can hang itself in ways the hypervisor
 * cannot see from outside (a loop with interrupts off, an NMI handler that
 * never returns, its own tables overwritten); without a watchdog such a VM
 * runs on for ever and nobody learns where it was.
 *
 * Guest time counts, not host time: a paused VM does not expire. CPU 0
 * looks every 100 ms (vm_watchdog_poll, from its monitor loop, where a VM
 * may be paused); an expired watchdog pauses the VM, prints every vCPU
 * (where it was and its registers), then does what on_crash says: stop
 * (the default), reset or leave it paused. It fires once; a reset turns it
 * off (power-on state), as does a restore or a migration (it is not part
 * of the saved state: the guest arms it again).
 */
#include "hv/vm_watchdog.h"
#include "hv/console.h"
#include "hv/exit.h"
#include "hv/hypercall.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "hv/vm_lifecycle.h"

#define NS_PER_MS 1000000ULL

s64 vm_watchdog_set(struct vm *vm, u64 ms)
{
	if (ms > HC_WATCHDOG_MAX_MS)
		return HC_EINVAL;
	__atomic_store_n(&vm->watchdog_ms, (u32)ms, __ATOMIC_RELAXED);
	__atomic_store_n(&vm->watchdog_deadline, ms ? vm_guest_ns(vm) + ms * NS_PER_MS : 0,
			 __ATOMIC_RELEASE);
	return 0;
}

void vm_watchdog_off(struct vm *vm)
{
	__atomic_store_n(&vm->watchdog_deadline, 0, __ATOMIC_RELEASE);
}

static const char *where(const struct vcpu *v)
{
	if (v->state == VCPU_BLOCKED)
		return v->halted_if0 ? "halted with interrupts off" : "halted";
	if (v->state == VCPU_RUNNING)
		return "running";
	return "waiting to run";
}

/* On CPU 0, in the monitor's place: the VM may be paused here. */
static void expire(struct vm *vm, u32 ms)
{
	const char *was[VM_MAX_VCPUS];
	char err[120];

	/* Where each vCPU was, before the pause parks them all. */
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		was[i] = where(vm->vcpus[i]);
	if (vm_pause(vm, err, sizeof(err))) {
		kprintf("utsuwa: vm %s: watchdog expired, not acted on: %s\n", vm->name, err);
		return;
	}
	kprintf("utsuwa: vm %s: watchdog expired: not renewed for %u ms of guest time\n", vm->name,
		ms);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		kprintf("  vcpu %u: %s\n", i, was[i]);
		vm_report_vcpu(vm->vcpus[i]);
	}
	switch (vm->cfg.on_crash) {
	case ON_CRASH_PAUSE:
		kprintf("utsuwa: vm %s: paused (on_crash=pause): resume, reset or destroy it from "
			"the monitor\n", vm->name);
		return;
	case ON_CRASH_RESET:
		kprintf("utsuwa: vm %s: reset (on_crash=reset)\n", vm->name);
		vm_resume(vm, NULL, 0);
		vm_reset_request(vm);
		return;
	default:
		kprintf("utsuwa: vm %s: stopped: watchdog expired\n", vm->name);
		vm_resume(vm, NULL, 0);
		vm_end(vm, VM_STOPPED, 0);
	}
}

void vm_watchdog_poll(void)
{
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		struct vm *vm = vms[i];
		u64 due;

		if (!vm || vm->state != VM_RUNNING)
			continue;
		due = __atomic_load_n(&vm->watchdog_deadline, __ATOMIC_ACQUIRE);
		if (!due || vm_guest_ns(vm) < due)
			continue;
		/* Once: a renewal racing this one wins, and is honoured. */
		if (__atomic_compare_exchange_n(&vm->watchdog_deadline, &due, 0, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			expire(vm, __atomic_load_n(&vm->watchdog_ms, __ATOMIC_RELAXED));
	}
}
