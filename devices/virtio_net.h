/*
 * virtio-net (OASIS virtio 1.2, 5.1) over the PCI transport
 * (devices/virtio_pci.h), one port of the virtual switch (hv/vswitch.h).
 *
 * Queues (5.1.2): 0 receiveq1, 1 transmitq1; no control queue (Linux does
 * without one when VIRTIO_NET_F_CTRL_VQ is not offered). Every buffer starts
 * with the 12-byte struct virtio_net_hdr of VERSION_1 (5.1.6), num_buffers
 * included.
 *
 * Transmit: on the driver's notification, each available chain's readable
 * bytes are copied out through the guest-memory accessors, the header
 * skipped, and the frame handed to the switch in the notifying vCPU's exit.
 * Receive: the switch hands a frame to net_deliver on the sender's CPU; it is
 * copied into the next posted receive buffer, behind a header saying
 * nothing but num_buffers = 1, and the used entry and MSI-X interrupt follow.
 * With no buffer posted (or the VM not running) the frame is dropped and
 * counted, as a NIC whose ring is full drops (the switch counts it too).
 *
 * Offered (5.1.3): VIRTIO_NET_F_MAC (the configured MAC), VIRTIO_NET_F_MTU
 * (1500). Not offered: checksum and segmentation offloads, MRG_RXBUF,
 * STATUS (the link is always up), CTRL_VQ, MQ.
 */
#ifndef DEVICES_VIRTIO_NET_H
#define DEVICES_VIRTIO_NET_H

#include "hv/types.h"

struct vm;
struct pci_host;
struct vswitch;
struct virtio_net;

#define VIRTIO_ID_NET 1
#define VNET_QUEUE_SIZE 256
#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_MTU 1500

/* 5.1.3: feature bits. */
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5

/* 5.1.6: struct virtio_net_hdr as VERSION_1 has it (num_buffers always there). */
struct virtio_net_hdr {
	u8 flags;
	u8 gso_type;
	u16 hdr_len;
	u16 gso_size;
	u16 csum_start;
	u16 csum_offset;
	u16 num_buffers;
};
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "5.1.6: 12 bytes with VERSION_1");

/* What the device counts beyond the switch's counters. */
struct virtio_net_stats {
	u64 rx_no_buffer;  /* a frame came and no receive buffer was posted */
	u64 rx_short_buf;  /* the posted buffer was smaller than header and frame */
	u64 tx_bad;        /* a transmit chain without a whole frame, or too long */
};

/*
 * A virtio-net function at devfn of vm's PCI host with mac, its BAR at
 * bar_base, for switch sw but not on it yet (virtio_net_join). NULL on
 * failure (-EEXIST: the MAC is a port's of sw already), nothing left
 * registered.
 */
struct virtio_net *virtio_net_create(struct vm *vm, struct pci_host *host, u8 devfn,
				     u64 bar_base, const char *name, const u8 mac[6],
				     struct vswitch *sw, int *err);
/* Joins its switch: from then on frames for its MAC arrive. 0 (also when
 * joined already), -EEXIST (another port took the MAC since) or -ENOSPC. */
int virtio_net_join(struct virtio_net *n);
/* Leaves the switch (waiting for deliveries to it), then frees it. */
void virtio_net_destroy(struct virtio_net *n);
/* Power-on: the transport reset; frames arriving meanwhile are dropped. */
void virtio_net_reset(struct virtio_net *n);

/* Before a paused VM's memory is saved: no frame is being written into it
 * when this returns, and none will be while it stays paused. */
void virtio_net_quiesce(struct virtio_net *n);

struct snap_writer;
struct snap_cursor;
int virtio_net_save(const struct virtio_net *n, struct snap_writer *w);
int virtio_net_load(struct virtio_net *n, struct snap_cursor *c);

/* The VM's MAC announced on the segment (vswitch_announce) five times from
 * the next tick on, 50, 150, 250 and 350 ms apart on the VM's clock, as
 * QEMU's announce-self does by default: after a migration, so that switches
 * learn where the VM is now. The repeats cover the source host, whose switch
 * refuses the MAC until the VM left it. Any CPU. */
#define VNET_ANNOUNCE_ROUNDS 5
void virtio_net_announce(struct virtio_net *n);
/* The scheduler tick (device_ops.tick): sends what is due. */
void virtio_net_tick(struct virtio_net *n, u64 now_ns);

/* For the monitor and tests. */
struct virtio_pci *virtio_net_pci(struct virtio_net *n);
struct vswitch_port *virtio_net_port(struct virtio_net *n);
void virtio_net_stats(const struct virtio_net *n, struct virtio_net_stats *out);

#endif
