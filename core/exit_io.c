/* Port I/O exits: every port traps (the permission map), then the VM's port bus. */
#include "core/exit_handlers.h"
#include "arch/x86/emul/fetch.h"
#include "arch/x86/emul/gwalk.h"
#include "hv/exit.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "lib/string.h"

/* Elements of a REP INS/OUTS moved per exit; the rest continue on re-entry,
 * so a long transfer cannot hold the CPU. */
#define STRING_IO_BATCH 1024

static u64 size_mask(unsigned bytes)
{
	return bytes == 8 ? ~0ULL : (1ULL << (bytes * 8)) - 1;
}

static const struct seg *string_source_seg(const struct guest_ctx *c, u8 override)
{
	switch (override) {
	case INSN_SEG_ES: return &c->es;
	case INSN_SEG_CS: return &c->cs;
	case INSN_SEG_SS: return &c->ss;
	case INSN_SEG_FS: return &c->fs;
	case INSN_SEG_GS: return &c->gs;
	default: return &c->ds;
	}
}

/*
 * Where one element of a string I/O lies: its bytes at linear, which may
 * straddle a page end, so up to two guest-physical pieces (each page is
 * translated on its own: two linear pages can map frames far apart).
 * Returns 0; or -EFAULT with the #PF error code in *pf and the faulting
 * linear address in *fault_at (the caller injects #PF); or -ENOENT when the
 * guest's page tables lie outside RAM. A piece outside RAM goes to the MMIO
 * bus (ram[i] false), as the CPU's memory access would.
 */
struct io_pieces {
	u64 gpa[2];
	unsigned len[2], n;
	bool ram[2];
};

static int translate_element(struct vcpu *v, const struct guest_ctx *ctx, u64 linear, unsigned size,
			     unsigned access, struct io_pieces *p, u32 *pf, u64 *fault_at)
{
	unsigned first = MIN(size, (unsigned)(PAGE_SIZE - (linear & (PAGE_SIZE - 1))));
	int err;

	p->n = first < size ? 2 : 1;
	p->len[0] = first;
	p->len[1] = size - first;
	for (unsigned i = 0; i < p->n; i++) {
		u64 at = linear + (i ? first : 0);

		err = gwalk(v->vm, ctx, at, access, &p->gpa[i], pf);
		if (err == -EFAULT)
			*fault_at = at;
		if (err)
			return err == -EFAULT ? err : -ENOENT;
		p->ram[i] = gmem_in_ram(&v->vm->gmem, p->gpa[i], p->len[i]);
	}
	return 0;
}

/*
 * A piece outside RAM, a byte at a time on the MMIO bus (a device's
 * registers, or nothing: reads all ones, writes dropped, counted in the
 * VM's unassigned accesses). The local APIC page is not on that bus: a
 * string I/O there meets nothing, unlike on a CPU (docs/cpu.md).
 */
static void mmio_piece(struct vcpu *v, u64 gpa, u8 *bytes, unsigned len, bool write)
{
	for (unsigned k = 0; k < len; k++) {
		u64 b = write ? bytes[k] : 0xff;
		int err = write ? bus_write(&v->vm->mmio, gpa + k, 1, b) :
				  bus_read(&v->vm->mmio, gpa + k, 1, &b);

		if (err)
			__atomic_fetch_add(&v->vm->unassigned, 1, __ATOMIC_RELAXED);
		if (!write)
			bytes[k] = err ? 0xff : (u8)b;
	}
}

static enum exit_action string_io(struct vcpu *v, struct vmexit *e)
{
	struct guest_ctx ctx;
	struct insn insn;
	u64 *r = v->regs.gpr;
	u32 pf;
	int err;

	vendor->get_ctx(v, &ctx);
	err = insn_fetch_decode_cached(v->vm, &ctx, v->regs.rip, v->regs.rflags, &v->fetch_cache, &insn, &pf);
	if (err || (insn.kind != INSN_INS && insn.kind != INSN_OUTS))
		return vm_stop_report(v, "string I/O at rip %lx: cannot decode it (%d)", v->regs.rip,
				      err);
	e->insn_len = insn.len;

