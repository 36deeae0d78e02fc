/*
 * A device-memory access whose operand may run over a page end (issue 15):
 * a CPU splits it, and each page's bytes go where that page maps, RAM, a
 * device or nothing. The nested page fault names only the page that
 * faulted, so the operand's linear address is computed from the decoded
 * instruction, both pages are walked, and the emulator's one access (at a
 * stand-in address, on a bus of one range) is cut into the two parts:
 *   - RAM: read or written in place;
 *   - the local APIC page or a device on the VM's MMIO bus: one access of
 *     the part's size when it is 1, 2 or 4 bytes, else byte by byte (what a
 *     device sees of a split access no CPU defines);
 *   - nothing: all ones read, writes dropped, counted as unassigned.
 * Seen with a store across the end of RAM (the first bytes were written to
 * the device page) and a read across the APIC page's end (the VM stopped).
 */
#include "core/exit_handlers.h"
#include "arch/x86/emul/gwalk.h"
#include "arch/x86/emul/mmio.h"
#include "arch/x86/emul/operand.h"
#include "hv/exit.h"
#include "hv/gmem.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "devices/vlapic.h"
#include "lib/string.h"

struct split {
	struct vcpu *v;
	const struct guest_ctx *ctx;
	unsigned access;  /* GW_* of the walk */
	u64 gpa[2];       /* where the operand's first byte and the next page lie */
	u64 page2;        /* the next page's linear address */
	bool have_page2;  /* gpa[1] walked */
	unsigned n1;      /* bytes of the operand on the first page */
	int err;          /* a walk of the next page failed: -EFAULT (#PF), -EINVAL (#GP), -ENOENT */
	u32 pf;
};

/* One part: n bytes at gpa, to or from buf. */
static void part_access(struct vcpu *v, u64 gpa, u8 *buf, unsigned n, bool write)
{
	struct bus lapic_bus; /* not zeroed: 32 ranges, one used */
	const struct bus *bus = &v->vm->mmio;
	void *ram = gmem_map(v->vm, gpa, n, write);

	if (ram) {
		if (write)
			memcpy(ram, buf, n);
		else
			memcpy(buf, ram, n);
		return;
	}
	if (v->lapic && vlapic_mmio_claims(v->lapic, gpa)) {
		bus_init(&lapic_bus);
		bus_register(&lapic_bus, vlapic_mmio_base(v->lapic), APIC_MMIO_SIZE, "lapic",
			     &vlapic_mmio_ops, v->lapic);
		bus = &lapic_bus;
		v->irq_work = true;
	}
	for (unsigned off = 0; off < n;) {
		unsigned k = (n - off == 1 || n - off == 2 || n - off == 4) ? n - off : 1;
		u64 val = 0;
		int err;

		if (write)
			memcpy(&val, buf + off, k);
		err = bus_access(bus, gpa + off, (u8)k, write, &val);
		if (err == -ENOENT)
			__atomic_fetch_add(&v->vm->unassigned, 1, __ATOMIC_RELAXED);
		if (!write && err)
			val = ~0ULL; /* nothing answered, or the device failed it */
		if (!write)
			memcpy(buf + off, &val, k);
		off += k;
	}
}

/* The emulator's one access. Both pages are known good before either is
 * touched: a CPU faults on the second page without writing the first. */
static int split_access(struct split *s, u8 size, bool write, u64 *val)
{
	u8 bytes[8];
	unsigned n1 = MIN((unsigned)size, s->n1);

	if (size > n1 && !s->have_page2) {
		s->err = gwalk(s->v->vm, s->ctx, s->page2, s->access, &s->gpa[1], &s->pf);
		if (s->err)
			return -ENOENT; /* the emulator stops; handle_mem_split reports */
		s->have_page2 = true;
	}
	if (write)
		memcpy(bytes, val, size);
	part_access(s->v, s->gpa[0], bytes, n1, write);
	if (size > n1)
		part_access(s->v, s->gpa[1], bytes + n1, size - n1, write);
	if (!write) {
		*val = 0;
		memcpy(val, bytes, size);
	}
	return 0;
}

static int split_read(void *dev, u64 offset, u8 size, u64 *val)
{
	return split_access(dev, size, false, val);
}

static int split_write(void *dev, u64 offset, u8 size, u64 val)
{
	return split_access(dev, size, true, &val);
}

static const struct io_ops split_ops = { split_read, split_write };

/* The stand-in address the emulator is given: any, the bus has one range. */
#define SPLIT_BASE 0x1000

enum exit_action handle_mem_split(struct vcpu *v, struct vmexit *e, const struct guest_ctx *ctx,
				  const struct insn *in, bool *done)
{
	enum cpu_mode mode = guest_ctx_mode(ctx, v->regs.rflags);
	struct split s = { .v = v, .ctx = ctx };
	struct bus bus; /* not zeroed: 32 ranges, one used */
	u64 linear;
	u32 pf;
	int err;

	*done = false;
	/* An operand of at most 8 bytes that ends on its page: not ours. */
	if (!insn_operand_linear(in, v->regs.gpr, v->regs.rip, ctx, mode == MODE_LONG64, &linear) ||
	    (linear & (PAGE_SIZE - 1)) + 8 <= PAGE_SIZE)
		return ACT_RESUME;
	*done = true;
	s.access = (e->mem.write ? GW_WRITE : 0) | (ctx->cpl == 3 ? GW_USER : 0);
	s.page2 = (linear | (PAGE_SIZE - 1)) + 1;
	if (mode != MODE_LONG64)
		s.page2 = (u32)s.page2;
	s.n1 = (unsigned)(PAGE_SIZE - (linear & (PAGE_SIZE - 1)));
	err = gwalk(v->vm, ctx, linear, s.access, &s.gpa[0], &pf);
	if (!err) {
		bus_init(&bus);
		bus_register(&bus, SPLIT_BASE, 16, "split", &split_ops, &s);
		err = emul_mmio(&v->regs, in, SPLIT_BASE, &bus, mode);
		if (s.err) {
			err = s.err;
			pf = s.pf;
			linear = s.page2;
		}
	}
	if (err == -EFAULT) {
		vendor->set_cr(v, 2, linear);
		return vcpu_fault(v, EXC_PF, true, pf);
	}
	if (err == -EINVAL && !s.have_page2)
		return vcpu_fault(v, EXC_GP, true, 0);
	if (err == -ENOTSUP)
		return vm_stop_report(v, "MMIO at %lx: instruction not emulated", e->mem.gpa);
	if (err)
		return vm_stop_report(v, "MMIO at %lx failed (%d)", e->mem.gpa, err);
	e->insn_len = in->len;
	return ACT_SKIP;
}
