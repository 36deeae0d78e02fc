/*
 * Where a decoded instruction's memory operand lies in the guest's linear
 * address space (SDM vol. 1, 3.7.5 "Specifying an Offset"; 3.3.7.1 for
 * 64-bit mode, where only FS and GS have a base).
 */
#ifndef EMUL_OPERAND_H
#define EMUL_OPERAND_H

#include "hv/types.h"
#include "hv/guest_ctx.h"
#include "arch/x86/emul/decode.h"

/*
 * The linear address of in's memory operand: a ModRM operand (base +
 * index * scale + displacement, or RIP-relative), a moffs (A0-A3), or
 * STOS's ES:rDI. gpr and rip are the vCPU's; long64 says 64-bit mode. The
 * offset wraps at the address size, the sum at 32 bits outside 64-bit
 * mode. Segment limits are not checked. false when in has no such operand.
 */
bool insn_operand_linear(const struct insn *in, const u64 *gpr, u64 rip, const struct guest_ctx *ctx,
			 bool long64, u64 *linear);

#endif
