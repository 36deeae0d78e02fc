/*
 * The virtio-blk driver's core (drivers/virtio_blk.h). Each request is one
 * descriptor chain (virtio 1.2, 5.2.6): the header (device-readable), the
 * data segments (device-writable for reads), the status byte
 * (device-writable). Chains are put in the available ring; the used ring
 * gives them back, signalled by the queue's MSI-X vector. Requests that do
 * not fit in the free descriptors wait, in order.
 */
#include "drivers/virtio_blk.h"
#include "drivers/iommu.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/string.h"

/* Feature bits, 5.2.3. */
#define F_BLK_SEG_MAX 2
#define F_BLK_RO 5
#define F_BLK_FLUSH 9

/* Request types and status, 5.2.6. */
#define VBLK_T_IN 0
#define VBLK_T_OUT 1
#define VBLK_T_FLUSH 4
#define VBLK_S_OK 0

/* Device configuration, 5.2.4. */
#define VBLK_CFG_CAPACITY 0
#define VBLK_CFG_SEG_MAX 12

int vblk_start(struct vblk *v)
{
	struct vdrv *t = &v->t;
	u64 got;
	int ret;

	ret = vdrv_begin(t, BIT(F_BLK_RO) | BIT(F_BLK_FLUSH) | BIT(F_BLK_SEG_MAX), &got);
	if (ret)
		return ret;
	v->read_only = got & BIT(F_BLK_RO);
	v->can_flush = got & BIT(F_BLK_FLUSH);
	v->capacity = mmio_read32(t->device + VBLK_CFG_CAPACITY) |
		      (u64)mmio_read32(t->device + VBLK_CFG_CAPACITY + 4) << 32;
	v->seg_max = got & BIT(F_BLK_SEG_MAX) ? mmio_read32(t->device + VBLK_CFG_SEG_MAX) : 1;
	/* Step 7: queue 0 (requestq, 5.2.2). */
	ret = vdrv_queue_setup(t, &v->q, 0, VBLK_QUEUE_MAX, v->msix_entry);
	if (ret)
		return ret;
	if (v->seg_max == 0 || v->seg_max > (u32)v->q.size - 2)
		v->seg_max = (u32)v->q.size - 2;
	v->req = kzalloc(v->q.size * sizeof(*v->req));
	v->hdr = (struct vblk_hdr *)(uintptr_t)page_alloc(
		ALIGN_UP(v->q.size * sizeof(struct vblk_hdr), PAGE_SIZE) / PAGE_SIZE, PAGE_SIZE);
	if (!v->req || !v->hdr)
		return vdrv_fail(t, "out of memory");
	/* Request headers and status bytes; the data is the requests' own
	 * (a VM's RAM, or a granted bounce buffer: drivers/iommu.h). */
	iommu_grant_host((u64)(uintptr_t)v->hdr,
			 ALIGN_UP(v->q.size * sizeof(struct vblk_hdr), PAGE_SIZE),
			 IOMMU_READ | IOMMU_WRITE);
	v->waiting = NULL;
	v->waiting_tail = &v->waiting;
	__atomic_store_n(&v->started, true, __ATOMIC_RELEASE);
	/* Step 8. */
	vdrv_driver_ok(t);
	return 0;
}

/* Builds r's chain and puts it in the available ring. Lock held; the
 * caller checked there are enough free descriptors. */
static void queue_req(struct vblk *v, struct blk_req *r)
{
	struct vdrv_queue *q = &v->q;
	u16 head = vdrv_desc_alloc(q), prev = head, d;
	struct vblk_hdr *h = &v->hdr[head];
	bool to_device = r->op == BLK_WRITE;

	h->type = r->op == BLK_FLUSH ? VBLK_T_FLUSH : to_device ? VBLK_T_OUT : VBLK_T_IN;
	h->reserved = 0;
	h->sector = r->op == BLK_FLUSH ? 0 : r->sector;
	h->status = 0xff; /* a device that never writes it reads as an error */
	q->desc[head] = (struct virtq_desc){ vdrv_pa(h), 16, VIRTQ_DESC_F_NEXT, 0 };
	for (unsigned i = 0; r->op != BLK_FLUSH && i < r->nr_segs; i++) {
		d = vdrv_desc_alloc(q);
		q->desc[prev].next = d;
		q->desc[d] = (struct virtq_desc){ vdrv_pa(r->seg[i].buf), r->seg[i].len,
						  (u16)(VIRTQ_DESC_F_NEXT |
							(to_device ? 0 : VIRTQ_DESC_F_WRITE)), 0 };
		prev = d;
	}
	d = vdrv_desc_alloc(q);
	q->desc[prev].next = d;
	q->desc[d] = (struct virtq_desc){ vdrv_pa(&h->status), 1, VIRTQ_DESC_F_WRITE, 0 };
	v->req[head] = r;
	vdrv_avail_add(q, head);
}

static unsigned descs_needed(const struct blk_req *r)
{
	return 2 + (r->op == BLK_FLUSH ? 0 : r->nr_segs);
}

static void issue(struct vblk *v)
{
	bool queued = false;

	while (v->waiting && descs_needed(v->waiting) <= v->q.nr_free) {
		struct blk_req *r = v->waiting;

		v->waiting = r->next;
		if (!v->waiting)
			v->waiting_tail = &v->waiting;
		queue_req(v, r);
		queued = true;
	}
	if (queued)
		vdrv_avail_publish(&v->q);
}

int vblk_submit(struct blockdev *bd, struct blk_req *r)
{
	struct vblk *v = bd->priv;
	u64 flags;

	if (r->op == BLK_DISCARD || (r->op == BLK_FLUSH && !v->can_flush))
		return -ENOTSUP;
	if (r->op != BLK_FLUSH && r->nr_segs > v->seg_max)
		return -EINVAL; /* the device takes no more in one request */
	r->next = NULL;
	flags = hw_irq_save();
	spin_lock(&v->lock);
	*v->waiting_tail = r;
	v->waiting_tail = &r->next;
	issue(v);
	spin_unlock(&v->lock);
	hw_irq_restore(flags);
	return 0;
}

struct finished {
	struct blk_req *req;
	int status;
};

void vblk_irq(void *vblk)
{
	struct vblk *v = vblk;
	struct finished fin[VBLK_QUEUE_MAX];
	unsigned nr_fin = 0;
	u32 id, len;
	u64 flags;

	if (!__atomic_load_n(&v->started, __ATOMIC_ACQUIRE))
		return;
	flags = hw_irq_save();
	spin_lock(&v->lock);
	while (nr_fin < v->q.size && vdrv_used_next(&v->q, &id, &len)) {
		struct blk_req *r = id < v->q.size ? v->req[id] : NULL;

		if (!r) {
			kprintf("%s: the device returned descriptor %u, which is not a request's "
				"head\n", v->t.name, id);
			continue;
		}
		v->req[id] = NULL;
		fin[nr_fin++] = (struct finished){ r, v->hdr[id].status == VBLK_S_OK ? 0 : -EIO };
		vdrv_desc_free_chain(&v->q, (u16)id);
		v->completions++;
	}
	issue(v);
	spin_unlock(&v->lock);
	hw_irq_restore(flags);
	for (unsigned i = 0; i < nr_fin; i++)
		fin[i].req->done(fin[i].req, fin[i].status);
}
