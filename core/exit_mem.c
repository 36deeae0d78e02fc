/* Nested page faults: dirty logging, device memory (the VM's MMIO bus), else the VM is stopped. */
#include "core/exit_handlers.h"
#include "arch/x86/emul/fetch.h"
#include "arch/x86/emul/mmio.h"
#include "hv/exit.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "devices/vlapic.h"

enum exit_action handle_mem(struct vcpu *v, struct vmexit *e)
{
	struct vm *vm = v->vm;
	struct guest_ctx ctx;
	struct insn insn;
	u32 pf;
	int err;

	/* The local APIC page is the vCPU's own, so it has a bus of its own. */
	struct bus lapic_bus; /* not zeroed: 32 ranges, one used */
	const struct bus *bus = &vm->mmio;

	/* A write to RAM that dirty logging protected (core/gmem_dirty.c). */
	if (e->mem.write && gmem_dirty_fault(vm, e->mem.gpa))
		return ACT_RESUME;
	if (v->lapic && vlapic_mmio_claims(v->lapic, e->mem.gpa)) {
		bus_init(&lapic_bus);
		bus_register(&lapic_bus, vlapic_mmio_base(v->lapic), APIC_MMIO_SIZE, "lapic",
			     &vlapic_mmio_ops, v->lapic);
		bus = &lapic_bus;
		v->irq_work = true; /* TPR, EOI, ICR ... change what is deliverable */
	} else if (!bus_claims(&vm->mmio, e->mem.gpa, 1))
		return vm_stop_report(v, "%s of guest-physical %lx, outside its memory and devices",
				      e->mem.fetch ? "instruction fetch" : e->mem.write ? "write" : "read",
				      e->mem.gpa);
	vendor->get_paging_ctx(v, &ctx);
	err = insn_fetch_decode_cached(vm, &ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache, &insn, &pf);
	if (err)
		return vm_stop_report(v, "MMIO at %lx: cannot fetch or decode the instruction (%d)",
				      e->mem.gpa, err);
	err = emul_mmio(&v->regs, &insn, e->mem.gpa, bus, guest_ctx_mode(&ctx, v->regs.rflags));
	if (err == -ENOTSUP)
		return vm_stop_report(v, "MMIO at %lx: instruction not emulated", e->mem.gpa);
	if (err)
		return vm_stop_report(v, "MMIO at %lx failed (%d)", e->mem.gpa, err);
	e->insn_len = insn.len;
	return ACT_SKIP;
}
