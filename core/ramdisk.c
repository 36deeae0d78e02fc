/*
 * RAM disks from boot modules (include/hv/ramdisk.h). The copy is held in
 * 2 MiB pieces, so a large module needs no large contiguous run of memory.
 */
#include "hv/ramdisk.h"
#include "hv/bootinfo.h"
#include "hv/image_store.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/snapshot.h"
#include "lib/string.h"

#define PIECE SZ_2M

struct ramdisk {
	struct blockdev bd;
	u64 nr_pieces;
	u64 piece[]; /* physical addresses, identity-mapped */
};

/* Copies n bytes between the disk at byte offset pos and host memory p. */
static void copy(struct ramdisk *rd, u64 pos, u8 *p, u64 n, bool to_disk)
{
	while (n) {
		u8 *d = (u8 *)(uintptr_t)rd->piece[pos / PIECE] + pos % PIECE;
		u64 k = MIN(n, PIECE - pos % PIECE);

		if (to_disk)
			memcpy(d, p, k);
		else
			memcpy(p, d, k);
		pos += k;
		p += k;
		n -= k;
	}
}

/* blockdev_submit has checked the range and the segments' sum. */
static int ramdisk_submit(struct blockdev *bd, struct blk_req *r)
{
	struct ramdisk *rd = (struct ramdisk *)bd;
	u64 pos = r->sector * BLK_SECTOR;

	switch (r->op) {
	case BLK_READ:
	case BLK_WRITE:
		for (unsigned i = 0; i < r->nr_segs; i++) {
			copy(rd, pos, r->seg[i].buf, r->seg[i].len, r->op == BLK_WRITE);
			pos += r->seg[i].len;
		}
		break;
	case BLK_FLUSH:
		break; /* memory is as stable as a RAM disk gets */
	default:
		return -ENOTSUP;
	}
	r->done(r, 0);
	return 0;
}

static const struct blockdev_ops ramdisk_ops = { .submit = ramdisk_submit };

struct blockdev *ramdisk_create(const struct boot_info *bi, const char *name, const char *vm)
{
	const struct boot_module *mod = image_find(bi, name);
	struct ramdisk *rd;
	u64 size, n;

	if (!mod) {
		kprintf("utsuwa: vm '%s': disk 'module:%s': no boot module or stored image of that name\n", vm, name);
		return NULL;
	}
	size = ALIGN_DOWN(mod->end - mod->start, BLK_SECTOR);
	if (!size) {
		kprintf("utsuwa: vm '%s': disk 'module:%s': smaller than a sector\n", vm, name);
		return NULL;
	}
	n = (size + PIECE - 1) / PIECE;
	rd = kzalloc(sizeof(*rd) + n * sizeof(rd->piece[0]));
	if (!rd)
		goto nomem;
	rd->nr_pieces = n;
	for (u64 i = 0; i < n; i++) {
		rd->piece[i] = page_alloc(PIECE / PAGE_SIZE, PAGE_SIZE);
		if (!rd->piece[i])
			goto nomem;
	}
	copy(rd, 0, (u8 *)(uintptr_t)mod->start, size, true);
	strlcpy(rd->bd.name, "module:", sizeof(rd->bd.name));
	strlcpy(rd->bd.name + 7, name, sizeof(rd->bd.name) - 7);
	rd->bd.nr_sectors = size / BLK_SECTOR;
	rd->bd.ops = &ramdisk_ops;
	rd->bd.priv = rd;
	return &rd->bd;
nomem:
	kprintf("utsuwa: vm '%s': disk 'module:%s': not enough memory for %lu MiB\n", vm, name,
		(unsigned long)(size >> 20));
	if (rd)
		ramdisk_destroy(&rd->bd);
	return NULL;
}

void ramdisk_destroy(struct blockdev *bd)
{
	struct ramdisk *rd = (struct ramdisk *)bd;

	for (u64 i = 0; i < rd->nr_pieces; i++)
		if (rd->piece[i])
			page_free(rd->piece[i], PIECE / PAGE_SIZE);
	kfree(rd);
}

void ramdisk_save(const struct blockdev *bd, struct snap_writer *w)
{
	const struct ramdisk *rd = (const struct ramdisk *)bd;
	u64 size = bd->nr_sectors * BLK_SECTOR;

	snap_put_u64(w, size);
	for (u64 pos = 0; pos < size; pos += PIECE)
		snap_put_bytes(w, (const void *)(uintptr_t)rd->piece[pos / PIECE],
			       MIN(PIECE, size - pos));
}

int ramdisk_load(struct blockdev *bd, struct snap_cursor *c)
{
	struct ramdisk *rd = (struct ramdisk *)bd;
	u64 size = bd->nr_sectors * BLK_SECTOR;

	/* The new VM's disk comes from the same module, so it has the size the
	 * saved one had; anything else is not this disk's snapshot. */
	if (snap_get_u64(c) != size)
		return -EINVAL;
	for (u64 pos = 0; pos < size; pos += PIECE)
		snap_get_bytes(c, (void *)(uintptr_t)rd->piece[pos / PIECE], MIN(PIECE, size - pos));
	return 0;
}
