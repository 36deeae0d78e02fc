/*
 * What arch/x86/vectors.S leaves on the stack for the C handlers: the
 * general registers it pushed, the vector, the error code (0 when the CPU
 * pushes none), and the CPU's own interrupt frame (SDM vol. 3A, "Stack
 * Operation in 64-bit mode": SS, RSP, RFLAGS, CS, RIP, always all five).
 */
#ifndef ASM_IRQ_FRAME_H
#define ASM_IRQ_FRAME_H

/* Offsets used by vectors.S. */
#define IRQ_FRAME_VECTOR 0x78
#define IRQ_FRAME_SIZE 0xb0

#ifndef __ASSEMBLY__
#include "hv/types.h"

struct irq_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};
_Static_assert(offsetof(struct irq_frame, vector) == IRQ_FRAME_VECTOR, "vectors.S layout");
_Static_assert(sizeof(struct irq_frame) == IRQ_FRAME_SIZE, "vectors.S layout");
/* The CPU aligns RSP to 16 before its pushes; our pushes keep it aligned for the C call. */
_Static_assert(sizeof(struct irq_frame) % 16 == 0, "stack stays 16-byte aligned");

/* Called by vectors.S with interrupts off, on the interrupted stack or an IST stack. */
void irq_dispatch(struct irq_frame *f);
#endif

#endif
