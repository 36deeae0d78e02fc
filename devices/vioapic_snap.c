/*
 * The I/O APIC's snapshot payload (docs/snapshot.md, "vioapic"): ID,
 * IOREGSEL, the pins' levels and the 24 redirection entries with their
 * Remote IRR. The APIC bus it delivers to is the VM's wiring and stays.
 */
#include "devices/vioapic.h"

#include "hv/snapshot.h"

#define VIOAPIC_SNAP_VERSION 1
#define VIOAPIC_ID_MASK 0x0f000000u /* bits 27:24 */
/* The bits an entry can hold: the writable ones and Remote IRR (never
 * delivery status, which reads 0 here). */
#define VIOAPIC_RTE_BITS (0xff00000000000000ULL | (0x1ffffULL & ~IOAPIC_RTE_DELIVS))

int vioapic_save(const struct vioapic *d, struct snap_writer *w)
{
	struct vioapic *io = (struct vioapic *)d; /* the lock only */

	spin_lock(&io->lock);
	snap_put_u16(w, VIOAPIC_SNAP_VERSION);
	snap_put_u32(w, io->id);
	snap_put_u32(w, io->regsel);
	snap_put_u32(w, io->level);
	snap_put_u8(w, VIOAPIC_NR_PINS);
	for (unsigned i = 0; i < VIOAPIC_NR_PINS; i++)
		snap_put_u64(w, io->rte[i]);
	spin_unlock(&io->lock);
	return snap_writer_error(w);
}

int vioapic_load(struct vioapic *d, struct snap_cursor *c)
{
	u64 rte[VIOAPIC_NR_PINS];
	u32 id, regsel, level;
	bool ok;

	if (snap_get_u16(c) != VIOAPIC_SNAP_VERSION)
		return -EINVAL;
	id = snap_get_u32(c);
	regsel = snap_get_u32(c);
	level = snap_get_u32(c);
	if (snap_get_u8(c) != VIOAPIC_NR_PINS)
		return -EINVAL;
	ok = !(id & ~VIOAPIC_ID_MASK) && regsel <= 0xff && !(level >> VIOAPIC_NR_PINS);
	for (unsigned i = 0; i < VIOAPIC_NR_PINS; i++) {
		rte[i] = snap_get_u64(c);
		if (rte[i] & ~VIOAPIC_RTE_BITS)
			ok = false;
		/* Remote IRR means nothing for an edge-triggered entry. */
		if ((rte[i] & IOAPIC_RTE_REMOTE_IRR) && !(rte[i] & IOAPIC_RTE_LEVEL))
			ok = false;
	}
	if (!ok || !snap_cursor_done(c))
		return -EINVAL;
	spin_lock(&d->lock);
	d->id = id;
	d->regsel = regsel;
	d->level = level;
	for (unsigned i = 0; i < VIOAPIC_NR_PINS; i++)
		d->rte[i] = rte[i];
	spin_unlock(&d->lock);
	return 0;
}
