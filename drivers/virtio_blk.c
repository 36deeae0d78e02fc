/*
 * The virtio-blk driver's core (drivers/virtio_blk.h). Each request is one
 * descriptor chain (virtio 1.2, 5.2.6): the header (device-readable), the
 * data segments (device-writable for reads), the status byte
 * (device-writable). Chains are put in the available ring; the used ring
 * gives them back, signalled by the queue's MSI-X vector. Requests that do
 * not fit in the free descriptors wait, in order.
 */
#include "drivers/virtio_blk.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/string.h"

/* Common configuration registers, 4.1.4.3. */
#define VC_DFSELECT 0x00
#define VC_DF 0x04
#define VC_GFSELECT 0x08
#define VC_GF 0x0c
#define VC_MSIX_CONFIG 0x10
#define VC_NUM_QUEUES 0x12
#define VC_STATUS 0x14
#define VC_Q_SELECT 0x16
#define VC_Q_SIZE 0x18
#define VC_Q_MSIX 0x1a
#define VC_Q_ENABLE 0x1c
#define VC_Q_NOTIFY_OFF 0x1e
#define VC_Q_DESC 0x20
#define VC_Q_DRIVER 0x28
#define VC_Q_DEVICE 0x30

/* Device status, 2.1. */
#define ST_ACKNOWLEDGE 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define ST_FAILED 128

/* Feature bits: 5.2.3 (block) and 6 (reserved: VERSION_1). */
#define F_BLK_SEG_MAX 2
#define F_BLK_RO 5
#define F_BLK_FLUSH 9
#define F_VERSION_1 32

#define NO_VECTOR 0xffff
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Request types and status, 5.2.6. */
#define VBLK_T_IN 0
#define VBLK_T_OUT 1
#define VBLK_T_FLUSH 4
#define VBLK_S_OK 0

/* Device configuration, 5.2.4. */
#define VBLK_CFG_CAPACITY 0
#define VBLK_CFG_SEG_MAX 12

static u8 rd8(struct vblk *v, u32 off) { return mmio_read8(v->common + off); }
static u16 rd16(struct vblk *v, u32 off) { return mmio_read16(v->common + off); }
static u32 rd32(struct vblk *v, u32 off) { return mmio_read32(v->common + off); }
static void wr8(struct vblk *v, u32 off, u8 x) { mmio_write8(v->common + off, x); }
static void wr16(struct vblk *v, u32 off, u16 x) { mmio_write16(v->common + off, x); }
static void wr32(struct vblk *v, u32 off, u32 x) { mmio_write32(v->common + off, x); }

/* 64-bit fields as two 32-bit writes, low first (4.1.3.1). */
static void wr64(struct vblk *v, u32 off, u64 x)
{
	wr32(v, off, (u32)x);
	wr32(v, off + 4, (u32)(x >> 32));
}

static u64 pa(const volatile void *p)
{
	return (u64)(uintptr_t)p;
}

static u64 features(struct vblk *v)
{
	wr32(v, VC_DFSELECT, 0);
	u64 lo = rd32(v, VC_DF);
	wr32(v, VC_DFSELECT, 1);
	return lo | (u64)rd32(v, VC_DF) << 32;
}

static int fail(struct vblk *v, const char *why)
{
	kprintf("%s: %s\n", v->name, why);
	wr8(v, VC_STATUS, rd8(v, VC_STATUS) | ST_FAILED);
	return -EIO;
}

/* Split virtqueue layout, 2.7: descriptors, then the available ring, then
 * the used ring on a 4-byte boundary; all in zeroed, contiguous pages. */
static int queue_alloc(struct vblk *v)
{
	u64 desc = (u64)v->size * 16, avail = 6 + 2 * (u64)v->size;
	u64 used_off = ALIGN_UP(desc + avail, 4), used = 6 + 8 * (u64)v->size;
	u64 pages = ALIGN_UP(used_off + used, PAGE_SIZE) / PAGE_SIZE;
	u64 base = page_alloc(pages, PAGE_SIZE);
	u64 hdrs = page_alloc(ALIGN_UP(v->size * sizeof(struct vblk_hdr), PAGE_SIZE) / PAGE_SIZE,
			      PAGE_SIZE);

	v->req = kzalloc(v->size * sizeof(*v->req));
	if (!base || !hdrs || !v->req)
		return -ENOMEM;
	v->desc = (struct virtq_desc *)(uintptr_t)base;
	v->avail = (volatile u16 *)(uintptr_t)(base + desc);
	v->used = (volatile u8 *)(uintptr_t)(base + used_off);
	v->hdr = (struct vblk_hdr *)(uintptr_t)hdrs;
	for (u16 i = 0; i < v->size; i++)
		v->desc[i].next = (u16)(i + 1);
	v->free_head = 0;
	v->nr_free = v->size;
	v->avail_idx = v->last_used = 0;
	return 0;
}

