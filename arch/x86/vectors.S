/*
 * The 256 interrupt and exception entry stubs and their common path.
 * Each stub is 16 bytes (isr_stubs + 16 * vector): it pushes a zero error
 * code when the CPU pushes none (SDM vol. 3A, "Exception and Interrupt
 * Reference": #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX have one),
 * then the vector, and jumps to the common path, which builds a struct
 * irq_frame (asm/irq_frame.h) and calls irq_dispatch().
 */
#include "asm/irq_frame.h"

#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
			   (v) == 21 || (v) == 29 || (v) == 30)

	.section .text
	.align 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if !HAS_ERROR_CODE(vec)
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr
	.align 16
	.globl isr_stubs_end
isr_stubs_end:

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld				/* the C ABI wants DF clear */
	movq %rsp, %rdi
	call irq_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector and error code */
	iretq
