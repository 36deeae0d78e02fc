/*
 * The virtio-blk driver's core (drivers/virtio_blk.c) for the machine's own
 * virtio disk (QEMU's virtio-blk-pci, clouds with nested virtualization):
 * one split virtqueue (virtio 1.2, 2.7; drivers/virtio_drv.c) completing by
 * MSI-X, block requests by 5.2.6. Transport-independent and
 * host-testable: drivers/virtio_blk_pci.c finds the device's structures
 * (4.1.4) and hands their addresses here.
 */
#ifndef DRIVERS_VIRTIO_BLK_H
#define DRIVERS_VIRTIO_BLK_H

#include "drivers/virtio_drv.h"
#include "hv/blockdev.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define VBLK_QUEUE_MAX 128

/* The request header and status byte, one per possible chain head (5.2.6). */
struct vblk_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
	u8 status;
	u8 pad[15];
};

struct vblk {
	struct vdrv t;          /* the transport's structures (virtio_blk_pci.c sets them) */
	u16 msix_entry;         /* the MSI-X table entry of the queue */

	/* Found at start. */
	u64 capacity;           /* sectors */
	bool read_only, can_flush;
	u32 seg_max;            /* data descriptors per request */

	spinlock_t lock;        /* everything below; taken with interrupts off */
	struct vdrv_queue q;    /* the request queue (5.2.2) */
	struct vblk_hdr *hdr;   /* hdr[head] */
	struct blk_req **req;   /* req[head] */
	struct blk_req *waiting, **waiting_tail;
	bool started;
	u64 completions;
};

/* Resets the device, negotiates features, sets up the queue on MSI-X entry
 * v->msix_entry and starts it. 0, or a negative errno after a line. */
int vblk_start(struct vblk *v);
int vblk_submit(struct blockdev *bd, struct blk_req *r);
void vblk_irq(void *vblk);

#endif
