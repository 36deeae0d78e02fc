/*
 * The machine's local APICs, as the hypervisor drives them: xAPIC through its
 * MMIO page, or x2APIC through MSRs when the firmware handed over the CPUs in
 * x2APIC mode. lapic_eoi(), ipi_send() and timer_start_periodic() are in
 * hv/platform.h.
 */
#ifndef ARCH_X86_LAPIC_H
#define ARCH_X86_LAPIC_H

#include "hv/types.h"

/* On the boot CPU, once: where the APIC is and which mode it runs in.
 * madt_addr is the MADT's address (0: unknown). */
void apic_init(u64 madt_addr);

/* On each CPU: software-enable with VECTOR_SPURIOUS, TPR 0, LVTs masked
 * except LINT1 (NMI), errors cleared. */
void apic_enable_cpu(void);

/* LINT0 unmasked in ExtINT mode, the MP specification's virtual wire
 * (3.6.2.2): the 8259's output reaches this CPU (the boot CPU only). */
void apic_lint0_extint(void);

u32 apic_id(void);
bool apic_x2apic_mode(void);
u64 apic_mmio_base(void);

/* INIT and STARTUP IPIs to one APIC ID (vector: the start page >> 12).
 * Return 0, or -EIO when the APIC never finished sending. */
int apic_send_init(u32 apic_id);
int apic_send_startup(u32 apic_id, u8 vector);
/* An NMI to every CPU but this one. */
void apic_send_nmi_others(void);

/* The timer at divide-by-16: one-shot from count (masked: no interrupt). */
void apic_timer_oneshot(u32 count, bool masked);
u32 apic_timer_current(void);
void apic_timer_stop(void);

/* Timer ticks per second at divide-by-16, measured at boot (arch/x86/calibrate.c). */
extern u64 apic_timer_hz;

#endif
