/*
 * The APIC bus's snapshot payload (docs/snapshot.md, "apic_bus"): where the
 * lowest-priority round robin starts next, and how many vLAPICs are attached
 * (each vLAPIC's state is in its vCPU's section).
 */
#include "devices/apic_bus.h"

#include "hv/snapshot.h"

#define APIC_BUS_SNAP_VERSION 1

int apic_bus_save(const struct apic_bus *d, struct snap_writer *w)
{
	snap_put_u16(w, APIC_BUS_SNAP_VERSION);
	snap_put_u32(w, d->n);
	snap_put_u32(w, __atomic_load_n(&d->rr_next, __ATOMIC_RELAXED));
	return snap_writer_error(w);
}

int apic_bus_load(struct apic_bus *d, struct snap_cursor *c)
{
	u32 n, rr_next;

	if (snap_get_u16(c) != APIC_BUS_SNAP_VERSION)
		return -EINVAL;
	n = snap_get_u32(c);
	rr_next = snap_get_u32(c);
	/* rr_next is one past the last vLAPIC chosen: at most n. */
	if (!snap_cursor_done(c) || n != d->n || rr_next > n)
		return -EINVAL;
	__atomic_store_n(&d->rr_next, rr_next, __ATOMIC_RELAXED);
	return 0;
}
