/*
 * Nested page faults: dirty logging, device memory (the VM's MMIO bus), and
 * addresses with nothing there, which behave as on a PC: reads give all
 * ones, writes go nowhere (a master abort on the bus). Only an instruction
 * fetch from nowhere stops the VM: a CPU would run the all-ones bytes, which
 * no guest means to do.
 */
#include "core/exit_handlers.h"
#include "arch/x86/emul/fetch.h"
#include "arch/x86/emul/mmio.h"
#include "hv/console.h"
#include "hv/exit.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "devices/vlapic.h"

static int unassigned_read(void *dev, u64 offset, u8 size, u64 *val)
{
	*val = ~0ULL;
	return 0;
}

static int unassigned_write(void *dev, u64 offset, u8 size, u64 val)
{
	return 0;
}

static const struct io_ops unassigned_ops = { unassigned_read, unassigned_write };

/* Counted per VM, said once per VM: a guest probing for devices is normal,
 * and must not flood the console. */
static void note_unassigned(struct vcpu *v, u64 gpa, bool write)
{
	if (__atomic_fetch_add(&v->vm->unassigned, 1, __ATOMIC_RELAXED) == 0)
		kprintf("utsuwa: vm %s: %s of guest-physical %lx: nothing there (reads give all ones, "
			"writes are dropped; said once, counted in info)\n",
			v->vm->name, write ? "write" : "read", gpa);
}

static enum exit_action stop_fetch(struct vcpu *v, u64 gpa)
{
	return vm_stop_report(v, "instruction fetch at rip %lx from outside its memory and devices "
			      "(guest-physical %lx)", v->regs.rip, gpa);
}

enum exit_action handle_mem(struct vcpu *v, struct vmexit *e)
{
	bool nothing = false; /* no RAM and no device at the address */
	struct vm *vm = v->vm;
	struct guest_ctx ctx;
	struct insn insn;
	u32 pf;
	int err;

	/* The local APIC page is the vCPU's own, so it has a bus of its own;
	 * so has a page with nothing there. */
	struct bus lapic_bus; /* not zeroed: 32 ranges, one used */
	const struct bus *bus = &vm->mmio;

	/* A write to RAM that dirty logging protected (core/gmem_dirty.c); also
	 * the CPU setting an accessed or dirty bit in a guest page table. */
	if (e->mem.write && gmem_dirty_fault(vm, e->mem.gpa))
		return ACT_RESUME;
	/* The guest's page tables point outside its RAM (at a device, or at
	 * nothing): no instruction to emulate, and no PC gives paging
	 * structures in device memory a meaning. */
	if (e->mem.walk)
		return vm_stop_report(v, "its page tables reach guest-physical %lx, outside its RAM",
				      e->mem.gpa);
	if (v->lapic && vlapic_mmio_claims(v->lapic, e->mem.gpa)) {
		bus_init(&lapic_bus);
		bus_register(&lapic_bus, vlapic_mmio_base(v->lapic), APIC_MMIO_SIZE, "lapic",
			     &vlapic_mmio_ops, v->lapic);
		bus = &lapic_bus;
		v->irq_work = true; /* TPR, EOI, ICR ... change what is deliverable */
	} else if (!bus_claims(&vm->mmio, e->mem.gpa, 1)) {
		/* The CPU flags a fetch only with NX or SMEP on; a fetch it
		 * does not flag fails below, when the instruction cannot be read. */
		if (e->mem.fetch)
			return stop_fetch(v, e->mem.gpa);
		/* Emulated against a bus with only "nothing" on it, so every
		 * instruction the MMIO emulator knows behaves as on a PC. */
		nothing = true;
		bus_init(&lapic_bus);
		bus_register(&lapic_bus, e->mem.gpa & ~0xfffULL, 0x1000, "unassigned",
			     &unassigned_ops, NULL);
		bus = &lapic_bus;
	}
	vendor->get_paging_ctx(v, &ctx);
	err = insn_fetch_decode_cached(vm, &ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache, &insn, &pf);
	if (unlikely(nothing)) {
		if (err == -ENOENT)
			return stop_fetch(v, e->mem.gpa);
		note_unassigned(v, e->mem.gpa, e->mem.write);
	}
	if (err)
		return vm_stop_report(v, "MMIO at %lx: cannot fetch or decode the instruction (%d)",
				      e->mem.gpa, err);
	/* An operand that may run over its page's end (core/exit_mem_split.c). */
	if (unlikely((e->mem.gpa & (PAGE_SIZE - 1)) == 0 || (e->mem.gpa & (PAGE_SIZE - 1)) > PAGE_SIZE - 8)) {
		bool done;
		enum exit_action act = handle_mem_split(v, e, &ctx, &insn, &done);

		if (done)
			return act;
	}
	err = emul_mmio(&v->regs, &insn, e->mem.gpa, bus, guest_ctx_mode(&ctx, v->regs.rflags));
	if (err == -ENOTSUP)
		return vm_stop_report(v, "MMIO at %lx: instruction not emulated", e->mem.gpa);
	if (err)
		return vm_stop_report(v, "MMIO at %lx failed (%d)", e->mem.gpa, err);
	e->insn_len = insn.len;
	return ACT_SKIP;
}
