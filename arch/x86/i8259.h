/* The legacy 8259A interrupt controllers, which the hypervisor keeps silent. */
#ifndef ARCH_X86_I8259_H
#define ARCH_X86_I8259_H

#include "hv/types.h"

/* The master's IRQs 0-7 arrive on these 8 vectors, between the local APIC
 * timer's (0x20) and the devices' (0x30 up): through LINT0 in ExtINT mode,
 * so the local APIC takes no EOI for them (SDM vol. 3A, 10.8.5). */
#define I8259_VECTOR_BASE 0x28

/* Moves their vectors off the exception range and masks every line. */
void i8259_disable(void);
/* The master's IRQ 0 (the PIT) unmasked, every other line masked. */
void i8259_unmask_irq0(void);
/* On the master's IRQ 7: was it spurious (nothing in service)? */
bool i8259_irq7_spurious(void);
/* A non-specific EOI to the master. */
void i8259_eoi(void);

#endif
