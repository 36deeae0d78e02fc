/*
 * The driver side of modern virtio devices (drivers/virtio_drv.h).
 */
#include "drivers/virtio_drv.h"
#include "drivers/iommu.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/mm.h"

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

static u8 rd8(struct vdrv *d, u32 off) { return mmio_read8(d->common + off); }
static u16 rd16(struct vdrv *d, u32 off) { return mmio_read16(d->common + off); }
static u32 rd32(struct vdrv *d, u32 off) { return mmio_read32(d->common + off); }
static void wr8(struct vdrv *d, u32 off, u8 x) { mmio_write8(d->common + off, x); }
static void wr16(struct vdrv *d, u32 off, u16 x) { mmio_write16(d->common + off, x); }
static void wr32(struct vdrv *d, u32 off, u32 x) { mmio_write32(d->common + off, x); }

/* 64-bit fields as two 32-bit writes, low first (4.1.3.1). */
static void wr64(struct vdrv *d, u32 off, u64 x)
{
	wr32(d, off, (u32)x);
	wr32(d, off + 4, (u32)(x >> 32));
}

int vdrv_fail(struct vdrv *d, const char *why)
{
	kprintf("%s: %s\n", d->name, why);
	wr8(d, VC_STATUS, rd8(d, VC_STATUS) | ST_FAILED);
	return -EIO;
}

int vdrv_begin(struct vdrv *d, u64 want, u64 *got)
{
	u64 have;

	/* Steps 1-3: reset (and wait for it: 4.1.4.3.2), ACKNOWLEDGE, DRIVER. */
	wr8(d, VC_STATUS, 0);
	for (unsigned t = 0; rd8(d, VC_STATUS); t++) {
		if (t == 1000)
			return vdrv_fail(d, "does not reset");
		hw_delay_us(1000);
	}
	wr8(d, VC_STATUS, ST_ACKNOWLEDGE);
	wr8(d, VC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
	/* Steps 4-6: features; without VERSION_1 it is a legacy-only device. */
	wr32(d, VC_DFSELECT, 0);
	have = rd32(d, VC_DF);
	wr32(d, VC_DFSELECT, 1);
	have |= (u64)rd32(d, VC_DF) << 32;
	if (!(have & BIT(VIRTIO_F_VERSION_1)))
		return vdrv_fail(d, "offers no VIRTIO_F_VERSION_1 (legacy only): not used");
	want = (want | BIT(VIRTIO_F_VERSION_1)) & have;
	wr32(d, VC_GFSELECT, 0);
	wr32(d, VC_GF, (u32)want);
	wr32(d, VC_GFSELECT, 1);
	wr32(d, VC_GF, (u32)(want >> 32));
	wr8(d, VC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
	if (!(rd8(d, VC_STATUS) & ST_FEATURES_OK))
		return vdrv_fail(d, "refused our features");
	/* No configuration-change interrupts: nothing here acts on them. */
	wr16(d, VC_MSIX_CONFIG, VDRV_NO_VECTOR);
	*got = want;
	return 0;
}

/* Split virtqueue layout, 2.7: descriptors, then the available ring, then
 * the used ring on a 4-byte boundary; all in zeroed, contiguous pages. */
static int queue_alloc(struct vdrv_queue *q)
{
	u64 desc = (u64)q->size * 16, avail = 6 + 2 * (u64)q->size;
	u64 used_off = ALIGN_UP(desc + avail, 4), used = 6 + 8 * (u64)q->size;
	u64 base = page_alloc(ALIGN_UP(used_off + used, PAGE_SIZE) / PAGE_SIZE, PAGE_SIZE);

	if (!base)
		return -ENOMEM;
	iommu_grant_host(base, ALIGN_UP(used_off + used, PAGE_SIZE), IOMMU_READ | IOMMU_WRITE);
	q->desc = (struct virtq_desc *)(uintptr_t)base;
	q->avail = (volatile u16 *)(uintptr_t)(base + desc);
	q->used = (volatile u8 *)(uintptr_t)(base + used_off);
	for (u16 i = 0; i < q->size; i++)
		q->desc[i].next = (u16)(i + 1);
	q->free_head = 0;
	q->nr_free = q->size;
	q->avail_idx = q->last_used = 0;
	return 0;
}

int vdrv_queue_setup(struct vdrv *d, struct vdrv_queue *q, u16 index, u16 max, u16 msix)
{
	u16 size;

	wr16(d, VC_Q_SELECT, index);
	size = rd16(d, VC_Q_SIZE);
	if (!size || rd16(d, VC_NUM_QUEUES) <= index)
		return vdrv_fail(d, "has too few queues");
	size = (u16)MIN(size, max);
	q->index = index;
	q->size = (u16)(1u << (31 - __builtin_clz(size))); /* split queues: a power of 2 */
	if (queue_alloc(q))
		return vdrv_fail(d, "out of memory for a queue");
	wr16(d, VC_Q_SIZE, q->size);
	wr64(d, VC_Q_DESC, vdrv_pa(q->desc));
	wr64(d, VC_Q_DRIVER, vdrv_pa(q->avail));
	wr64(d, VC_Q_DEVICE, vdrv_pa(q->used));
	/* 4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR. */
	wr16(d, VC_Q_MSIX, msix);
	if (rd16(d, VC_Q_MSIX) != msix)
		return vdrv_fail(d, "cannot signal its queue by MSI-X");
	q->notify = d->notify_base + (u32)rd16(d, VC_Q_NOTIFY_OFF) * d->notify_multiplier;
	wr16(d, VC_Q_ENABLE, 1);
	return 0;
}

void vdrv_driver_ok(struct vdrv *d)
{
	wr8(d, VC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
}

u16 vdrv_desc_alloc(struct vdrv_queue *q)
{
	u16 i = q->free_head;

	q->free_head = q->desc[i].next;
	q->nr_free--;
	return i;
}

void vdrv_desc_free_chain(struct vdrv_queue *q, u16 head)
{
	u16 i = head, n = 1;

	/* Our own chains: at most size long, so this ends (the device cannot
	 * change them: it only reads descriptors). */
	while ((q->desc[i].flags & VIRTQ_DESC_F_NEXT) && n < q->size) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->nr_free = (u16)(q->nr_free + n);
}

void vdrv_avail_add(struct vdrv_queue *q, u16 head)
{
	/* avail: flags, idx, ring[] (2.7.6) */
	q->avail[2 + q->avail_idx % q->size] = head;
	q->avail_idx++;
}

void vdrv_avail_publish(struct vdrv_queue *q)
{
	hw_mb(); /* the ring entries before the index the device reads (2.7.13) */
	q->avail[1] = q->avail_idx;
	hw_mb(); /* the index before the flag that says whether to notify */
	if (!(*(volatile u16 *)q->used & VIRTQ_USED_F_NO_NOTIFY))
		mmio_write16(q->notify, q->index); /* the queue's index (4.1.4.4) */
}

bool vdrv_used_next(struct vdrv_queue *q, u32 *id, u32 *len)
{
	/* used: flags, idx, then ring[] of {id, len} from byte 4 (2.7.8) */
	if (q->last_used == *(volatile u16 *)(q->used + 2))
		return false;
	hw_mb(); /* the entry after the index */
	*id = *(volatile u32 *)(q->used + 4 + 8 * (q->last_used % q->size));
	*len = *(volatile u32 *)(q->used + 8 + 8 * (q->last_used % q->size));
	q->last_used++;
	return true;
}
