/*
 * The driver side of a modern virtio PCI device (OASIS virtio 1.2), shared
 * by utsuwa's drivers for the machine's virtio disk (drivers/virtio_blk.c)
 * and NIC (drivers/virtio_net.c): the initialization sequence (3.1.1) over
 * the common configuration structure (4.1.4.3), and split virtqueues (2.7)
 * in hypervisor memory whose descriptors point at hypervisor buffers.
 *
 * Transport-independent and host-testable: drivers/virtio_drv_pci.c finds
 * the structures in the function's BARs (4.1.4) and fills struct vdrv; a
 * unit test points them at a fake device instead. Register access goes
 * through drivers/hw.h.
 *
 * What the device writes (used ring entries) is checked before use: an id
 * outside the table or a length beyond the buffer is reported by the driver
 * that reads it, never followed.
 */
#ifndef DRIVERS_VIRTIO_DRV_H
#define DRIVERS_VIRTIO_DRV_H

#include "hv/types.h"

struct virtq_desc { /* 2.7.5 */
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtio 1.2, 2.7.5: 16-byte descriptors");

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VDRV_NO_VECTOR 0xffff

/* Feature bits every driver here knows: 6, "Reserved Feature Bits". */
#define VIRTIO_F_VERSION_1 32

/* One device's structures (4.1.4): set by the transport. */
struct vdrv {
	const char *name;            /* for log lines */
	volatile u8 *common;         /* common configuration, 4.1.4.3 */
	volatile u8 *notify_base;    /* notification structure, 4.1.4.4 */
	u32 notify_multiplier;
	volatile u8 *device;         /* device-specific configuration */
};

/* One split virtqueue, the driver's view. Guarded by its owner's lock. */
struct vdrv_queue {
	u16 index, size;             /* size: a power of two */
	struct virtq_desc *desc;
	volatile u16 *avail;         /* flags, idx, ring[size], used_event */
	volatile u8 *used;           /* flags, idx, ring[size] of {id, len}, avail_event */
	volatile u8 *notify;         /* this queue's doorbell */
	u16 free_head, nr_free;      /* free descriptors, linked by next */
	u16 avail_idx, last_used;
};

/*
 * 3.1.1 steps 1-6: reset (waiting for it), ACKNOWLEDGE, DRIVER, then the
 * features: those of want the device offers, VIRTIO_F_VERSION_1 required
 * (a legacy-only device is not used), FEATURES_OK checked. *got: the
 * negotiated set. 0, or -EIO after a line naming the device.
 */
int vdrv_begin(struct vdrv *d, u64 want, u64 *got);
/* Queue index: the device's size capped at max (a power of two), rings
 * allocated and zeroed, given to the device with MSI-X entry msix (or
 * VDRV_NO_VECTOR) and enabled. 0, or -EIO/-ENOMEM after a line. */
int vdrv_queue_setup(struct vdrv *d, struct vdrv_queue *q, u16 index, u16 max, u16 msix);
/* Step 8: the device is live. */
void vdrv_driver_ok(struct vdrv *d);
/* Marks the device FAILED (2.1) after a line "<name>: <why>"; -EIO. */
int vdrv_fail(struct vdrv *d, const char *why);

/* A free descriptor (the caller checked nr_free). */
u16 vdrv_desc_alloc(struct vdrv_queue *q);
/* Gives back the chain starting at head. */
void vdrv_desc_free_chain(struct vdrv_queue *q, u16 head);
/* Puts head in the available ring (not yet visible to the device). */
void vdrv_avail_add(struct vdrv_queue *q, u16 head);
/* Makes the added heads visible and rings the doorbell unless the device
 * said it needs none (2.7.13). */
void vdrv_avail_publish(struct vdrv_queue *q);
/* The next used entry: true and its id and len, or false when none. */
bool vdrv_used_next(struct vdrv_queue *q, u32 *id, u32 *len);

/* The physical address of hypervisor memory (identity-mapped). */
static inline u64 vdrv_pa(const volatile void *p)
{
	return (u64)(uintptr_t)p;
}

#endif
