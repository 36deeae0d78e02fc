/* A stopped VM's report: why, and the registers of the vCPU that hit it. */
#include "arch/x86/emul/gwalk.h"
#include "hv/exit.h"
#include "hv/gmem.h"
#include "hv/console.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "hv/vm_lifecycle.h"
#include "lib/format.h"

static void dump_seg(const char *name, const struct seg *s)
{
	kprintf("  %-4s sel=%04x base=%016lx limit=%08x attr=%03x\n", name, s->sel, s->base, s->limit,
		s->attr);
}

/*
 * Where the IDT's double-fault gate is in the guest, in every report and
 * for a triple fault above all (a #DF that could not be delivered): a gate
 * page the guest's tables do
 * not map says the guest lost its own paging; a mapped, sane gate points
 * at the stack or the handler instead. Read-only: the walk sets no A bit.
 */
static void dump_idt_gate(struct vcpu *v, const struct guest_ctx *c)
{
	u64 at = c->idtr.base + 8 * 16, gpa = 0; /* long mode: 16-byte gates (SDM 6.14.1) */
	u64 gate[2] = { 0, 0 };
	u32 err = 0;
	int rc;

	if (!(c->cr0 & CR0_PG) || !(c->efer & EFER_LMA))
		return;
	if (c->idtr.limit < 8 * 16 + 15) {
		kprintf("  idt: limit %x, too short for the #DF gate\n", c->idtr.limit);
		return;
	}
	rc = gwalk(v->vm, c, at, 0, &gpa, &err);
	if (rc == -EFAULT)
		kprintf("  idt: the #DF gate at %016lx is not readable (#PF error %x)\n", at, err);
	else if (rc)
		kprintf("  idt: the #DF gate at %016lx: no walk (%d)\n", at, rc);
	else if (gmem_read(v->vm, gpa, gate, sizeof(gate)))
		kprintf("  idt: the #DF gate at %016lx is guest-physical %lx, not RAM\n", at, gpa);
	else
		kprintf("  idt: the #DF gate at %016lx (guest-physical %lx): %016lx %016lx\n", at, gpa,
			gate[1], gate[0]);
}

void vm_report_vcpu(struct vcpu *v)
{
	static const char *const names[NR_GPRS] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
						    "rsi", "rdi", "r8",  "r9",  "r10", "r11",
						    "r12", "r13", "r14", "r15" };
	const u64 *r = v->regs.gpr;
	struct guest_ctx c;

	vendor->get_ctx(v, &c);
	kprintf("  vcpu %u: rip=%016lx rflags=%016lx cpl=%u\n", v->id, v->regs.rip, v->regs.rflags,
		c.cpl);
	for (int i = 0; i < NR_GPRS; i += 4)
		kprintf("  %-3s=%016lx %-3s=%016lx %-3s=%016lx %-3s=%016lx\n", names[i], r[i],
			names[i + 1], r[i + 1], names[i + 2], r[i + 2], names[i + 3], r[i + 3]);
	kprintf("  cr0=%016lx cr2=%016lx cr3=%016lx cr4=%016lx efer=%016lx\n", c.cr0, c.cr2, c.cr3,
		c.cr4, c.efer);
	dump_seg("cs", &c.cs);
	dump_seg("ss", &c.ss);
	dump_seg("ds", &c.ds);
	dump_seg("es", &c.es);
	dump_seg("fs", &c.fs);
	dump_seg("gs", &c.gs);
	dump_seg("tr", &c.tr);
	kprintf("  gdtr base=%016lx limit=%04x  idtr base=%016lx limit=%04x\n", c.gdtr.base,
		c.gdtr.limit, c.idtr.base, c.idtr.limit);
	dump_idt_gate(v, &c);
}

enum exit_action vm_stop_report(struct vcpu *v, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (v->vm->state != VM_RUNNING) /* another vCPU ended it, or a reset is under way */
		return ACT_VM_STOP;
	kprintf("utsuwa: vm %s: stopped: %s\n", v->vm->name, why);
	vm_report_vcpu(v);
	switch (v->vm->cfg.on_crash) {
	case ON_CRASH_RESET:
		kprintf("utsuwa: vm %s: reset (on_crash=reset)\n", v->vm->name);
		vm_reset_request(v->vm);
		break;
	case ON_CRASH_PAUSE:
		kprintf("utsuwa: vm %s: paused (on_crash=pause): resume, reset or destroy it from "
			"the monitor\n", v->vm->name);
		vm_crash_pause(v->vm);
		break;
	default:
		vm_end(v->vm, VM_STOPPED, 0);
	}
	return ACT_VM_STOP;
}
