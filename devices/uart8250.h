/*
 * A virtual 16550A UART: the guest's serial console (COM1, ports 0x3f8-0x3ff).
 *
 * Output never blocks: the transmitter is always empty (LSR.THRE|TEMT), and
 * every byte the guest writes is handed at once to an output callback, as it
 * comes (the console decides about lines: core/vm_console.c). Input is queued
 * by the hypervisor with uart8250_rx_push(), or pulled from its own queue
 * through rx_refill whenever the receive FIFO has room, and read by the guest
 * from RBR.
 */
#ifndef DEVICES_UART8250_H
#define DEVICES_UART8250_H

#include "hv/bus.h"
#include "hv/spinlock.h"
#include "hv/types.h"
#include "hv/irq.h"

#define UART8250_COM1_BASE 0x3f8
#define UART8250_NR_PORTS 8
#define UART8250_RX_FIFO 16   /* the 16550A's receive FIFO depth */

/* Registers, by offset (16550A data sheet; "DLAB" is LCR bit 7). */
#define UART_RBR 0 /* read: receive buffer; write: THR, transmit holding */
#define UART_THR 0
#define UART_DLL 0 /* with DLAB: divisor latch, low byte */
#define UART_IER 1
#define UART_DLM 1 /* with DLAB: divisor latch, high byte */
#define UART_IIR 2 /* read: interrupt identification */
#define UART_FCR 2 /* write: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01  /* received data available */
#define UART_IER_THRI 0x02 /* transmitter holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI 0x08  /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_FIFO 0xc0 /* both bits set when the FIFOs are enabled */

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_TRIGGER 0xc0

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* on a PC, gates the interrupt line */
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01   /* data ready */
#define UART_LSR_OE 0x02   /* overrun: a received byte was lost */
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

/* Receives guest output, byte for byte as written (s is not NUL-terminated). */
typedef void (*uart8250_out_fn)(void *ctx, const char *s, size_t n);

struct uart8250 {
	spinlock_t lock; /* guards everything below; vCPUs of one VM share the device */

	uart8250_out_fn out;
	void *out_ctx;

	/*
	 * The interrupt line (gsi 4 for COM1), set through the sink each time
	 * its level changes, under the device's lock (so the sink must not call
	 * back into the UART); a zeroed sink: not wired. The level is high while
	 * IER enables a pending condition and MCR.OUT2 is set, as on a PC.
	 */
	struct irq_sink irq; /* the line it drives, as every device does (hv/irq.h) */
	u32 gsi;
	bool irq_level;

	/*
	 * The owner's input queue: returns its next byte, or -1 when empty.
	 * Called under the device's lock (so it must not call back into the
	 * UART) whenever the receive FIFO has room: after the guest reads RBR
	 * and from uart8250_rx_refill(). Not while in loopback, where the chip
	 * cuts the serial input off. NULL: none.
	 */
	int (*rx_refill)(void *refill_ctx);
	void *refill_ctx;

	u8 ier, lcr, mcr, scr;
	u8 fcr;           /* FIFO enable and trigger bits as last written */
	u8 dll, dlm;      /* divisor latch */
	u8 lsr_errors;    /* LSR.OE, until LSR is read */
	u8 msr_delta;     /* MSR bits 0-3, until MSR is read */
	bool thr_irq;     /* a THRE interrupt is pending (cleared by reading IIR or writing THR) */

	u8 rx[UART8250_RX_FIFO];
	unsigned rx_head, rx_count;
};

extern const struct io_ops uart8250_ops;

/* NULL when out of memory. out may be NULL (output is then discarded). */
struct uart8250 *uart8250_create(uart8250_out_fn out, void *ctx);
void uart8250_destroy(struct uart8250 *uart);

/* Snapshot (docs/snapshot.md, "Device payloads"), in uart8250_snap.c: save writes
 * the state into the writer's open section; load reads it back, refusing an
 * impossible value with -EINVAL and the device unchanged. Callbacks, clock and
 * irq sink are not state: a load keeps the device's own. */
struct snap_writer;
struct snap_cursor;
int uart8250_save(const struct uart8250 *d, struct snap_writer *w);
int uart8250_load(struct uart8250 *d, struct snap_cursor *c);

/* A reboot: registers as created (SCR and divisor
 * too, which the chip's master reset leaves alone: a fresh VM's), receive
 * FIFO emptied (input pending is lost, as on the chip), a raised line
 * lowered. out, the irq sink and their contexts are the owner's and stay. */
void uart8250_reset(struct uart8250 *uart);

/* Queues a byte for the guest to read. -ENOSPC when the FIFO is full: the
 * byte is dropped and, as on the chip, LSR.OE reports the overrun. */
int uart8250_rx_push(struct uart8250 *uart, u8 byte);
/* Fills the receive FIFO from rx_refill while it has room (raising the
 * interrupt line if the guest enabled it): the owner queued input. Does
 * nothing if the device's lock is held: call again later (the tick does). */
void uart8250_rx_refill(struct uart8250 *uart);

#endif
