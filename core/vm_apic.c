/*
 * A VM's interrupt controllers: a local APIC per vCPU on the VM's APIC bus
 * and one I/O APIC (devices/vlapic.c, vioapic.c, apic_bus.c), and the
 * callbacks that tie them to the scheduler. docs/interrupts.md has the model.
 */
#include "hv/vm_apic.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/platform.h"
#include "hv/sched.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "devices/apic_bus.h"
#include "devices/vioapic.h"
#include "devices/vlapic.h"
#include "asm/cpu.h"
#include "hv/loader.h"
#include "hv/vendor.h"
#include "lib/string.h"

static u64 vlapic_cb_now(void *ctx)
{
	const struct vcpu *v = ctx;

	return vm_guest_tsc(v->vm);
}

static void vlapic_cb_send(void *ctx, const struct apic_msg *msg)
{
	const struct vcpu *v = ctx;

	apic_bus_deliver(v->vm->apic_bus, msg);
}

static void vlapic_cb_eoi(void *ctx, u8 vector)
{
	const struct vcpu *v = ctx;

	vioapic_eoi(v->vm->ioapic, vector);
}

static void vlapic_cb_wake(void *ctx)
{
	struct vcpu *v = ctx;

	v->irq_work = true;
	sched_wake(v);
}

/* INIT and SIPI run on the sender's CPU: they only leave word for the
 * target's own CPU, which acts before its next entry (vcpu_startup). */
static void vlapic_cb_init(void *ctx)
{
	struct vcpu *v = ctx;

	v->sipi_vector = -1; /* only a SIPI after this INIT counts */
	v->init_pending = true;
	sched_wake(v);
}

static void vlapic_cb_sipi(void *ctx, u8 vector)
{
	struct vcpu *v = ctx;

	/* The target may not have acted on the INIT yet (its CPU is busy): the
	 * SIPI still counts then, or the guest's AP would never start. */
	if (v->wait_sipi || v->init_pending) {
		v->sipi_vector = vector;
		sched_wake(v);
	}
}

/*
 * INIT puts a vCPU in wait-for-SIPI; a SIPI then starts it in real mode at
 * vector * 0x1000 (SDM vol. 3, 9.4.4 "MP Initialization Example"). Returns
 * whether the vCPU may run now.
 */
bool vcpu_startup(struct vcpu *v)
{
	struct guest_ctx ctx;
	int vector;

	if (v->reset_pending) {
		/* The VM was reset (core/vm_reset.c; init_pending brought the
		 * vCPU here): vCPU 0 of a PC-booted kernel (Linux, Multiboot),
		 * or every vCPU of a raw image, starts where the loader said;
		 * the kernel's others wait for its SIPI. Here, after vcpu_load, the back end may rewrite
		 * the vCPU's state and drop its TLB. */
		v->reset_pending = false;
		v->init_pending = false;
		if (v->vm->pc_boot && v->id != 0) {
			v->wait_sipi = true;
			return false;
		}
		if (v->vm->pc_boot)
			v->regs = v->vm->start_regs0;
		else
			start_regs(&v->vm->cfg, v->id, &v->regs);
		vendor->set_ctx(v, &v->vm->start_ctx);
		vendor->flush_guest_tlb(v);
		return true;
	}
	if (v->init_pending) {
		v->init_pending = false;
		v->wait_sipi = true;
	}
	vector = v->sipi_vector;
	if (!v->wait_sipi)
		return true;
	if (vector < 0)
		return false;
	if (!vendor->set_ctx) {
		kprintf("utsuwa: vm %s: vCPU %u: this back end cannot start a vCPU by SIPI yet\n",
			v->vm->name, v->id);
		v->sipi_vector = -1;
		return false;
	}
	start_state_build(v->vm, START_REAL16, &ctx);
	ctx.cs.sel = (u16)(vector << 8);
	ctx.cs.base = (u64)vector << 12;
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rflags = RFLAGS_FIXED;
	v->wait_sipi = false;
	v->sipi_vector = -1;
	v->halted_if0 = false;
	vendor->set_ctx(v, &ctx);
	return true;
}

static const struct vlapic_ops lapic_ops = {
	.now_tsc = vlapic_cb_now,
	.send = vlapic_cb_send,
	.eoi = vlapic_cb_eoi,
	.wake = vlapic_cb_wake,
	.on_init = vlapic_cb_init,
	.on_sipi = vlapic_cb_sipi,
};

int vm_apic_add_vcpu(struct vm *vm, struct vcpu *v)
{
	struct vlapic_config c = {
		.id = v->id,
		.bsp = v->id == 0,
		.tsc_khz = tsc_khz,
		/* The timer counts at the TSC rate: every conversion is exact. */
		.timer_khz = tsc_khz,
		.x2apic = true,       /* CPUID shows both (arch/x86/emul/cpuid.c) */
		.tsc_deadline = true,
		.phys_addr_bits = (u8)cpuid(0x80000008).eax,
		.ops = &lapic_ops,
		.ctx = v,
	};

	v->lapic = vlapic_create(&c);
	if (!v->lapic)
		return -ENOMEM;
	return apic_bus_attach(vm->apic_bus, v->lapic);
}
