/* Exceptions in the hypervisor itself: a register dump, a backtrace, a halt. */
#ifndef ARCH_X86_FAULT_H
#define ARCH_X86_FAULT_H

#include "hv/types.h"
#include "asm/irq_frame.h"

/*
 * Vectors 0-31 from irq_dispatch(). Prints the CPU, the exception, its error
 * code, the registers and a backtrace, stops the other CPUs, and halts. An
 * NMI is the exception: it halts quietly when the machine is stopping, and
 * otherwise is reported and returns.
 */
void fault_handle(struct irq_frame *f);

/*
 * Stops every other CPU (an NMI, which they take even with interrupts off)
 * once the local APIC can send IPIs; they halt without printing. For a fatal
 * error of the hypervisor: panic() would call it too.
 */
void cpus_stop_others(void);

/*
 * Interrupts (not exceptions: they may come before the per-CPU blocks are
 * set up) from irq_dispatch(): puts back a GS base that does not point at a
 * per-CPU block, found by the local APIC ID, and reports the interrupted
 * context (arch/x86/gs_guard.c).
 */
void gs_base_guard(const struct irq_frame *f);

/* Set by arch_setup() when IPIs work. */
extern bool fault_ipi_ready;

#endif
