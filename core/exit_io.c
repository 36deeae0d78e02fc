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
		u64 linear = base + (r[reg] & amask), gpa, val = 0;

		/* Little-endian: the low io.size bytes of val are the data. */
		if (gwalk(v->vm, &ctx, linear, access, &gpa, &pf) ||
		    (!e->io.in && gmem_read(v->vm, gpa, &val, e->io.size)) ||
		    (e->io.in && gpa + e->io.size > gmem_size(v->vm)))
			return vm_stop_report(v, "string I/O at rip %lx: guest address %lx is not "
					      "mapped to its memory", v->regs.rip, linear);
		if (e->io.in) {
			if (bus_read(&v->vm->pio, e->io.port, e->io.size, &val))
				val = ~0ULL;
			gmem_write(v->vm, gpa, &val, e->io.size); /* in RAM: checked above */
		} else {
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
