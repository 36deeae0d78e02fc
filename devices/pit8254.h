/*
 * A virtual Intel 8254 programmable interval timer (the PC's PIT): three
 * 16-bit counters at ports 0x40-0x42 and the control word at 0x43, clocked
 * at 1.193182 MHz.
 *
 * Nothing ticks: a counter's value and output are computed from the VM's
 * clock (now_ns) when the guest looks. Counter 0 drives an interrupt line
 * (ISA IRQ 0): the core asks pit_next_event_ns() when the next edge is due
 * and calls pit_update() at or after that time, as it does for a local APIC
 * timer. Counter 1 (DRAM refresh on the PC) counts but drives nothing.
 * Counter 2's gate and output are bits 0 and 5 of port 0x61 (system control
 * port B), a second, one-byte range with its own io_ops: pit_port61_ops.
 *
 * Implemented (8254 data sheet, Intel order no. 231164): modes 0-5, binary
 * and BCD counting, the three access modes (LSB, MSB, LSB then MSB), the
 * counter latch command and the read-back command (count and status).
 * Not modelled: the one clock between writing a count and its load into the
 * counting element (counting starts at the write), and counts of 1 in modes
 * 2 and 3 (illegal on the chip; counted as 2).
 */
#ifndef DEVICES_PIT8254_H
#define DEVICES_PIT8254_H

#include "hv/bus.h"
#include "hv/irq.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define PIT_BASE 0x40
#define PIT_NR_PORTS 4     /* counters 0-2, then the control word */
#define PIT_PORT61 0x61    /* system control port B: one byte */
#define PIT_HZ 1193182ULL  /* the input clock, 14.31818 MHz / 12 */
#define PIT_IRQ 0          /* counter 0's line (ISA IRQ 0) */
#define PIT_NO_EVENT (~0ULL)

#define PIT_CONTROL 3 /* the control word register, by offset */

/* Control word (data sheet, "Control Word Format"). */
#define PIT_CW_SC(v) (((v) >> 6) & 3)  /* select counter; 3: read-back command */
#define PIT_CW_RW(v) (((v) >> 4) & 3)  /* access mode; 0: counter latch command */
#define PIT_CW_M(v) (((v) >> 1) & 7)   /* mode; 6 and 7 are 2 and 3 */
#define PIT_CW_BCD 0x01
#define PIT_SC_READBACK 3
#define PIT_RW_LATCH 0
#define PIT_RW_LSB 1
#define PIT_RW_MSB 2
#define PIT_RW_WORD 3                  /* LSB then MSB */
/* Read-back command: bits 3-1 select counters 2-0; these are active low. */
#define PIT_RB_NOT_COUNT 0x20
#define PIT_RB_NOT_STATUS 0x10
/* Status byte: bits 5-0 are the control word's. */
#define PIT_STATUS_OUT 0x80
#define PIT_STATUS_NULL 0x40

/* Port 0x61 (PC/AT system control port B). */
#define PORT61_GATE2 0x01   /* counter 2's gate */
#define PORT61_SPKR 0x02    /* speaker data enable (kept, no sound) */
#define PORT61_RW_MASK 0x0f /* bits 3-0 read back as written */
#define PORT61_REFRESH 0x10 /* toggles every 15.085 us (read-only) */
#define PORT61_OUT2 0x20    /* counter 2's output (read-only) */

struct pit_counter {
	u8 mode;          /* 0-5 */
	u8 rw;            /* PIT_RW_LSB, _MSB or _WORD */
	bool bcd;
	bool gate;        /* always high for counters 0 and 1 */

	/* Writing the count register. */
	u8 cr_lsb;        /* PIT_RW_WORD: the LSB already written */
	bool write_msb;   /* PIT_RW_WORD: the next byte written is the MSB */
	bool read_msb;    /* PIT_RW_WORD: the next byte read is the MSB */
	bool null_count;  /* a count written and not yet loaded (status bit 6) */
	bool have_count;  /* a count written since the control word */
	u32 cr;           /* that count in input clocks: 1..65536 (BCD: 1..10000) */

	/* The counting element (CE). */
	bool loaded;      /* it holds a count and the mode's sequence runs */
	bool paused;      /* gate low stops counting (modes 0, 2, 3, 4) */
	u32 n;            /* the count it was loaded with, in input clocks */
	u64 start_ns;     /* when it (re)started counting */
	u64 base;         /* clocks counted before start_ns (a gate pause) */
	u32 hold;         /* its value while not loaded */
	bool pending;     /* modes 2, 3: cr loads at pending_ns, the period's end */
	u64 pending_ns;

	/* Latches. */
	bool count_latched;
	bool latch_msb;   /* PIT_RW_WORD: the LSB of the latch has been read */
	u16 latch;
	bool status_latched;
	u8 status;

	/* Interrupt bookkeeping (counter 0): edges up to irq_after_ns are done. */
	u64 irq_after_ns;
	bool fired;       /* the one edge of modes 0, 1, 4, 5 has been raised */
};

struct pit8254 {
	spinlock_t lock; /* guards everything below; vCPUs of one VM share the device */

	u64 (*now_ns)(void *ctx); /* the VM's monotonic clock */
	void *clock_ctx;
	struct irq_sink irq;      /* counter 0's output */
	u32 irq_line;             /* PIT_IRQ */
	/* Called after the guest wrote counter 0 or the control word, so the next
	 * event may have moved; under the lock (must not call back into the PIT). */
	void (*reprogrammed)(void *ctx);
	void *reprogrammed_ctx;

	struct pit_counter c[3];
	u8 port61;                /* bits 3-0 as written */
	u64 irqs;                 /* edges raised on the line */
};

extern const struct io_ops pit_ops;        /* PIT_BASE, PIT_NR_PORTS ports */
extern const struct io_ops pit_port61_ops; /* PIT_PORT61, one port, same device */

/* NULL when out of memory. irq may be NULL (no interrupt); it is copied. The
 * counters start unprogrammed (there is no BIOS): nothing counts until the
 * guest writes a control word and a count. */
struct pit8254 *pit_create(u64 (*now_ns)(void *ctx), void *clock_ctx, const struct irq_sink *irq);
void pit_destroy(struct pit8254 *pit);

/* Snapshot (docs/snapshot.md, "Device payloads"), in pit8254_snap.c: save writes
 * the state into the writer's open section; load reads it back, refusing an
 * impossible value with -EINVAL and the device unchanged. Callbacks, clock and
 * irq sink are not state: a load keeps the device's own. */
struct snap_writer;
struct snap_cursor;
int pit_save(const struct pit8254 *d, struct snap_writer *w);
int pit_load(struct pit8254 *d, struct snap_cursor *c);
/* A reboot: counters, port 0x61 and the edge count as created (the 8254 has
 * no reset pin: undefined until programmed). The clock, the line and the
 * reprogrammed callback (called: the event is gone) are the owner's and stay.
 * Nothing to lower: an edge is a pulse that ends low. */
void pit_reset(struct pit8254 *pit);
void pit_set_reprogrammed(struct pit8254 *pit, void (*fn)(void *ctx), void *ctx);

/* When counter 0's output next rises and an edge is due on the line: an
 * absolute time on the now_ns clock (possibly already past), or PIT_NO_EVENT. */
u64 pit_next_event_ns(struct pit8254 *pit);
/* Raises the line for an edge due at or before now. Several periods missed
 * give one edge, as an 8259's IRR holds one request per line. */
void pit_update(struct pit8254 *pit, u64 now);

#endif
