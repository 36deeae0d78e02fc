/* The test device's snapshot payload (docs/snapshot.md, "testdev"). */
#include "devices/testdev.h"

#include "devices/pci_intx.h"
#include "hv/snapshot.h"

/* 2 added the INTx# register; a payload of 1 loads with it clear. */
#define TESTDEV_SNAP_VERSION 2

int testdev_save(const struct testdev *d, struct snap_writer *w)
{
	struct testdev *t = (struct testdev *)d; /* the lock only */

	spin_lock(&t->lock);
	snap_put_u16(w, TESTDEV_SNAP_VERSION);
	snap_put_u32(w, t->scratch32);
	snap_put_u64(w, t->scratch64);
	snap_put_u32(w, t->writes);
	snap_put_u8(w, t->intx);
	spin_unlock(&t->lock);
	return snap_writer_error(w);
}

int testdev_load(struct testdev *d, struct snap_cursor *c)
{
	u32 scratch32, writes;
	u64 scratch64;
	u16 version = snap_get_u16(c);
	u8 intx = 0;

	if (version != 1 && version != TESTDEV_SNAP_VERSION)
		return -EINVAL;
	scratch32 = snap_get_u32(c);
	scratch64 = snap_get_u64(c);
	writes = snap_get_u32(c);
	if (version >= 2)
		intx = snap_get_u8(c);
	if (!snap_cursor_done(c))
		return -EINVAL;
	spin_lock(&d->lock);
	d->scratch32 = scratch32;
	d->scratch64 = scratch64;
	d->writes = writes;
	/* The lines' levels are in the I/O APIC's own state: record, not drive
	 * (docs/snapshot.md). */
	for (unsigned f = 0; f < 8 && d->wires; f++)
		pci_intx_restore(d->wires, (u8)(TESTDEV_INTX_SLOT << 3 | f), 1, intx & (1u << f));
	d->intx = intx;
	spin_unlock(&d->lock);
	return 0;
}
