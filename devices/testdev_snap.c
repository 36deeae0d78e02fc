/* The test device's snapshot payload (docs/snapshot.md, "testdev"). */
#include "devices/testdev.h"

#include "hv/snapshot.h"

#define TESTDEV_SNAP_VERSION 1

int testdev_save(const struct testdev *d, struct snap_writer *w)
{
	struct testdev *t = (struct testdev *)d; /* the lock only */

	spin_lock(&t->lock);
	snap_put_u16(w, TESTDEV_SNAP_VERSION);
	snap_put_u32(w, t->scratch32);
	snap_put_u64(w, t->scratch64);
	snap_put_u32(w, t->writes);
	spin_unlock(&t->lock);
	return snap_writer_error(w);
}

int testdev_load(struct testdev *d, struct snap_cursor *c)
{
	u32 scratch32, writes;
	u64 scratch64;

	if (snap_get_u16(c) != TESTDEV_SNAP_VERSION)
		return -EINVAL;
	scratch32 = snap_get_u32(c);
	scratch64 = snap_get_u64(c);
	writes = snap_get_u32(c);
	if (!snap_cursor_done(c))
		return -EINVAL;
	spin_lock(&d->lock);
	d->scratch32 = scratch32;
	d->scratch64 = scratch64;
	d->writes = writes;
	spin_unlock(&d->lock);
	return 0;
}
