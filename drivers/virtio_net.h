/*
 * The virtio-net driver's core (drivers/virtio_net.c) for the machine's own
 * virtio NIC (QEMU's virtio-net-pci with -netdev user, socket or tap): the
 * uplink of the virtual switch (drivers/nic.h). Not to be confused with
 * devices/virtio_net.c, the device utsuwa gives VMs.
 *
 * Two split virtqueues (virtio 1.2, 5.1.2): receiveq1 (0) holds one
 * 2 KiB buffer per descriptor, always the same buffer for the same
 * descriptor, posted again as soon as its frame is passed on; transmitq1
 * (1) takes one descriptor per frame, copied into that descriptor's own
 * buffer, and is reclaimed when the next frame is sent (no transmit
 * interrupts). Only VIRTIO_F_VERSION_1 and VIRTIO_NET_F_MAC are taken:
 * no offloads, no mergeable buffers, so a 12-byte header (5.1.6) and a frame
 * of at most 1514 bytes fit one buffer. Host-testable like virtio_blk.c.
 */
#ifndef DRIVERS_VIRTIO_NET_H
#define DRIVERS_VIRTIO_NET_H

#include "drivers/nic.h"
#include "drivers/virtio_drv.h"
#include "hv/spinlock.h"

#define VNIC_QUEUE_MAX 256
#define VNIC_BUF 2048
#define VNIC_HDR 12 /* struct virtio_net_hdr with VERSION_1 (5.1.6) */

struct vnic {
	struct vdrv t;          /* the transport's structures (virtio_net_pci.c sets them) */
	struct nic nic;         /* what the uplink sees; nic.priv is this */
	u16 msix_entry;         /* the receive queue's MSI-X table entry */

	struct vdrv_queue rx;   /* under the uplink's one-poller rule */
	u8 *rx_buf;             /* VNIC_BUF per receive descriptor */
	bool *rx_posted;        /* the device holds this descriptor */

	spinlock_t tx_lock;     /* the transmit queue; taken with interrupts off */
	struct vdrv_queue tx;
	u8 *tx_buf;             /* VNIC_BUF per transmit descriptor */
	bool *tx_posted;

	bool started;
	u64 rx_bad;             /* used entries with a bad id or length: reposted, not passed on */
	u64 tx_bad;             /* used transmit entries that were not ours */
};

/* Resets the device, negotiates, sets up both queues (receive on MSI-X
 * entry v->msix_entry), fills the receive queue, reads the MAC into
 * v->nic.mac and v->nic's operations. 0, or a negative errno after a line. */
int vnic_start(struct vnic *v);
/* struct nic's operations. */
bool vnic_xmit(struct nic *n, const void *frame, u32 len);
unsigned vnic_poll_rx(struct nic *n, unsigned budget);
/* The receive queue's interrupt handler (ctx: the vnic). */
void vnic_irq(void *vnic);

#endif
