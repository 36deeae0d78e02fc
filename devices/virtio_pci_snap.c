/*
 * The virtio PCI transport's snapshot payload (docs/snapshot.md,
 * "virtio-blk"): configuration space, common configuration, MSI-X table and
 * each queue's configuration and indices. The rings and buffers are guest
 * memory, saved with it; no request is in flight (virtio_blk_drain first).
 */
#include "devices/virtio_pci.h"
#include "hv/bus.h"
#include "hv/snapshot.h"
#include "hv/vm.h"
#include "lib/string.h"

struct vq_state {
	u16 size, msix_vector, last_avail, used_idx, signalled_used;
	bool enabled, event_idx, indirect, signalled_valid, broken;
	u64 desc, avail, used;
};

static void save_vq(struct snap_writer *w, const struct virtq *q)
{
	snap_put_u16(w, q->size);
	snap_put_bool(w, q->enabled);
	snap_put_u64(w, q->desc);
	snap_put_u64(w, q->avail);
	snap_put_u64(w, q->used);
	snap_put_bool(w, q->event_idx);
	snap_put_bool(w, q->indirect);
	snap_put_u16(w, q->msix_vector);
	snap_put_u16(w, q->last_avail);
	snap_put_u16(w, q->used_idx);
	snap_put_u16(w, q->signalled_used);
	snap_put_bool(w, q->signalled_valid);
	snap_put_bool(w, q->broken);
}

int virtio_pci_save(const struct virtio_pci *d, struct snap_writer *w)
{
	struct virtio_pci *vp = (struct virtio_pci *)d; /* the lock only */

	spin_lock(&vp->lock);
	snap_put_bytes(w, vp->pci.data, PCI_CFG_SIZE);
	snap_put_u32(w, vp->dfselect);
	snap_put_u32(w, vp->gfselect);
	snap_put_u64(w, vp->driver_features);
	snap_put_u8(w, vp->status);
	snap_put_u8(w, vp->config_generation);
	snap_put_u16(w, vp->queue_select);
	snap_put_u16(w, vp->msix_config);
	snap_put_u8(w, vp->isr);
	snap_put_bool(w, vp->intx_level);
	for (unsigned i = 0; i < VIRTIO_MSIX_VECTORS; i++) {
		snap_put_u32(w, vp->msix[i].addr_lo);
		snap_put_u32(w, vp->msix[i].addr_hi);
		snap_put_u32(w, vp->msix[i].data);
		snap_put_u32(w, vp->msix[i].ctrl);
	}
	snap_put_u32(w, vp->msix_pba);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		save_vq(w, &vp->vq[i]);
	spin_unlock(&vp->lock);
	return snap_writer_error(w);
}

static bool vector_ok(u16 v)
{
	return v < VIRTIO_MSIX_VECTORS || v == VIRTIO_MSI_NO_VECTOR;
}

