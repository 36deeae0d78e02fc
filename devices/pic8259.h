/*
 * A pair of virtual 8259A programmable interrupt controllers, cascaded as on
 * a PC: the master at ports 0x20-0x21 takes ISA IRQs 0-7, the slave at
 * 0xa0-0xa1 takes IRQs 8-15 and drives the master's IRQ 2. The edge/level
 * control registers (ELCR, as on the PIIX and ICH south bridges) are ports
 * 0x4d0 (master) and 0x4d1 (slave), a third range.
 *
 * Lines are set through pic_set_irq() (or an irq_sink made with
 * pic_irq_sink()); the master's INT output is reported to the core through a
 * callback when it changes, and the core runs the interrupt acknowledge
 * cycle with pic_ack(), which returns the vector to inject.
 *
 * Implemented (Intel 8259A data sheet, order no. 231468): ICW1-ICW4, OCW1
 * (mask), OCW2 (non-specific and specific EOI, rotation on EOI and in
 * auto-EOI, set priority), OCW3 (read IRR/ISR, poll, special mask mode),
 * auto-EOI, special fully nested mode on the master, edge and level
 * triggering per line from the ELCR, rotating priority, spurious IRQ 7/15.
 * Not implemented: 8080/8085 mode (ICW4 bit 0 clear: the vectors are still
 * given as in 8086 mode), ICW1's LTIM (the ELCR decides edge or level, as on
 * the PIIX), buffered mode (meaningless here).
 */
#ifndef DEVICES_PIC8259_H
#define DEVICES_PIC8259_H

#include "hv/bus.h"
#include "hv/irq.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE 0xa0
#define PIC_NR_PORTS 2
#define PIC_ELCR_BASE 0x4d0
#define PIC_ELCR_NR_PORTS 2
#define PIC_NR_IRQS 16
#define PIC_CASCADE_IRQ 2
/* ELCR bits that can be set: IRQs 0, 1, 2, 8 and 13 are always edge (PIIX). */
#define PIC_ELCR_MASK_MASTER 0xf8
#define PIC_ELCR_MASK_SLAVE 0xde
/* The ELCR at reset: IRQ 9, the ACPI SCI, level-triggered as the MADT says. */
#define PIC_ELCR_DEFAULT 0x0200

#define PIC_ICW1 0x10       /* port 0, bit 4: ICW1 */
#define PIC_ICW1_IC4 0x01   /* ICW4 follows */
#define PIC_ICW1_SNGL 0x02  /* single: no ICW3 */
#define PIC_ICW1_LTIM 0x08
#define PIC_OCW3 0x08       /* port 0, bits 4-3 = 01: OCW3; 00: OCW2 */
#define PIC_OCW3_RIS 0x01   /* with RR: read ISR (else IRR) */
#define PIC_OCW3_RR 0x02
#define PIC_OCW3_P 0x04     /* poll */
#define PIC_OCW3_SMM 0x20   /* with ESMM: set special mask mode (else clear it) */
#define PIC_OCW3_ESMM 0x40
#define PIC_ICW4_8086 0x01
#define PIC_ICW4_AEOI 0x02
#define PIC_ICW4_SFNM 0x10
/* OCW2 commands (bits 7-5: R, SL, EOI). */
#define PIC_OCW2_ROTATE_AEOI_CLEAR 0
#define PIC_OCW2_EOI 1
#define PIC_OCW2_NOP 2
#define PIC_OCW2_SPECIFIC_EOI 3
#define PIC_OCW2_ROTATE_AEOI_SET 4
#define PIC_OCW2_ROTATE_EOI 5
#define PIC_OCW2_SET_PRIORITY 6
#define PIC_OCW2_ROTATE_SPECIFIC_EOI 7

struct pic8259_chip {
	u8 irr, isr, imr;
	u8 lines;            /* input levels as last set (edge detection) */
	u8 elcr, elcr_mask;  /* a set bit: that line is level-triggered */
	u8 vector_base;      /* ICW2, bits 7-3 */
	u8 icw3;
	u8 priority_add;     /* the line with the highest priority */
	u8 icw_step;         /* 0: initialised; 2, 3, 4: that ICW comes next */
	bool icw4_needed, single;
	bool auto_eoi, rotate_on_aeoi, sfnm;
	bool special_mask;
	bool read_isr;       /* OCW3: port 0 reads ISR, else IRR */
	bool poll;           /* OCW3: the next read of port 0 is a poll */
};

struct pic8259 {
	spinlock_t lock; /* guards everything below */
	struct pic8259_chip chip[2]; /* master, slave */
	/* Called under the lock when the master's INT output changes; it must
	 * not call back into the PIC (pic_ack comes later, from the core). */
	void (*int_changed)(void *ctx, bool level);
	void *int_ctx;
	bool int_level;  /* the master's INT output; written under the lock, atomically */
};

extern const struct io_ops pic_master_ops; /* PIC_MASTER_BASE, PIC_NR_PORTS */
extern const struct io_ops pic_slave_ops;  /* PIC_SLAVE_BASE, PIC_NR_PORTS */
extern const struct io_ops pic_elcr_ops;   /* PIC_ELCR_BASE, PIC_ELCR_NR_PORTS */

/* NULL when out of memory. int_changed may be NULL. Both chips start
 * uninitialised-but-usable: vectors 0x08 and 0x70 (as a PC BIOS leaves
 * them), nothing masked, ELCR PIC_ELCR_DEFAULT. */
struct pic8259 *pic_create(void (*int_changed)(void *ctx, bool level), void *ctx);
void pic_destroy(struct pic8259 *pics);

/* Snapshot (docs/snapshot.md, "Device payloads"), in pic8259_snap.c: save writes
 * the state into the writer's open section; load reads it back, refusing an
 * impossible value with -EINVAL and the device unchanged. Callbacks, clock and
 * irq sink are not state: a load keeps the device's own. */
struct snap_writer;
struct snap_cursor;
int pic_save(const struct pic8259 *d, struct snap_writer *w);
int pic_load(struct pic8259 *d, struct snap_cursor *c);
/* A reboot: both chips back to pic_create's state (the 8259A has no reset
 * pin; only ICW1 initialises it, so this is what the missing BIOS would
 * leave), INT lowered through int_changed, which stays with int_ctx. The
 * input line levels are kept: they belong to the devices driving them. */
void pic_reset(struct pic8259 *pics);

/* Sets ISA line irq (0-15; 2 is the cascade and is ignored) to level. */
void pic_set_irq(struct pic8259 *pics, u32 irq, bool level);
/* An irq_sink.set for the PIC alone (ctx: the pics); lines >= 16 are ignored. */
void pic_irq_sink_set(void *pics, u32 gsi, bool level);

/* The master's INT output. */
bool pic_int_output(struct pic8259 *pics);
/* The vector an acknowledge would give now, or -1 when INT is low. Changes nothing. */
int pic_pending_vector(struct pic8259 *pics);
/* The interrupt acknowledge cycle: sets ISR (unless auto-EOI), clears an
 * edge-triggered request, and returns the vector to inject; with nothing
 * pending, the spurious vector of IRQ 7 (or 15 when the slave had nothing). */
int pic_ack(struct pic8259 *pics);

#endif
