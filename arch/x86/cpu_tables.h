/*
 * Each CPU's GDT and TSS, the IDT all CPUs share, and what the exception
 * path offers the rest of arch/x86.
 */
#ifndef ARCH_X86_CPU_TABLES_H
#define ARCH_X86_CPU_TABLES_H

#include "hv/percpu.h"
#include "hv/types.h"

/* IST slots: these vectors always run on a known-good stack. */
#define IST_DF 1  /* #DF: the stack may be what failed */
#define IST_NMI 2 /* NMI: may arrive anywhere, even on a half-switched stack */
#define IST_MC 3  /* #MC: likewise */
#define IST_COUNT 3
#define IST_STACK_SIZE 8192

/*
 * Control registers for the hypervisor: CR0.NE/MP set, EM/TS/CD/NW clear;
 * CR4.OSFXSR/OSXMMEXCPT set (FXSAVE of guest state, SSE faults as #XM);
 * the x87 state reset. On every CPU, first thing.
 */
void cpu_init_features(void);

/*
 * Builds and loads this CPU's GDT and TSS (cpu->gdt, cpu->tss). ist_stacks
 * holds IST_COUNT stacks of IST_STACK_SIZE bytes. Reloads the segment
 * registers: call before percpu_set_base().
 */
void gdt_init_cpu(struct percpu *cpu, u8 *ist_stacks);

/* Fills the shared IDT (once, on the boot CPU) and loads it on this CPU. */
void idt_init(void);
void idt_load(void);

#endif
