/*
 * The one interface between block devices and their users (issue 10): the
 * machine's disks through utsuwa's drivers (drivers/nvme.c, the virtio-blk
 * PCI driver), their GPT partitions, and RAM disks made from boot modules
 * on one side; the VMs' virtio-blk devices (devices/virtio_blk.c) on the
 * other. Another driver (AHCI) is added by implementing blockdev_ops alone.
 *
 * Requests are asynchronous: submit queues one and returns; done() is
 * called once, later, from any CPU and possibly in interrupt context (a
 * driver's MSI handler), or before submit returns (a RAM disk). Data moves
 * between the device and host memory given as segments; the hypervisor's
 * memory is identity-mapped, so a segment's address is also what a
 * driver hands its device for DMA.
 */
#ifndef HV_BLOCKDEV_H
#define HV_BLOCKDEV_H

#include "hv/types.h"

#define BLK_SECTOR 512 /* the unit of every sector number and count here */

enum blk_op {
	BLK_READ,    /* device to the segments */
	BLK_WRITE,   /* segments to the device */
	BLK_FLUSH,   /* done once everything written before is on stable storage */
	BLK_DISCARD, /* the range's contents may be dropped (optional: -ENOTSUP) */
};

struct blk_seg {
	void *buf; /* host memory, identity-mapped (= its physical address) */
	u32 len;   /* bytes; the segments' sum is nr_sectors * BLK_SECTOR */
};

#define BLK_MAX_SEGS 64

struct blk_req {
	enum blk_op op;
	u64 sector;     /* first sector, relative to the blockdev */
	u32 nr_sectors; /* 0 for BLK_FLUSH */
	u16 nr_segs;
	struct blk_seg seg[BLK_MAX_SEGS];
	/* status: 0, or -EIO (the device failed), -EINVAL (outside the
	 * device: never sent to it), -EROFS, -ENOTSUP. */
	void (*done)(struct blk_req *r, int status);
	void *ctx;        /* the submitter's */
	void *drv;        /* the driver's, while the request is in flight */
	struct blk_req *next; /* the driver's queue link, while in flight */
};

struct blockdev;

struct blockdev_ops {
	/* Queues r. 0 if queued (done() will be called), or an error, in
	 * which case done() is not called. */
	int (*submit)(struct blockdev *bd, struct blk_req *r);
};

struct blockdev {
	char name[40];   /* "nvme0", "vblk0", "gpt:data", "module:disk.img" */
	u64 nr_sectors;  /* size, in BLK_SECTOR units */
	bool read_only;
	const struct blockdev_ops *ops;
	void *priv;
	/* A partition is a window on its parent (core/blockdev.c). */
	struct blockdev *parent;
	u64 first_sector;
	const char *user; /* the VM that writes it, if any (one writer) */
	struct blockdev *next;
};

/* The registry of block devices (core/blockdev.c). */
int blockdev_register(struct blockdev *bd);
struct blockdev *blockdev_find(const char *name);
void blockdev_foreach(void (*fn)(struct blockdev *bd, void *ctx), void *ctx);

/*
 * Submits r to bd: checks the range against bd's size and read_only (the
 * one place where a request is confined to its device or partition) and
 * translates a partition's sectors to its parent's (r->sector is the
 * disk's afterwards). 0, or -EINVAL, -EROFS (done() not called), or what
 * the driver's submit returns.
 */
int blockdev_submit(struct blockdev *bd, struct blk_req *r);

/* A partition [first, first + count) of parent, registered under name. */
struct blockdev *blockdev_add_partition(struct blockdev *parent, const char *name, u64 first,
					u64 count);

#endif