int vblk_start(struct vblk *v)
{
	u64 have, want;
	u16 size;
	int ret;

	/* 3.1.1 steps 1-3: reset (and wait for it: 4.1.4.3.2), ACKNOWLEDGE, DRIVER. */
	wr8(v, VC_STATUS, 0);
	for (unsigned t = 0; rd8(v, VC_STATUS); t++) {
		if (t == 1000)
			return fail(v, "does not reset");
		hw_delay_us(1000);
	}
	wr8(v, VC_STATUS, ST_ACKNOWLEDGE);
	wr8(v, VC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
	/* Steps 4-6: features; without VERSION_1 it is a legacy-only device. */
	have = features(v);
	if (!(have & BIT(F_VERSION_1)))
		return fail(v, "offers no VIRTIO_F_VERSION_1 (legacy only): not used");
	want = have & (BIT(F_VERSION_1) | BIT(F_BLK_RO) | BIT(F_BLK_FLUSH) | BIT(F_BLK_SEG_MAX));
	wr32(v, VC_GFSELECT, 0);
	wr32(v, VC_GF, (u32)want);
	wr32(v, VC_GFSELECT, 1);
	wr32(v, VC_GF, (u32)(want >> 32));
	wr8(v, VC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
	if (!(rd8(v, VC_STATUS) & ST_FEATURES_OK))
		return fail(v, "refused our features");
	v->read_only = want & BIT(F_BLK_RO);
	v->can_flush = want & BIT(F_BLK_FLUSH);
	/* The configuration, read twice-stable by its generation (4.1.4.3.1). */
	v->capacity = mmio_read32(v->device + VBLK_CFG_CAPACITY) |
		      (u64)mmio_read32(v->device + VBLK_CFG_CAPACITY + 4) << 32;
	v->seg_max = want & BIT(F_BLK_SEG_MAX) ? mmio_read32(v->device + VBLK_CFG_SEG_MAX) : 1;
	/* Step 7: queue 0 (requestq, 5.2.2). */
	wr16(v, VC_Q_SELECT, 0);
	size = rd16(v, VC_Q_SIZE);
	if (!size || rd16(v, VC_NUM_QUEUES) < 1)
		return fail(v, "has no request queue");
	v->size = (u16)MIN(size, VBLK_QUEUE_MAX);
	v->size = (u16)(1u << (31 - __builtin_clz(v->size))); /* split queues: a power of 2 */
	if (v->seg_max == 0 || v->seg_max > (u32)v->size - 2)
		v->seg_max = (u32)v->size - 2;
	ret = queue_alloc(v);
	if (ret)
		return fail(v, "out of memory");
	wr16(v, VC_Q_SIZE, v->size);
	wr64(v, VC_Q_DESC, pa(v->desc));
	wr64(v, VC_Q_DRIVER, pa(v->avail));
	wr64(v, VC_Q_DEVICE, pa(v->used));
	/* 4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR. */
	wr16(v, VC_MSIX_CONFIG, NO_VECTOR);
	wr16(v, VC_Q_MSIX, v->msix_entry);
	if (rd16(v, VC_Q_MSIX) != v->msix_entry)
		return fail(v, "cannot signal its queue by MSI-X");
	v->notify = v->notify_base + (u32)rd16(v, VC_Q_NOTIFY_OFF) * v->notify_multiplier;
	v->waiting = NULL;
	v->waiting_tail = &v->waiting;
	wr16(v, VC_Q_ENABLE, 1);
	__atomic_store_n(&v->started, true, __ATOMIC_RELEASE);
	/* Step 8. */
	wr8(v, VC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return 0;
}

static u16 alloc_desc(struct vblk *v)
{
	u16 i = v->free_head;

	v->free_head = v->desc[i].next;
	v->nr_free--;
	return i;
}

/* Builds r's chain and puts it in the available ring. Lock held; the
 * caller checked there are enough free descriptors. */
static void queue_req(struct vblk *v, struct blk_req *r)
{
	u16 head = alloc_desc(v), prev = head, d;
	struct vblk_hdr *h = &v->hdr[head];
	bool to_device = r->op == BLK_WRITE;

	h->type = r->op == BLK_FLUSH ? VBLK_T_FLUSH : to_device ? VBLK_T_OUT : VBLK_T_IN;
	h->reserved = 0;
	h->sector = r->op == BLK_FLUSH ? 0 : r->sector;
	h->status = 0xff; /* a device that never writes it reads as an error */
	v->desc[head] = (struct virtq_desc){ pa(h), 16, VIRTQ_DESC_F_NEXT, 0 };
	for (unsigned i = 0; r->op != BLK_FLUSH && i < r->nr_segs; i++) {
		d = alloc_desc(v);
		v->desc[prev].next = d;
		v->desc[d] = (struct virtq_desc){ pa(r->seg[i].buf), r->seg[i].len,
						  (u16)(VIRTQ_DESC_F_NEXT |
							(to_device ? 0 : VIRTQ_DESC_F_WRITE)), 0 };
		prev = d;
	}
	d = alloc_desc(v);
	v->desc[prev].next = d;
	v->desc[d] = (struct virtq_desc){ pa(&h->status), 1, VIRTQ_DESC_F_WRITE, 0 };
	v->req[head] = r;
	/* avail: flags, idx, ring[] (2.7.6) */
	v->avail[2 + v->avail_idx % v->size] = head;
	v->avail_idx++;
}

static unsigned descs_needed(const struct blk_req *r)
{
	return 2 + (r->op == BLK_FLUSH ? 0 : r->nr_segs);
}

static void issue(struct vblk *v)
{
	bool queued = false;

	while (v->waiting && descs_needed(v->waiting) <= v->nr_free) {
		struct blk_req *r = v->waiting;

		v->waiting = r->next;
		if (!v->waiting)
			v->waiting_tail = &v->waiting;
		queue_req(v, r);
		queued = true;
	}
	if (!queued)
		return;
	hw_mb(); /* the ring entries before the index the device reads (2.7.13) */
	v->avail[1] = v->avail_idx;
	hw_mb(); /* the index before the flag that says whether to notify */
	if (!(*(volatile u16 *)v->used & VIRTQ_USED_F_NO_NOTIFY))
		mmio_write16(v->notify, 0); /* the queue's index (4.1.4.4) */
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

static void free_chain(struct vblk *v, u16 head)
{
	u16 i = head, n = 1;

	while (v->desc[i].flags & VIRTQ_DESC_F_NEXT) {
		i = v->desc[i].next;
		n++;
	}
	v->desc[i].next = v->free_head;
	v->free_head = head;
	v->nr_free = (u16)(v->nr_free + n);
}

void vblk_irq(void *vblk)
{
	struct vblk *v = vblk;
	struct finished fin[VBLK_QUEUE_MAX];
	unsigned nr_fin = 0;
	u64 flags;

	if (!__atomic_load_n(&v->started, __ATOMIC_ACQUIRE))
		return;
	flags = hw_irq_save();
	spin_lock(&v->lock);
	/* used: flags, idx, then ring[] of {id, len} from byte 4 (2.7.8) */
	while (v->last_used != *(volatile u16 *)(v->used + 2) && nr_fin < v->size) {
		hw_mb(); /* the entry after the index */
		u32 id = *(volatile u32 *)(v->used + 4 + 8 * (v->last_used % v->size));

		v->last_used++;
		struct blk_req *r = id < v->size ? v->req[id] : NULL;

		if (!r) {
			kprintf("%s: the device returned descriptor %u, which is not a request's "
				"head\n", v->name, id);
			continue;
		}
		v->req[id] = NULL;
		fin[nr_fin++] = (struct finished){ r, v->hdr[id].status == VBLK_S_OK ? 0 : -EIO };
		free_chain(v, (u16)id);
		v->completions++;
	}
	issue(v);
	spin_unlock(&v->lock);
	hw_irq_restore(flags);
	for (unsigned i = 0; i < nr_fin; i++)
		fin[i].req->done(fin[i].req, fin[i].status);
}
