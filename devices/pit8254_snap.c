/*
 * The 8254's snapshot payload (docs/snapshot.md, "pit8254"): each counter's
 * programming, counting element, latches and interrupt bookkeeping, port
 * 0x61 and the edge count. Times are on the VM's own clock (guest
 * nanoseconds), which a restore continues, so they are saved as they are and
 * a counter reads on from where it was. The clock, the irq sink and the
 * reprogrammed callback stay the device's own.
 */
#include "devices/pit8254.h"

#include "hv/snapshot.h"
#include "lib/string.h"

#define PIT_SNAP_VERSION 1
#define PIT_MAX_COUNT 65536 /* a written 0 counts 65536 */

static void save_counter(const struct pit_counter *p, struct snap_writer *w)
{
	snap_put_u8(w, p->mode);
	snap_put_u8(w, p->rw);
	snap_put_bool(w, p->bcd);
	snap_put_bool(w, p->gate);
	snap_put_u8(w, p->cr_lsb);
	snap_put_bool(w, p->write_msb);
	snap_put_bool(w, p->read_msb);
	snap_put_bool(w, p->null_count);
	snap_put_bool(w, p->have_count);
	snap_put_u32(w, p->cr);
	snap_put_bool(w, p->loaded);
	snap_put_bool(w, p->paused);
	snap_put_u32(w, p->n);
	snap_put_u64(w, p->start_ns);
	snap_put_u64(w, p->base);
	snap_put_u32(w, p->hold);
	snap_put_bool(w, p->pending);
	snap_put_u64(w, p->pending_ns);
	snap_put_bool(w, p->count_latched);
	snap_put_bool(w, p->latch_msb);
	snap_put_u16(w, p->latch);
	snap_put_bool(w, p->status_latched);
	snap_put_u8(w, p->status);
	snap_put_u64(w, p->irq_after_ns);
	snap_put_bool(w, p->fired);
}

static void load_counter(struct pit_counter *p, struct snap_cursor *c)
{
	p->mode = snap_get_u8(c);
	p->rw = snap_get_u8(c);
	p->bcd = snap_get_bool(c);
	p->gate = snap_get_bool(c);
	p->cr_lsb = snap_get_u8(c);
	p->write_msb = snap_get_bool(c);
	p->read_msb = snap_get_bool(c);
	p->null_count = snap_get_bool(c);
	p->have_count = snap_get_bool(c);
	p->cr = snap_get_u32(c);
	p->loaded = snap_get_bool(c);
	p->paused = snap_get_bool(c);
	p->n = snap_get_u32(c);
	p->start_ns = snap_get_u64(c);
	p->base = snap_get_u64(c);
	p->hold = snap_get_u32(c);
	p->pending = snap_get_bool(c);
	p->pending_ns = snap_get_u64(c);
	p->count_latched = snap_get_bool(c);
	p->latch_msb = snap_get_bool(c);
	p->latch = snap_get_u16(c);
	p->status_latched = snap_get_bool(c);
	p->status = snap_get_u8(c);
	p->irq_after_ns = snap_get_u64(c);
	p->fired = snap_get_bool(c);
}

/* What the device's arithmetic relies on: a loaded counter divides by n. */
static bool counter_ok(const struct pit_counter *p, unsigned i, u8 port61)
{
	bool periodic = p->mode == 2 || p->mode == 3;

	if (p->mode > 5 || p->rw < PIT_RW_LSB || p->rw > PIT_RW_WORD || p->cr > PIT_MAX_COUNT ||
	    p->hold >= PIT_MAX_COUNT || p->n > PIT_MAX_COUNT)
		return false;
	if (p->loaded && (p->n < (periodic ? 2u : 1u)))
		return false;
	/* Counters 0 and 1 have their gate tied high; counter 2's is port 0x61 bit 0. */
	return i == 2 ? p->gate == !!(port61 & PORT61_GATE2) : p->gate;
}

int pit_save(const struct pit8254 *d, struct snap_writer *w)
{
	struct pit8254 *pit = (struct pit8254 *)d; /* the lock only */

	spin_lock(&pit->lock);
	snap_put_u16(w, PIT_SNAP_VERSION);
	for (unsigned i = 0; i < 3; i++)
		save_counter(&pit->c[i], w);
	snap_put_u8(w, pit->port61);
	snap_put_u64(w, pit->irqs);
	spin_unlock(&pit->lock);
	return snap_writer_error(w);
}

int pit_load(struct pit8254 *d, struct snap_cursor *c)
{
	struct pit_counter ctr[3];
	u8 port61;
	u64 irqs;

	memset(ctr, 0, sizeof(ctr)); /* padding too: the struct is copied whole */
	if (snap_get_u16(c) != PIT_SNAP_VERSION)
		return -EINVAL;
	for (unsigned i = 0; i < 3; i++)
		load_counter(&ctr[i], c);
	port61 = snap_get_u8(c);
	irqs = snap_get_u64(c);
	if (!snap_cursor_done(c) || (port61 & ~PORT61_RW_MASK))
		return -EINVAL;
	for (unsigned i = 0; i < 3; i++)
		if (!counter_ok(&ctr[i], i, port61))
			return -EINVAL;
	spin_lock(&d->lock);
	for (unsigned i = 0; i < 3; i++)
		d->c[i] = ctr[i];
	d->port61 = port61;
	d->irqs = irqs;
	/* Counter 0's next event moved: the owner re-reads it. */
	if (d->reprogrammed)
		d->reprogrammed(d->reprogrammed_ctx);
	spin_unlock(&d->lock);
	return 0;
}
