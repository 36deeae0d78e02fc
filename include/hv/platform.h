/*
 * What arch/x86 provides to the rest of the hypervisor: machine setup, the
 * local APIC, time. Implemented in the files of arch/x86.
 */
#ifndef HV_PLATFORM_H
#define HV_PLATFORM_H

#include "hv/bootinfo.h"
#include "hv/config.h"
#include "hv/percpu.h"
#include "hv/types.h"

/* Interrupt vectors of the hypervisor. */
#define VECTOR_TIMER 0x20   /* this CPU's local APIC timer tick */
#define VECTOR_KICK 0xf0    /* IPI: look at need_resched / pending work */
#define VECTOR_SPURIOUS 0xff

/*
 * On the boot CPU: parse the boot info into bi, set up memory (page
 * allocator, heap), this CPU's GDT/TSS/IDT and per-CPU block, ACPI (MADT),
 * the local APIC, calibrate the TSC and APIC timer, then start every other
 * CPU. Each other CPU does its own GDT/TSS/IDT/GS/local APIC setup and calls
 * hv_ap_main(). Returns on the boot CPU with nr_cpus CPUs online. A machine
 * it cannot run on gets a message and a halt, never a silent hang.
 */
void arch_setup(u32 magic, u64 info, struct boot_info *bi);

/* Runs fn(ctx) for a host interrupt vector (32..255), with the local APIC
 * EOI sent after fn returns. A driver passes its device as ctx. */
void irq_register(u8 vector, void (*fn)(void *ctx), void *ctx);

/* A free host vector for a device's interrupt (MSI/MSI-X), or -ENOSPC. */
int irq_alloc_vector(void);

/* Starts this CPU's local APIC timer, periodic at hz, on VECTOR_TIMER. */
void timer_start_periodic(u32 hz);

/*
 * This CPU's local APIC timer as a deadline, on VECTOR_TIMER (the scheduler
 * arms it for its next tick or the nearest guest timer, core/sched_timer.c).
 * TSC-deadline mode where the CPU has it (CPUID.1:ECX[24]), else one-shot
 * with the count to the deadline, rounded up. A deadline already passed
 * fires at once; never a count of 0, which would stop the timer. Not
 * periodic: under QEMU's TCG a periodic timer with a count of a few ticks
 * keeps QEMU's main loop in its timer callback, holding the lock the vCPU
 * needs to take the interrupt (docs/interrupts.md, "The tick").
 * timer_deadline_mode: "tsc-deadline" or "one-shot".
 */
void timer_deadline_start(void);
void timer_deadline_set(u64 tsc);
/* Has the local APIC look at its pending interrupts again (a TPR write of
 * the 0 it holds): for a timer interrupt an emulator lost (core/sched_timer.c). */
void apic_reevaluate(void);
const char *timer_deadline_mode(void);
/* On the boot CPU of a machine with no other CPU: a second, slow timer
 * (about 18 Hz) that calls fn in its interrupt, and whose arrival makes the
 * local APIC deliver a timer interrupt an emulator left waiting
 * (arch/x86/timer_backstop.c). */
void timer_backstop_start(void (*fn)(void));

void lapic_eoi(void);
/* A fixed-delivery IPI to one CPU (by percpu id). */
void ipi_send(u32 cpu, u8 vector);

/* TSC frequency measured at boot. */
extern u64 tsc_khz;
u64 tsc_to_ns(u64 ticks);
u64 tsc_to_ms(u64 ticks);
u64 ns_to_tsc(u64 ns);

/* Every VM has ended: halt the machine, or leave the emulator with status
 * (QEMU's isa-debug-exit at port 0xf4, Bochs's shutdown port 0x8900). */
__noreturn void platform_done(enum on_done how, int status);

/* Print this CPU's frame-pointer backtrace starting at rbp. */
void backtrace_print(u64 rbp);

#endif
