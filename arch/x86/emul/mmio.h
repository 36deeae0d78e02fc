/*
 * Emulation of a guest instruction whose memory operand hit device memory
 * (a nested page fault / EPT violation on an MMIO range): the access goes to
 * the VM's MMIO bus, the result to the guest's registers and flags.
 */
#ifndef EMUL_MMIO_H
#define EMUL_MMIO_H

#include "hv/types.h"
#include "hv/guest_ctx.h"
#include "arch/x86/emul/decode.h"

struct vcpu_regs;
struct bus;

/*
 * Performs the access of in (decoded in mode) at guest-physical gpa on the
 * mmio bus: MOV (store from a register or an immediate, load), MOVZX, MOVSX,
 * MOV moffs, STOS (one, not REP), AND/OR/XOR/ADD/SUB (read-modify-write, or
 * into a register for the Gv,Ev forms; arithmetic flags updated), CMP and
 * TEST (flags only), XCHG. Registers are written as the CPU does: a 32-bit
 * result zero-extends in 64-bit mode, 8- and 16-bit results keep the rest,
 * registers 4-7 of a byte operand are AH, CH, DH, BH without REX.
 *
 * Returns 0; -ENOENT when no device claims [gpa, gpa + size) (the caller
 * stops the VM); -ENOTSUP for an instruction it does not emulate. A device
 * that fails a read reads as all ones; a failed write is dropped (hv/bus.h).
 * RIP is not moved: the dispatcher does, by in->len.
 */
int emul_mmio(struct vcpu_regs *regs, const struct insn *in, u64 gpa, const struct bus *mmio,
	      enum cpu_mode mode);

#endif
