/*
 * The INTx# wiring of the VM's PCI bus 0, as a board fixes it: pin p
 * (1 = INTA# .. 4 = INTD#, the Interrupt Pin register's value) of slot s,
 * whatever the function, goes to I/O APIC input
 *
 *     GSI = 16 + (s + p - 1) mod 8
 *
 * the eight inputs above the ISA IRQs, so no PCI line meets an ISA device
 * or the 8259s. The DSDT's _PRT under \_SB.PCI0 says the same to the OS
 * (devices/acpi_tables.c; ACPI 6.4, 6.2.13: a Source of zero means the pin
 * is hard-wired to the GSI in Source Index), and the OS programs that I/O
 * APIC input as a PCI line: level-triggered, active low (Linux 6.1's
 * drivers/acpi/pci_irq.c does so for every such entry). Slots 4-8 (the
 * disks and the NIC) get GSIs 20-23 and 16, one each; a 9th slot on would
 * share a line with an earlier one.
 *
 * PCI interrupts are level-sensitive and wire-ORed (PCI 3.0, 2.2.6): a line
 * is asserted while any function on it asserts. pci_intx_set() records each
 * function's level and drives the GSI with the OR, only when the OR changes.
 * The Interrupt Line register plays no part: it is software's scratch
 * register (PCI 3.0, 6.2.4); virtio_pci presets it to the GSI, as firmware
 * would, and a guest that rewrites it moves nothing.
 *
 * Locks: pci_intx_set() takes the wiring's lock and calls the output sink
 * (the I/O APIC) under it; devices call it with their own lock held. The
 * order is thus device, wiring, I/O APIC.
 */
#ifndef DEVICES_PCI_INTX_H
#define DEVICES_PCI_INTX_H

#include "hv/irq.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_NR_GSIS 8
#define PCI_INTX_NR_SLOTS 32
#define PCI_INTX_NR_PINS 4 /* INTA# .. INTD# */

/* The GSI of slot's pin (1-4); -1 for pin 0 (no interrupt) or out of range. */
static inline int pci_intx_gsi(unsigned slot, unsigned pin)
{
	if (slot >= PCI_INTX_NR_SLOTS || pin < 1 || pin > PCI_INTX_NR_PINS)
		return -1;
	return PCI_INTX_GSI_BASE + (int)((slot + pin - 1) % PCI_INTX_NR_GSIS);
}

struct pci_intx {
	struct irq_sink out; /* the I/O APIC: set once, before any device asserts */
	spinlock_t lock;     /* guards asserted[] */
	/* Per GSI, the functions (bit devfn) asserting their pin on it. */
	u64 asserted[PCI_INTX_NR_GSIS][256 / 64];
};

/* Zeroed (nothing asserted) with out as the output. */
void pci_intx_init(struct pci_intx *x, struct irq_sink out);
/*
 * Function devfn's pin (1-4) goes to level. The GSI follows the OR of every
 * function wired to it. A bad pin does nothing.
 */
void pci_intx_set(struct pci_intx *x, u8 devfn, u8 pin, bool level);
/*
 * A restore (docs/snapshot.md): records devfn's level without driving the
 * GSI, whose level the I/O APIC's own saved state holds.
 */
void pci_intx_restore(struct pci_intx *x, u8 devfn, u8 pin, bool level);
/* Whether the GSI is asserted by some function (tests, the monitor). */
bool pci_intx_level(struct pci_intx *x, u32 gsi);

#endif
