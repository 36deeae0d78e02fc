/*
 * virtio-net (devices/virtio_net.h; OASIS virtio 1.2, 5.1): transmit chains
 * to the switch, frames from the switch into receive buffers.
 */
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "hv/vswitch.h"
#include "lib/string.h"

#define HDR_LEN ((u32)sizeof(struct virtio_net_hdr))

/* 5.1.4: struct virtio_net_config, the fields offered. */
#define CFG_MAC 0
#define CFG_STATUS 6
#define CFG_MAX_VQ_PAIRS 8
#define CFG_MTU 10
#define CFG_SIZE 12
#define VIRTIO_NET_S_LINK_UP 1

struct virtio_net {
	struct vm *vm;
	struct virtio_pci *vp;
	struct virtio_dev_ops ops;
	char name[16];
	struct vswitch *sw;
	struct vswitch_port port;
	/* Scratch of one transmit notification; under the TX queue's avail_lock. */
	struct vq_chain tx_chain;
	u8 tx_buf[HDR_LEN + ETH_MAX_FRAME];
	/* Scratch of one delivery; under the RX queue's avail_lock. */
	struct vq_chain rx_chain;
	struct virtio_net_stats st; /* atomic adds */
	/* Announcements still to send (virtio_net_announce), and when the next
	 * is due on the VM's clock (0: at the next tick). */
	u32 announce_left;
	u64 announce_next_ns;
};

static void count(u64 *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* The driver has set DRIVER_OK and the queue is usable (3.1.1, 2.1.2). */
static bool queue_live(const struct virtio_net *n, const struct virtq *vq)
{
	return (__atomic_load_n(&n->vp->status, __ATOMIC_ACQUIRE) & VIRTIO_STATUS_DRIVER_OK) &&
	       vq->enabled && !vq->broken;
}

/*
 * vswitch_port.deliver: one frame into the next receive buffer (5.1.6.3,
 * 5.1.6.4). Runs on the sending vCPU's CPU; the RX queue's avail_lock makes
 * deliveries from several CPUs take buffers one at a time, and holds off a
 * device reset (which takes it too) until this frame is in or dropped.
 */
static bool net_deliver(struct vswitch_port *p, const void *frame, u32 len)
{
	struct virtio_net *n = p->ctx;
	struct virtq *vq = &n->vp->vq[VNET_RXQ];
	struct vq_chain *c = &n->rx_chain;
	/* 5.1.6.4: without MRG_RXBUF the frame fits one buffer: num_buffers 1. */
	struct virtio_net_hdr h = { .num_buffers = 1 };
	bool irq, ok = false;
	int got;

	spin_lock(&vq->avail_lock);
	/* A paused VM (a snapshot being written) takes nothing: its memory and
	 * queues must hold still. Checked under the lock virtio_net_quiesce
	 * takes, so once that returns no frame is half-written. */
	got = __atomic_load_n(&n->vm->state, __ATOMIC_ACQUIRE) == VM_RUNNING && queue_live(n, vq) ?
		      vq_pop(vq, c) : 0;
	if (got <= 0) {
		spin_unlock(&vq->avail_lock);
		count(&n->st.rx_no_buffer);
		return false;
	}
	/* A buffer too small for header and frame goes back empty: the driver
	 * sees a length error (Linux counts rx_length_errors) and reposts. */
	if (c->nr_all > c->nr || c->in_len < HDR_LEN + len) {
		count(&n->st.rx_short_buf);
		irq = vq_push(vq, c->head, 0);
	} else {
		vq_write_in(n->vm, c, 0, &h, HDR_LEN);
		vq_write_in(n->vm, c, HDR_LEN, frame, len);
		irq = vq_push(vq, c->head, HDR_LEN + len);
		ok = true;
	}
	spin_unlock(&vq->avail_lock);
	if (irq)
		virtio_pci_queue_interrupt(n->vp, vq);
	return ok;
}

/*
 * A transmit chain (5.1.6.2): the header, then one frame, all readable.
 * Without offloads negotiated the header asks for nothing (flags 0,
 * gso_type NONE), so it is skipped. The frame goes to the switch from a
 * copy: the guest may rewrite its buffer the moment the chain is used.
 */
static void transmit(struct virtio_net *n, const struct vq_chain *c)
{
	u32 len = c->out_len;
	u64 spoofs;

	if (c->nr_all > c->nr || len < HDR_LEN + ETH_HLEN || len > HDR_LEN + ETH_MAX_FRAME) {
		count(&n->st.tx_bad);
		return;
	}
	vq_read_out(n->vm, c, 0, n->tx_buf, len);
	spoofs = __atomic_load_n(&n->port.c.spoofs, __ATOMIC_RELAXED);
	vswitch_send(&n->port, n->tx_buf + HDR_LEN, len - HDR_LEN);
	/* The operator hears of the first spoof only (the monitor's net counts
	 * them all): a guest must not be able to flood the log. */
	if (!spoofs && __atomic_load_n(&n->port.c.spoofs, __ATOMIC_RELAXED)) {
		const u8 *m = n->tx_buf + HDR_LEN + ETH_ALEN;

		kprintf("utsuwa: vm %s: %s: a frame from %02x:%02x:%02x:%02x:%02x:%02x, not the "
			"VM's MAC, dropped (more are only counted)\n", n->vm->name, n->name, m[0],
			m[1], m[2], m[3], m[4], m[5]);
	}
}

/*
 * A kick. Transmit: every chain available now, at most a queue's worth, each
 * returned with 0 bytes written (5.1.6.2.1), one interrupt at the end if the
 * driver wants one. Receive: the driver posted buffers; frames are not held
 * for them (they were dropped), so there is nothing to do.
 */
static void net_notify(void *dev, struct virtq *vq)
{
	struct virtio_net *n = dev;
	bool irq = false;

	if (vq->index != VNET_TXQ)
		return;
	spin_lock(&vq->avail_lock);
	for (unsigned i = 0; i < vq->size; i++) {
		if (vq_pop(vq, &n->tx_chain) <= 0)
			break;
		transmit(n, &n->tx_chain);
		irq |= vq_push(vq, n->tx_chain.head, 0);
	}
	spin_unlock(&vq->avail_lock);
	if (irq)
		virtio_pci_queue_interrupt(n->vp, vq);
}

static u32 net_cfg_read(void *dev, u32 off, u8 size)
{
	struct virtio_net *n = dev;
	u8 cfg[CFG_SIZE] = { 0 };
	u32 v = 0;

	memcpy(cfg + CFG_MAC, n->port.mac, ETH_ALEN);
	memcpy(cfg + CFG_STATUS, &(u16){ VIRTIO_NET_S_LINK_UP }, 2);
	memcpy(cfg + CFG_MAX_VQ_PAIRS, &(u16){ 1 }, 2);
	memcpy(cfg + CFG_MTU, &(u16){ VNET_MTU }, 2);
	memcpy(&v, cfg + off, size);
	return v;
}

static void net_reset(void *dev)
{
	/* Nothing is held between notifications: the queues' reset is all. */
}

void virtio_net_announce(struct virtio_net *n)
{
	__atomic_store_n(&n->announce_next_ns, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&n->announce_left, VNET_ANNOUNCE_ROUNDS, __ATOMIC_RELEASE);
}

void virtio_net_tick(struct virtio_net *n, u64 now_ns)
{
	u32 left = __atomic_load_n(&n->announce_left, __ATOMIC_ACQUIRE);
	u32 done = VNET_ANNOUNCE_ROUNDS - left;

	if (!left || now_ns < __atomic_load_n(&n->announce_next_ns, __ATOMIC_RELAXED))
		return;
	/* One tick runs at a time for a VM (vm_devices_tick); the exchange only
	 * keeps a new virtio_net_announce from being lost. */
	if (!__atomic_compare_exchange_n(&n->announce_left, &left, left - 1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&n->announce_next_ns, now_ns + (50 + 100 * (u64)done) * 1000000,
			 __ATOMIC_RELAXED);
	vswitch_announce(&n->port);
}

struct virtio_pci *virtio_net_pci(struct virtio_net *n)
{
	return n->vp;
}

struct vswitch_port *virtio_net_port(struct virtio_net *n)
{
	return &n->port;
}

void virtio_net_stats(const struct virtio_net *n, struct virtio_net_stats *out)
{
	out->rx_no_buffer = __atomic_load_n(&n->st.rx_no_buffer, __ATOMIC_RELAXED);
	out->rx_short_buf = __atomic_load_n(&n->st.rx_short_buf, __ATOMIC_RELAXED);
	out->tx_bad = __atomic_load_n(&n->st.tx_bad, __ATOMIC_RELAXED);
}

struct virtio_net *virtio_net_create(struct vm *vm, struct pci_host *host, u8 devfn,
				     u64 bar_base, const char *name, const u8 mac[6],
				     struct vswitch *sw, int *err)
{
	struct virtio_net *n = kzalloc(sizeof(*n));

	*err = -ENOMEM;
	if (!n)
		return NULL;
	n->vm = vm;
	strlcpy(n->name, name, sizeof(n->name));
	n->ops = (struct virtio_dev_ops){
		.device_id = VIRTIO_ID_NET,
		.class_code = 0x020000, /* network controller, Ethernet */
		.nr_queues = 2,
		.queue_size = VNET_QUEUE_SIZE,
		.cfg_size = CFG_SIZE,
		.features = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MTU),
		.cfg_read = net_cfg_read,
		.notify = net_notify,
		.reset = net_reset,
	};
	n->port.name = vm->name;
	memcpy(n->port.mac, mac, ETH_ALEN);
	n->port.fixed_mac = true;
	n->port.deliver = net_deliver;
	n->port.ctx = n;
	n->port.index = -1;
	n->vp = virtio_pci_create(vm, host, devfn, bar_base, n->name, &n->ops, n);
	if (!n->vp) {
		kfree(n);
		return NULL;
	}
	n->sw = sw;
	/* Refused now rather than when it joins, where it can be. */
	if (vswitch_mac_owned(sw, mac)) {
		*err = -EEXIST;
		virtio_pci_destroy(n->vp);
		kfree(n);
		return NULL;
	}
	*err = 0;
	return n;
}

int virtio_net_join(struct virtio_net *n)
{
	return n->port.index >= 0 ? 0 : vswitch_port_add(n->sw, &n->port);
}

void virtio_net_destroy(struct virtio_net *n)
{
	vswitch_port_remove(&n->port);
	virtio_pci_destroy(n->vp);
	kfree(n);
}

void virtio_net_reset(struct virtio_net *n)
{
	virtio_pci_reset(n->vp);
}

/* The VM is paused: a delivery that saw it running finishes now, and the
 * ones after see it paused (net_deliver checks under this lock). */
void virtio_net_quiesce(struct virtio_net *n)
{
	struct virtq *rx = &n->vp->vq[VNET_RXQ];

	spin_lock(&rx->avail_lock);
	spin_unlock(&rx->avail_lock);
}

/* Snapshot: the transport, its queues in it (quiesced before memory was saved). */
int virtio_net_save(const struct virtio_net *n, struct snap_writer *w)
{
	return virtio_pci_save(n->vp, w);
}

int virtio_net_load(struct virtio_net *n, struct snap_cursor *c)
{
	return virtio_pci_load(n->vp, c);
}
