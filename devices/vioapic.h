/*
 * A virtual I/O APIC after the Intel 82093AA data sheet: 24 pins, each with
 * a redirection entry that turns the pin into an interrupt message for the
 * VM's APIC bus. MMIO at 0xfec00000: IOREGSEL at +0x00 selects a register,
 * IOWIN at +0x10 reads or writes it, 32 bits at a time.
 *
 * Pins take the level a device sets through include/hv/irq.h (true means
 * asserted; the polarity bit is kept for the guest but not applied, since a
 * device reports assertion, not voltage, as KVM and QEMU also do):
 *  - edge-triggered: a message on each rise while unmasked; a rise while
 *    masked is lost (data sheet, "Interrupt Mask");
 *  - level-triggered: a message while asserted, unmasked and Remote IRR
 *    clear; Remote IRR is set once a vLAPIC accepted it and cleared by the
 *    EOI broadcast of its vector (vioapic_eoi), which delivers again if the
 *    pin is still asserted. Unmasking an asserted pin delivers too.
 */
#ifndef DEVICES_VIOAPIC_H
#define DEVICES_VIOAPIC_H

#include "hv/bus.h"
#include "hv/spinlock.h"
#include "hv/types.h"

struct apic_bus;

#define VIOAPIC_BASE 0xfec00000ULL
#define VIOAPIC_MMIO_SIZE 0x20  /* IOREGSEL and IOWIN; the page's rest is unclaimed */
#define VIOAPIC_NR_PINS 24

/* MMIO offsets and register indices (data sheet, "Register Description"). */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10   /* entry n: low dword 0x10 + 2n, high dword 0x11 + 2n */

#define VIOAPIC_VERSION 0x11     /* the 82093AA's */

/* Redirection entry bits. */
#define IOAPIC_RTE_VECTOR 0xffULL
#define IOAPIC_RTE_DM_SHIFT 8
#define IOAPIC_RTE_DEST_LOGICAL (1ULL << 11)
#define IOAPIC_RTE_DELIVS (1ULL << 12)   /* delivery status, read-only */
#define IOAPIC_RTE_POLARITY_LOW (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14) /* read-only */
#define IOAPIC_RTE_LEVEL (1ULL << 15)
#define IOAPIC_RTE_MASKED (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

struct vioapic {
	struct apic_bus *bus; /* set at creation */

	/* Guards every field below. Held while messages go to the bus, so the
	 * lock order is: a device's lock, then this, then a vLAPIC's. */
	spinlock_t lock;
	u32 id;        /* ID register: the ID in bits 27:24 */
	u32 regsel;    /* IOREGSEL */
	u32 level;     /* the pins' levels, bit n for pin n */
	u64 rte[VIOAPIC_NR_PINS];
};

/* Reset state: all entries masked, ID id. NULL when out of memory. */
struct vioapic *vioapic_create(struct apic_bus *bus, u8 id);
void vioapic_destroy(struct vioapic *ioapic);

/* Snapshot (docs/snapshot.md, "Device payloads"), in vioapic_snap.c: save writes
 * the state into the writer's open section; load reads it back, refusing an
 * impossible value with -EINVAL and the device unchanged. Callbacks, clock and
 * irq sink are not state: a load keeps the device's own. */
struct snap_writer;
struct snap_cursor;
int vioapic_save(const struct vioapic *d, struct snap_writer *w);
int vioapic_load(struct vioapic *d, struct snap_cursor *c);
void vioapic_reset(struct vioapic *ioapic);

extern const struct io_ops vioapic_mmio_ops;

/* A pin's level (pins past 23 are ignored). */
void vioapic_set_line(struct vioapic *ioapic, u32 pin, bool level);
/* The same, shaped as struct irq_sink's set: { vioapic_irq_set, ioapic }. */
void vioapic_irq_set(void *ioapic, u32 gsi, bool level);

/* A vLAPIC retired a level-triggered vector: clear Remote IRR of the
 * level-triggered entries with that vector, and deliver again the ones
 * whose pin is still asserted. */
void vioapic_eoi(struct vioapic *ioapic, u8 vector);

#endif
