/*
 * The AP start-up trampoline (arch/x86/boot/trampoline.S): copied to a page
 * below 1 MiB whose number is the STARTUP IPI's vector, it takes a CPU from
 * real mode to long mode and calls entry(arg) on stack. The boot CPU fills
 * the parameter block at trampoline_params in the copy.
 */
#ifndef ASM_TRAMPOLINE_H
#define ASM_TRAMPOLINE_H

#define TP_CR3 0      /* the PML4, below 4 GiB: loaded while still in 32-bit mode */
#define TP_EFER 8     /* EFER bits to set besides LME (NXE) */
#define TP_STACK 16
#define TP_ENTRY 24   /* void entry(void *arg), never returns */
#define TP_ARG 32
#define TP_STARTED 40 /* the AP writes 1 on reaching 64-bit mode */
#define TP_SIZE 48

/* Selectors of the trampoline's own GDT. */
#define TR_SEL_CODE32 0x08
#define TR_SEL_DATA 0x10
#define TR_SEL_CODE64 0x18

#ifndef __ASSEMBLY__
#include "hv/types.h"

struct trampoline_params {
	u64 cr3;
	u64 efer;
	u64 stack;
	u64 entry;
	u64 arg;
	volatile u32 started;
	u32 pad;
};
_Static_assert(offsetof(struct trampoline_params, cr3) == TP_CR3, "trampoline.S");
_Static_assert(offsetof(struct trampoline_params, efer) == TP_EFER, "trampoline.S");
_Static_assert(offsetof(struct trampoline_params, stack) == TP_STACK, "trampoline.S");
_Static_assert(offsetof(struct trampoline_params, entry) == TP_ENTRY, "trampoline.S");
_Static_assert(offsetof(struct trampoline_params, arg) == TP_ARG, "trampoline.S");
_Static_assert(offsetof(struct trampoline_params, started) == TP_STARTED, "trampoline.S");
_Static_assert(sizeof(struct trampoline_params) == TP_SIZE, "trampoline.S");

/* The code to copy, [trampoline_start, trampoline_end), and its parameter block. */
extern const u8 trampoline_start[], trampoline_end[], trampoline_params[];
#endif

#endif
