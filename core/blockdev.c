/*
 * The registry of block devices and the one check that confines a request
 * to its device or partition (include/hv/blockdev.h).
 */
#include "hv/blockdev.h"
#include "hv/mm.h"
#include "hv/spinlock.h"
#include "lib/string.h"

static struct blockdev *devices;
static spinlock_t devices_lock;

int blockdev_register(struct blockdev *bd)
{
	int ret = 0;

	spin_lock(&devices_lock);
	for (struct blockdev *o = devices; o; o = o->next)
		if (!strcmp(o->name, bd->name))
			ret = -EEXIST;
	if (!ret) {
		bd->next = devices;
		devices = bd;
	}
	spin_unlock(&devices_lock);
	return ret;
}

struct blockdev *blockdev_find(const char *name)
{
	struct blockdev *bd;

	spin_lock(&devices_lock);
	for (bd = devices; bd && strcmp(bd->name, name); bd = bd->next)
		;
	spin_unlock(&devices_lock);
	return bd;
}

/* Devices are never unregistered, so the list may be walked unlocked once
 * its head is read. */
void blockdev_foreach(void (*fn)(struct blockdev *bd, void *ctx), void *ctx)
{
	spin_lock(&devices_lock);
	struct blockdev *bd = devices;
	spin_unlock(&devices_lock);
	for (; bd; bd = bd->next)
		fn(bd, ctx);
}

int blockdev_submit(struct blockdev *bd, struct blk_req *r)
{
	u64 bytes = 0;

	if (r->op == BLK_WRITE || r->op == BLK_DISCARD) {
		if (bd->read_only)
			return -EROFS;
	}
	if (r->op != BLK_FLUSH) {
		/* sector + count <= size, without overflow */
		if (r->nr_sectors == 0 || r->sector > bd->nr_sectors ||
		    r->nr_sectors > bd->nr_sectors - r->sector)
			return -EINVAL;
	}
	if (r->op == BLK_READ || r->op == BLK_WRITE) {
		if (r->nr_segs == 0 || r->nr_segs > BLK_MAX_SEGS)
			return -EINVAL;
		for (unsigned i = 0; i < r->nr_segs; i++)
			bytes += r->seg[i].len;
		if (bytes != (u64)r->nr_sectors * BLK_SECTOR)
			return -EINVAL;
	}
	/* A partition's sectors are its parent's, shifted; the parent's own
	 * check then holds too. */
	while (bd->parent) {
		if (r->op != BLK_FLUSH)
			r->sector += bd->first_sector;
		bd = bd->parent;
	}
	return bd->ops->submit(bd, r);
}

struct blockdev *blockdev_add_partition(struct blockdev *parent, const char *name, u64 first,
					u64 count)
{
	struct blockdev *p;

	if (first > parent->nr_sectors || count > parent->nr_sectors - first || count == 0 ||
	    strlen(name) >= sizeof(p->name))
		return NULL;
	p = kzalloc(sizeof(*p));
	if (!p)
		return NULL;
	strlcpy(p->name, name, sizeof(p->name));
	p->nr_sectors = count;
	p->read_only = parent->read_only;
	p->parent = parent;
	p->first_sector = first;
	p->ops = parent->ops;
	if (blockdev_register(p)) {
		kfree(p);
		return NULL;
	}
	return p;
}