	enum cpu_mode mode = guest_ctx_mode(&ctx, v->regs.rflags);
	u64 amask = size_mask(insn.addr_size);
	int reg = e->io.in ? GPR_RDI : GPR_RSI;
	/* INS writes ES:rDI (no override); OUTS reads DS:rSI or its override. */
	const struct seg *seg = e->io.in ? &ctx.es : string_source_seg(&ctx, insn.seg);
	u64 base = (mode == MODE_LONG64 && seg != &ctx.fs && seg != &ctx.gs) ? 0 : seg->base;
	u64 count = e->io.rep ? (r[GPR_RCX] & amask) : 1;
	s64 step = (v->regs.rflags & RFLAGS_DF) ? -(s64)e->io.size : e->io.size;
	unsigned access = (e->io.in ? GW_WRITE : 0) | (ctx.cpl == 3 ? GW_USER : 0);

	for (unsigned done = 0; count && done < STRING_IO_BATCH; done++) {
		u64 linear = base + (r[reg] & amask), val = 0, fault_at = 0;
		struct io_pieces p;
		u8 *bytes = (u8 *)&val; /* little-endian: the low io.size bytes are the data */

		/* Both pages are checked before the port is touched: a fault
		 * leaves the device, the registers and memory as they were, and
		 * the guest's #PF handler can restart the instruction (the
		 * elements done so far are done, as on a CPU). */
		err = translate_element(v, &ctx, linear, e->io.size, access, &p, &pf, &fault_at);
		if (err == -EFAULT) {
			vendor->set_cr(v, 2, fault_at);
			vcpu_inject_exception(v, EXC_PF, true, pf);
			return ACT_RESUME;
		}
		if (err)
			return vm_stop_report(v, "string I/O at rip %lx: the page tables for guest "
					      "address %lx lie outside its memory", v->regs.rip, linear);
		if (e->io.in) {
			if (bus_read(&v->vm->pio, e->io.port, e->io.size, &val))
				val = ~0ULL;
			for (unsigned i = 0, off = 0; i < p.n; off += p.len[i++])
				if (p.ram[i])
					gmem_write(v->vm, p.gpa[i], bytes + off, p.len[i]);
				else
					mmio_piece(v, p.gpa[i], bytes + off, p.len[i], true);
		} else {
			for (unsigned i = 0, off = 0; i < p.n; off += p.len[i++])
				if (p.ram[i])
					gmem_read(v->vm, p.gpa[i], bytes + off, p.len[i]);
				else
					mmio_piece(v, p.gpa[i], bytes + off, p.len[i], false);
			bus_write(&v->vm->pio, e->io.port, e->io.size, val);
		}
		r[reg] = (r[reg] & ~amask) | ((r[reg] + (u64)step) & amask);
		count--;
		if (e->io.rep)
			r[GPR_RCX] = (r[GPR_RCX] & ~amask) | count;
	}
	return count ? ACT_RESUME : ACT_SKIP;
}

enum exit_action handle_io(struct vcpu *v, struct vmexit *e)
{
	u64 *rax = &v->regs.gpr[GPR_RAX];
	u64 mask = size_mask(e->io.size), val;

	if (e->io.string)
		return string_io(v, e);
	if (e->io.in) {
		/* Nothing there: the bus floats high, as on a PC. */
		if (bus_read(&v->vm->pio, e->io.port, e->io.size, &val))
			val = ~0ULL;
		/* IN to EAX zero-extends into RAX; AL and AX leave the rest. */
		*rax = e->io.size == 4 ? (u32)val : (*rax & ~mask) | (val & mask);
	} else {
		bus_write(&v->vm->pio, e->io.port, e->io.size, *rax & mask);
	}
	return ACT_SKIP;
}
