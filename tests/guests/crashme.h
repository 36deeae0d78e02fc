/*
 * crashme (issue 15, item 3): what crashme.c and crashme-entry.S share.
 * The offsets below are struct cm_cpu's, which the assembly uses; the
 * _Static_asserts in crashme.c keep them honest.
 */
#ifndef CRASHME_H
#define CRASHME_H

#define CM_MAX_CPUS 4

/* The guest's own GDT (crashme.c, gdt_build), the same on every vCPU. */
#define CM_SEL_KCODE64 0x08
#define CM_SEL_KDATA 0x10
#define CM_SEL_KCODE32 0x18
#define CM_SEL_KCODE16 0x20 /* base: the vCPU's code page */
#define CM_SEL_KDATA16 0x28 /* base: the vCPU's data pages */
#define CM_SEL_UCODE64 0x33
#define CM_SEL_UDATA 0x3b
#define CM_SEL_UCODE32 0x43
#define CM_SEL_UCODE16 0x4b
#define CM_SEL_UDATA16 0x53
#define CM_SEL_TSS 0x58
#define CM_GDT_ENTRIES 13

/* Each vCPU's interrupt stacks: 16 KiB, three IST stacks of 4 KiB in it
 * (the assembly finds the vCPU from the stack it is on). */
#define CM_IST_SHIFT 14
#define CM_IST_ANY 1 /* every vector but these two */
#define CM_IST_NMI 2
#define CM_IST_DF 3

/* struct cm_cpu: 256 bytes per vCPU. */
#define CM_CPU_SHIFT 8
#define CM_KRSP 0
#define CM_CR0 8
#define CM_CR3 16
#define CM_CR4 24
#define CM_EFER 32
#define CM_GDTR 40
#define CM_IDTR 56
#define CM_VECTOR 72
#define CM_ERROR 80
#define CM_RIP 88
#define CM_CS 96
#define CM_IN_SNIPPET 104 /* set by cm_enter, cleared by cm_common */

/* struct cm_frame: where and how a snippet starts. */
#define CF_RIP 0
#define CF_CS 8
#define CF_RFLAGS 16
#define CF_RSP 24
#define CF_SS 32
#define CF_DS 40
#define CF_GPR 48 /* rax rcx rdx rbx rbp rsi rdi r8-r15 (no rsp) */

#endif
