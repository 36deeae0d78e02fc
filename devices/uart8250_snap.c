/*
 * The 16550A's snapshot payload (docs/snapshot.md, "uart8250"): registers,
 * the receive FIFO in order, an empty output line (the UART hands out each
 * byte as it is written, so there is none to keep). The output callback and
 * the interrupt hookup are the owner's and stay; the line level is restored
 * as saved without calling the irq sink, since the interrupt controllers'
 * saved state already holds it.
 */
#include "devices/uart8250.h"

#include "hv/snapshot.h"
#include "lib/string.h"

#define UART8250_SNAP_VERSION 1

int uart8250_save(const struct uart8250 *d, struct snap_writer *w)
{
	struct uart8250 *u = (struct uart8250 *)d; /* the lock only; no state changes */

	spin_lock(&u->lock);
	snap_put_u16(w, UART8250_SNAP_VERSION);
	snap_put_u8(w, u->ier);
	snap_put_u8(w, u->lcr);
	snap_put_u8(w, u->mcr);
	snap_put_u8(w, u->scr);
	snap_put_u8(w, u->fcr);
	snap_put_u8(w, u->dll);
	snap_put_u8(w, u->dlm);
	snap_put_u8(w, u->lsr_errors);
	snap_put_u8(w, u->msr_delta);
	snap_put_bool(w, u->thr_irq);
	snap_put_bool(w, u->irq_level);
	snap_put_u8(w, (u8)u->rx_count);
	for (unsigned i = 0; i < u->rx_count; i++)
		snap_put_u8(w, u->rx[(u->rx_head + i) % UART8250_RX_FIFO]);
	snap_put_u16(w, 0); /* the output line of payload version 1: always empty now */
	spin_unlock(&u->lock);
	return snap_writer_error(w);
}

int uart8250_load(struct uart8250 *d, struct snap_cursor *c)
{
	struct uart8250 t;

	memset(&t, 0, sizeof(t));
	if (snap_get_u16(c) != UART8250_SNAP_VERSION)
		return -EINVAL;
	t.ier = snap_get_u8(c);
	t.lcr = snap_get_u8(c);
	t.mcr = snap_get_u8(c);
	t.scr = snap_get_u8(c);
	t.fcr = snap_get_u8(c);
	t.dll = snap_get_u8(c);
	t.dlm = snap_get_u8(c);
	t.lsr_errors = snap_get_u8(c);
	t.msr_delta = snap_get_u8(c);
	t.thr_irq = snap_get_bool(c);
	t.irq_level = snap_get_bool(c);
	t.rx_count = snap_get_u8(c);
	if (t.rx_count > UART8250_RX_FIFO)
		return -EINVAL;
	snap_get_bytes(c, t.rx, t.rx_count);
	/* Output is handed out byte by byte: no partial line can have been saved. */
	if (snap_get_u16(c) != 0)
		return -EINVAL;
	if (!snap_cursor_done(c) || (t.ier & ~0x0f) || (t.mcr & ~0x1f) ||
	    (t.fcr & ~(UART_FCR_ENABLE | UART_FCR_TRIGGER)) || (t.lsr_errors & ~UART_LSR_OE) ||
	    (t.msr_delta & ~0x0f))
		return -EINVAL;

	spin_lock(&d->lock);
	d->ier = t.ier;
	d->lcr = t.lcr;
	d->mcr = t.mcr;
	d->scr = t.scr;
	d->fcr = t.fcr;
	d->dll = t.dll;
	d->dlm = t.dlm;
	d->lsr_errors = t.lsr_errors;
	d->msr_delta = t.msr_delta;
	d->thr_irq = t.thr_irq;
	d->irq_level = t.irq_level;
	memcpy(d->rx, t.rx, sizeof(d->rx));
	d->rx_head = 0;
	d->rx_count = t.rx_count;
	spin_unlock(&d->lock);
	return 0;
}
