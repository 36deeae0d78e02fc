/*
 * crashme's way into a snippet and back (crashme.c).
 *
 * cm_enter(cpu, frame) saves the kernel's callee-saved registers and RSP in
 * cpu->krsp, loads the snippet's data segments and general registers and
 * IRETQs to it, at CPL 0 or 3, in a 64-, 32- or 16-bit code segment.
 *
 * Whatever ends the snippet (an exception, the timer, an NMI, a software
 * INT) arrives through cm_stubs on an IST stack (every gate has one), so a
 * stack pointer the snippet broke does not matter. cm_common finds the vCPU
 * from that stack, records vector, error code, RIP and CS, puts back what
 * the snippet may have changed (CR0, CR4, CR3, EFER, GDTR, IDTR, DR7, CR8,
 * the segment registers and bases) and IRETQs to cm_resume on the kernel
 * stack, which returns from cm_enter. The IRETQ also ends NMI blocking
 * (SDM vol. 3A, 6.7.1), so the next NMI gets through.
 */
#include "crashme.h"

#define MSR_EFER 0xc0000080
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

	.code64
	.text

	.globl	cm_enter
cm_enter:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, CM_KRSP(%rdi)
	mov	CF_DS(%rsi), %eax
	mov	%eax, %ds
	mov	%eax, %es
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	movq	$1, CM_IN_SNIPPET(%rdi)	/* an NMI from here on ends the snippet */
	pushq	CF_SS(%rsi)
	pushq	CF_RSP(%rsi)
	pushq	CF_RFLAGS(%rsi)
	pushq	CF_CS(%rsi)
	pushq	CF_RIP(%rsi)
	mov	CF_GPR + 0 * 8(%rsi), %rax
	mov	CF_GPR + 1 * 8(%rsi), %rcx
	mov	CF_GPR + 2 * 8(%rsi), %rdx
	mov	CF_GPR + 3 * 8(%rsi), %rbx
	mov	CF_GPR + 4 * 8(%rsi), %rbp
	mov	CF_GPR + 6 * 8(%rsi), %rdi
	mov	CF_GPR + 7 * 8(%rsi), %r8
	mov	CF_GPR + 8 * 8(%rsi), %r9
	mov	CF_GPR + 9 * 8(%rsi), %r10
	mov	CF_GPR + 10 * 8(%rsi), %r11
	mov	CF_GPR + 11 * 8(%rsi), %r12
	mov	CF_GPR + 12 * 8(%rsi), %r13
	mov	CF_GPR + 13 * 8(%rsi), %r14
	mov	CF_GPR + 14 * 8(%rsi), %r15
	mov	CF_GPR + 5 * 8(%rsi), %rsi
	iretq

/*
 * One 16-byte stub per vector: a zero where the CPU pushes no error code
 * (SDM vol. 3A, table 6-1; a software INT n never pushes one, so for those
 * vectors the recorded error code and RIP are off by a slot: only a record).
 */
	.align	16
	.globl	cm_stubs
cm_stubs:
	.set	vec, 0
	.rept	256
	.align	16
	.if	(vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$vec
	jmp	cm_common
	.set	vec, vec + 1
	.endr
	.globl	cm_stubs_end
cm_stubs_end:

cm_common:
	push	%rax
	push	%rdi
	/* 16(%rsp) vector, 24 error code, 32 RIP, 40 CS, 48 RFLAGS, 56 RSP, 64 SS */
	mov	%rsp, %rdi
	lea	cm_ist(%rip), %rax
	sub	%rax, %rdi
	shr	$CM_IST_SHIFT, %rdi
	shl	$CM_CPU_SHIFT, %rdi
	lea	cm_cpus(%rip), %rax
	add	%rax, %rdi		/* this vCPU's struct cm_cpu */
	cmpq	$0, CM_IN_SNIPPET(%rdi)
	jne	1f
	/* Not in a snippet: an NMI (a watchdog's kick that came late) is
	 * dropped; so is the #DB that DR7.GD, set by the snippet, makes of
	 * the MOV to DR7 below (a fault: the CPU cleared GD for the handler,
	 * so the MOV runs again and succeeds; SDM vol. 3, 19.2.4). Anything
	 * else is crashme's own bug. */
	cmpq	$2, 16(%rsp)
	je	3f
	cmpq	$1, 16(%rsp)
	jne	2f
	lea	cm_clear_dr7(%rip), %rax
	cmp	%rax, 32(%rsp)
	jne	2f
3:	pop	%rdi
	pop	%rax
	add	$16, %rsp
	iretq
2:	mov	16(%rsp), %rdi
	mov	24(%rsp), %rsi
	mov	32(%rsp), %rdx
	and	$-16, %rsp
	call	cm_kernel_fault		/* does not return */
	ud2

1:	movq	$0, CM_IN_SNIPPET(%rdi)
	mov	16(%rsp), %rax
	mov	%rax, CM_VECTOR(%rdi)
	mov	24(%rsp), %rax
	mov	%rax, CM_ERROR(%rdi)
	mov	32(%rsp), %rax
	mov	%rax, CM_RIP(%rdi)
	mov	40(%rsp), %rax
	mov	%rax, CM_CS(%rdi)

	mov	CM_CR0(%rdi), %rax
	mov	%rax, %cr0
	mov	CM_CR4(%rdi), %rax
	mov	%rax, %cr4
	mov	CM_CR3(%rdi), %rax
	mov	%rax, %cr3
	mov	$MSR_EFER, %ecx
	mov	CM_EFER(%rdi), %eax
	mov	CM_EFER + 4(%rdi), %edx
	wrmsr
	lgdt	CM_GDTR(%rdi)
	lidt	CM_IDTR(%rdi)
	xor	%eax, %eax
cm_clear_dr7:
	mov	%rax, %dr7
	mov	%rax, %cr8
	mov	$CM_SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	xor	%edx, %edx
	mov	$MSR_FS_BASE, %ecx
	wrmsr
	mov	$MSR_GS_BASE, %ecx
	wrmsr
	mov	$MSR_KERNEL_GS_BASE, %ecx
	wrmsr

	mov	CM_KRSP(%rdi), %rsi
	pushq	$CM_SEL_KDATA
	pushq	%rsi
	pushq	$2			/* RFLAGS: IF, TF, DF, AC clear */
	pushq	$CM_SEL_KCODE64
	lea	cm_resume(%rip), %rax
	pushq	%rax
	iretq

cm_resume:
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

	.section .note.GNU-stack, "", @progbits
