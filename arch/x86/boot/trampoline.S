/*
 * AP start-up: real mode -> protected mode -> long mode (SDM vol. 3A, "MP
 * Initialization Example" and "Initializing IA-32e Mode").
 *
 * A STARTUP IPI with vector VV starts the CPU in real mode at CS = VV00h,
 * IP = 0. This code is copied to that page and must run at any page below
 * 1 MiB, so it never uses its link address: it finds its own linear base in
 * CS and computes every absolute address (GDT, far jump targets, parameter
 * block) from it, kept in EBX/RBX.
 */
#include "asm/trampoline.h"

#define OFF(sym) ((sym) - trampoline_start)
#define CR0_PE 0x1
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100

	.section .rodata
	.align 16
	.globl trampoline_start
trampoline_start:
	.code16
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movzwl %ax, %ebx
	shll $4, %ebx			/* EBX = this page's linear address */

	/* Absolute addresses the code below needs: fill them in. */
	leal OFF(tr_gdt)(%ebx), %eax
	movl %eax, OFF(tr_gdtr) + 2
	leal OFF(tr_start32)(%ebx), %eax
	movl %eax, OFF(tr_far32)
	leal OFF(tr_start64)(%ebx), %eax
	movl %eax, OFF(tr_far64)

	lgdtl OFF(tr_gdtr)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	/* A far jump right after setting PE, as the SDM asks, loads CS. */
	ljmpl *OFF(tr_far32)

	.code32
tr_start32:
	movl $TR_SEL_DATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss

	/* PAE, the hypervisor's PML4, EFER.LME, then paging: IA-32e mode. */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl OFF(trampoline_params) + TP_CR3(%ebx), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	orl OFF(trampoline_params) + TP_EFER(%ebx), %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	/* Compatibility mode now; a far jump to a code segment with L=1 enters 64-bit mode. */
	ljmpl *OFF(tr_far64)(%ebx)

	.code64
tr_start64:
	movl $TR_SEL_DATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movl %ebx, %ebx			/* the upper half of RBX is undefined: clear it */
	leaq OFF(trampoline_params)(%rbx), %rsi
	movq TP_STACK(%rsi), %rsp
	movq TP_ARG(%rsi), %rdi
	movq TP_ENTRY(%rsi), %rax
	movl $1, TP_STARTED(%rsi)
	xorl %ebp, %ebp			/* the end of every backtrace */
	call *%rax
1:	cli
	hlt
	jmp 1b

	.align 16
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tr_gdt_end:
	.align 4
	.short 0
tr_gdtr:
	.short tr_gdt_end - tr_gdt - 1
	.long 0				/* base, filled in at run time */
tr_far32:
	.long 0				/* offset, filled in at run time */
	.short TR_SEL_CODE32
tr_far64:
	.long 0
	.short TR_SEL_CODE64

	.align 16
	.globl trampoline_params
trampoline_params:
	.skip TP_SIZE
	.globl trampoline_end
trampoline_end:
