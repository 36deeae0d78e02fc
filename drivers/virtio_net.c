/*
 * The virtio-net driver's core (drivers/virtio_net.h).
 */
#include "drivers/virtio_net.h"
#include "drivers/iommu.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/string.h"

/* Feature bits, 5.1.3. */
#define F_NET_MAC 5

/* Device configuration, 5.1.4: the MAC first. */
#define VNET_CFG_MAC 0

#define RXQ 0
#define TXQ 1

/* A zeroed buffer of n per-descriptor slots of VNIC_BUF bytes. */
static u8 *buffers(u16 n)
{
	u64 p = page_alloc((u64)n * VNIC_BUF / PAGE_SIZE, PAGE_SIZE);

	if (p) /* the device's to read and write (drivers/iommu.h) */
		iommu_grant_host(p, (u64)n * VNIC_BUF, IOMMU_READ | IOMMU_WRITE);
	return (u8 *)(uintptr_t)p;
}

/* Receive descriptor i, always over buffer i, back in the available ring
 * (the device sees it at rx_publish). */
static void rx_post(struct vnic *v, u16 i)
{
	v->rx.desc[i] = (struct virtq_desc){ vdrv_pa(v->rx_buf + (u64)i * VNIC_BUF), VNIC_BUF,
					     VIRTQ_DESC_F_WRITE, 0 };
	vdrv_avail_add(&v->rx, i);
}

/* The buffers posted since avail index from now belong to the device: only
 * now, so that a used entry naming one before the device could see it (a
 * repeated id) is not taken as a frame. */
static void rx_publish(struct vnic *v, u16 from)
{
	for (u16 i = from; i != v->rx.avail_idx; i++)
		v->rx_posted[v->rx.avail[2 + i % v->rx.size]] = true;
	vdrv_avail_publish(&v->rx);
}

int vnic_start(struct vnic *v)
{
	struct vdrv *t = &v->t;
	u64 got;
	int ret;

	ret = vdrv_begin(t, BIT(F_NET_MAC), &got);
	if (ret)
		return ret;
	if (got & BIT(F_NET_MAC)) {
		for (unsigned i = 0; i < ETH_ALEN; i++)
			v->nic.mac[i] = mmio_read8(t->device + VNET_CFG_MAC + i);
	} else {
		/* 5.1.5: without VIRTIO_NET_F_MAC the driver picks one: locally
		 * administered, unicast. The uplink forwards VM frames with
		 * their own MACs, so this one only names the port. */
		memcpy(v->nic.mac, (u8[]){ 0x02, 0x75, 0x74, 0x73, 0x75, 0x01 }, ETH_ALEN);
	}
	/* Step 7 (and 5.1.5): the queues; transmit completions are collected
	 * when sending, so that queue has no vector. */
	ret = vdrv_queue_setup(t, &v->rx, RXQ, VNIC_QUEUE_MAX, v->msix_entry);
	if (!ret)
		ret = vdrv_queue_setup(t, &v->tx, TXQ, VNIC_QUEUE_MAX, VDRV_NO_VECTOR);
	if (ret)
		return ret;
	v->rx_buf = buffers(v->rx.size);
	v->tx_buf = buffers(v->tx.size);
	v->rx_posted = kzalloc(v->rx.size * sizeof(bool));
	v->tx_posted = kzalloc(v->tx.size * sizeof(bool));
	if (!v->rx_buf || !v->tx_buf || !v->rx_posted || !v->tx_posted)
		return vdrv_fail(t, "out of memory for buffers");
	v->tx.avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT; /* 2.7.7: a hint only */
	v->nic.xmit = vnic_xmit;
	v->nic.poll_rx = vnic_poll_rx;
	v->nic.priv = v;
	/* Step 8, then every receive buffer (5.1.6.3: "the driver SHOULD fill
	 * the receive queues" once the device is live). */
	__atomic_store_n(&v->started, true, __ATOMIC_RELEASE);
	vdrv_driver_ok(t);
	for (u16 i = 0; i < v->rx.size; i++)
		rx_post(v, i);
	rx_publish(v, 0);
	return 0;
}

unsigned vnic_poll_rx(struct nic *n, unsigned budget)
{
	struct vnic *v = n->priv;
	unsigned done = 0;
	u16 from = v->rx.avail_idx;
	u32 id, len;

	/* Every used entry counts against the budget, good or bad: a device
	 * cannot keep this loop going with entries it makes up. */
	for (; done < budget && vdrv_used_next(&v->rx, &id, &len); done++) {
		/* The device's word is checked: an id we do not have posted, or
		 * a length beyond the buffer or short of a header, is counted
		 * and the buffer (if ours) goes back. */
		if (id >= v->rx.size || !v->rx_posted[id]) {
			v->rx_bad++;
			continue;
		}
		v->rx_posted[id] = false;
		if (len < VNIC_HDR + ETH_HLEN || len > VNIC_HDR + ETH_MAX_FRAME)
			v->rx_bad++;
		else
			nic_rx(n, v->rx_buf + (u64)id * VNIC_BUF + VNIC_HDR, len - VNIC_HDR);
		rx_post(v, (u16)id);
	}
	if (from != v->rx.avail_idx)
		rx_publish(v, from);
	return done;
}

/* Frees the transmit descriptors the device is done with. Lock held. */
static void tx_reclaim(struct vnic *v)
{
	u32 id, len;

	for (unsigned n = 0; n < v->tx.size && vdrv_used_next(&v->tx, &id, &len); n++) {
		if (id >= v->tx.size || !v->tx_posted[id]) {
			v->tx_bad++;
			continue;
		}
		v->tx_posted[id] = false;
		vdrv_desc_free_chain(&v->tx, (u16)id);
	}
}

bool vnic_xmit(struct nic *n, const void *frame, u32 len)
{
	struct vnic *v = n->priv;
	u64 flags;
	u8 *buf;
	u16 d;

	if (len < ETH_HLEN || len > ETH_MAX_FRAME)
		return false;
	flags = hw_irq_save();
	spin_lock(&v->tx_lock);
	tx_reclaim(v);
	if (!v->tx.nr_free) {
		spin_unlock(&v->tx_lock);
		hw_irq_restore(flags);
		return false;
	}
	d = vdrv_desc_alloc(&v->tx);
	buf = v->tx_buf + (u64)d * VNIC_BUF;
	/* 5.1.6.2: no offload asked for: flags 0, gso_type NONE; num_buffers 0 on transmit. */
	memset(buf, 0, VNIC_HDR);
	memcpy(buf + VNIC_HDR, frame, len);
	v->tx.desc[d] = (struct virtq_desc){ vdrv_pa(buf), VNIC_HDR + len, 0, 0 };
	v->tx_posted[d] = true;
	vdrv_avail_add(&v->tx, d);
	vdrv_avail_publish(&v->tx);
	spin_unlock(&v->tx_lock);
	hw_irq_restore(flags);
	return true;
}

void vnic_irq(void *vnic)
{
	struct vnic *v = vnic;

	if (__atomic_load_n(&v->started, __ATOMIC_ACQUIRE))
		nic_rx_interrupt(&v->nic);
}
