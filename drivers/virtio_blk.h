/*
 * The virtio-blk driver's core (drivers/virtio_blk.c) for the machine's own
 * virtio disk (QEMU's virtio-blk-pci, clouds with nested virtualization):
 * device initialization by virtio 1.2, 3.1.1, one split virtqueue (2.7)
 * completing by MSI-X, block requests by 5.2.6. Transport-independent and
 * host-testable: drivers/virtio_blk_pci.c finds the device's structures
 * (4.1.4) and hands their addresses here.
 */
#ifndef DRIVERS_VIRTIO_BLK_H
#define DRIVERS_VIRTIO_BLK_H

#include "hv/blockdev.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define VBLK_QUEUE_MAX 128

struct virtq_desc { /* 2.7.5 */
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtio 1.2, 2.7.5: 16-byte descriptors");

struct virtq_used_elem { /* 2.7.8 */
	u32 id;
	u32 len;
};

/* The request header and status byte, one per possible chain head (5.2.6). */
struct vblk_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
	u8 status;
	u8 pad[15];
};

struct vblk {
	const char *name;
	/* The transport's structures (virtio_blk_pci.c sets them). */
	volatile u8 *common;    /* common configuration, 4.1.4.3 */
	volatile u8 *notify;    /* this queue's notification address */
	volatile u8 *device;    /* device configuration, 5.2.4 */
	u16 msix_entry;         /* the MSI-X table entry of the queue */
	u32 notify_multiplier;
	volatile u8 *notify_base;

	/* Found at start. */
	u64 capacity;           /* sectors */
	bool read_only, can_flush;
	u32 seg_max;            /* data descriptors per request */
	u16 size;               /* queue entries */

	spinlock_t lock;        /* everything below; taken with interrupts off */
	struct virtq_desc *desc;
	volatile u16 *avail;    /* flags, idx, ring[size], used_event */
	volatile u8 *used;      /* flags, idx, ring[size] of used_elem, avail_event */
	struct vblk_hdr *hdr;   /* hdr[head] */
	struct blk_req **req;   /* req[head] */
	u16 free_head, nr_free, avail_idx, last_used;
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
