/*
 * A guest's reset (reboot): the ACPI reset register or port 0xCF9 puts
 * that VM, and only it, back at power-on, as a PC's reset line would.
 *
 * The request stops the VM's vCPUs like an end does (sched_vm_leave), with
 * the VM in VM_RESETTING; the last vCPU to leave its CPU runs vm_reset on
 * that CPU (or the requester, when no vCPU was on a CPU), so nothing of the VM runs while it is rebuilt in place: devices
 * to their reset state, the image loaded again, every vCPU marked to take
 * the start state on its own CPU before it next enters (vcpu_startup). Then
 * the VM is RUNNING again and its vCPUs are queued.
 *
 * Kept across a reset, as on a PC: the memory (reloaded over, not
 * cleared), the TSC (it counts on from the VM's creation), the RTC's time
 * and CMOS RAM, the PM timer. Everything else starts over.
 */
#include "hv/vm.h"
#include "hv/console.h"
#include "hv/sched.h"
#include "hv/vcpu.h"
#include "hv/vm_platform.h"
#include "hv/vm_watchdog.h"
#include "asm/cpu.h"
#include "arch/x86/emul/msr.h"
#include "devices/vlapic.h"
#include "lib/string.h"

void vm_reset_request(struct vm *vm)
{
	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING) { /* ending already, or a reset under way */
		spin_unlock(&vm->lock);
		return;
	}
	vm->state = VM_RESETTING;
	vm->reset_claimed = false;
	spin_unlock(&vm->lock);
	/* No vCPU was on a CPU (a request from the monitor): none will stop to
	 * run the reset, so it runs here, with interrupts off as on the vCPU
	 * path (device locks are taken by CPU 0's tick too). */
	if (sched_vm_leave(vm)) {
		u64 f = irq_save();

		vm_reset(vm);
		irq_restore(f);
	}
}

/* What a vCPU holds besides its architectural state, back to power-on. */
static void vcpu_reset(struct vcpu *v)
{
	fpu_reset(&v->fpu);
	v->fpu_cpu = -1; /* no CPU's registers hold its FPU state any more */
	msr_vcpu_reset(v);
	memset(v->dr, 0, sizeof(v->dr)); /* DR0-DR3 after RESET (SDM vol. 3, 10.1.1) */
	vlapic_reset(v->lapic);
	v->halted_if0 = false;
	v->wait_sipi = false;
	v->init_pending = false;
	v->sipi_vector = -1;
	v->offered = -1; /* the back end drops what it was offered in set_ctx */
	memset(v->irq_pending, 0, sizeof(v->irq_pending));
	v->timer_deadline = 0;
	v->fetch_cache.hva = NULL; /* empty: the code it cached is reloaded */
	v->irq_work = true;
	v->reset_pending = true;
	v->init_pending = true; /* what sends the vCPU through vcpu_startup */
}

void vm_reset(struct vm *vm)
{
	vm->resets++;
	vm_watchdog_off(vm); /* power-on: the guest arms it again if it wants it */
	kprintf("utsuwa: vm %s: reset by the guest (%u so far): restarting it\n", vm->name,
		vm->resets);
	vm_platform_reset(vm);
	if (vm_load_image(vm)) {
		/* The image was loaded once; only a damaged module gets here. */
		spin_lock(&vm->lock);
		vm->state = VM_RUNNING; /* so that vm_end takes it */
		spin_unlock(&vm->lock);
		vm_end(vm, VM_STOPPED, 0);
		return;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_reset(vm->vcpus[i]);
	spin_lock(&vm->lock);
	vm->state = VM_RUNNING;
	spin_unlock(&vm->lock);
	vm_start(vm);
}