int virtio_pci_load(struct virtio_pci *vp, struct snap_cursor *c)
{
	u8 data[PCI_CFG_SIZE];
	struct vq_state q[VIRTIO_MAX_QUEUES];
	u32 dfselect, gfselect, msix[VIRTIO_MSIX_VECTORS][4], pba;
	u64 features;
	u8 status, gen, isr;
	u16 qsel, msix_config;
	bool intx, ok = true;

	snap_get_bytes(c, data, sizeof(data));
	dfselect = snap_get_u32(c);
	gfselect = snap_get_u32(c);
	features = snap_get_u64(c);
	status = snap_get_u8(c);
	gen = snap_get_u8(c);
	qsel = snap_get_u16(c);
	msix_config = snap_get_u16(c);
	isr = snap_get_u8(c);
	intx = snap_get_bool(c);
	for (unsigned i = 0; i < VIRTIO_MSIX_VECTORS; i++)
		for (unsigned j = 0; j < 4; j++)
			msix[i][j] = snap_get_u32(c);
	pba = snap_get_u32(c);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		q[i].size = snap_get_u16(c);
		q[i].enabled = snap_get_bool(c);
		q[i].desc = snap_get_u64(c);
		q[i].avail = snap_get_u64(c);
		q[i].used = snap_get_u64(c);
		q[i].event_idx = snap_get_bool(c);
		q[i].indirect = snap_get_bool(c);
		q[i].msix_vector = snap_get_u16(c);
		q[i].last_avail = snap_get_u16(c);
		q[i].used_idx = snap_get_u16(c);
		q[i].signalled_used = snap_get_u16(c);
		q[i].signalled_valid = snap_get_bool(c);
		q[i].broken = snap_get_bool(c);
	}
	if (!snap_cursor_ok(c) || isr > 3 || !vector_ok(msix_config) ||
	    (pba >> VIRTIO_MSIX_VECTORS))
		return -EINVAL;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES && ok; i++) {
		struct virtq t = vp->vq[i];

		t.size = q[i].size;
		t.desc = q[i].desc;
		t.avail = q[i].avail;
		t.used = q[i].used;
		ok = vector_ok(q[i].msix_vector) &&
		     (i < vp->ops->nr_queues ? q[i].size <= vp->ops->queue_size : !q[i].size) &&
		     (!q[i].enabled || q[i].broken || vq_config_ok(&t));
	}
	spin_lock(&vp->lock);
	/* Read-only bits (IDs, capabilities, BAR type) are this device's. */
	for (unsigned i = 0; ok && i < PCI_CFG_SIZE; i++)
		ok = ((data[i] ^ vp->pci.data[i]) & (u8)~(vp->pci.wmask[i] | vp->pci.w1c[i])) == 0;
	if (ok) {
		memcpy(vp->pci.data, data, sizeof(data));
		vp->dfselect = dfselect;
		vp->gfselect = gfselect;
		vp->driver_features = features;
		vp->status = status;
		vp->config_generation = gen;
		vp->queue_select = qsel;
		vp->msix_config = msix_config;
		vp->isr = isr;
		/* The wiring learns the level; the I/O APIC's saved state holds the line. */
		vp->intx_level = intx;
		pci_intx_restore(vp->intx, vp->devfn, VPCI_INTX_PIN, intx);
		for (unsigned i = 0; i < VIRTIO_MSIX_VECTORS; i++) {
			vp->msix[i].addr_lo = msix[i][0];
			vp->msix[i].addr_hi = msix[i][1];
			vp->msix[i].data = msix[i][2];
			vp->msix[i].ctrl = msix[i][3];
		}
		vp->msix_pba = pba;
		for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
			struct virtq *t = &vp->vq[i];

			t->size = q[i].size;
			t->enabled = q[i].enabled;
			t->desc = q[i].desc;
			t->avail = q[i].avail;
			t->used = q[i].used;
			t->event_idx = q[i].event_idx;
			t->indirect = q[i].indirect;
			t->msix_vector = q[i].msix_vector;
			t->last_avail = q[i].last_avail;
			t->used_idx = q[i].used_idx;
			t->signalled_used = q[i].signalled_used;
			t->signalled_valid = q[i].signalled_valid;
			t->broken = q[i].broken;
		}
		/* The BAR where the guest had put it. */
		{
			u64 want = (data[PCI_COMMAND] & PCI_COMMAND_MEMORY) ?
					   pci_config_bar(&vp->pci, VPCI_BAR) : 0;

			if (want != vp->bar_mapped) {
				if (vp->bar_mapped)
					bus_unregister(&vp->vm->mmio, vp->bar_mapped, vp);
				vp->bar_mapped = 0;
				if (want && !bus_register(&vp->vm->mmio, want, VPCI_BAR_SIZE,
							  vp->name, &virtio_pci_bar_ops, vp))
					vp->bar_mapped = want;
			}
		}
	}
	spin_unlock(&vp->lock);
	return ok ? 0 : -EINVAL;
}
