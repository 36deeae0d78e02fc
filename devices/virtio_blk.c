/*
 * virtio-blk requests (devices/virtio_blk.h; OASIS virtio 1.2, 5.2.6): from
 * a checked descriptor chain to a blk_req on the backend and back.
 */
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "hv/gmem.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "lib/string.h"

/* 5.2.6: struct virtio_blk_req's header, device-readable. */
struct virtio_blk_outhdr {
	u32 type;
	u32 reserved;
	u64 sector;
};
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "5.2.6 header");

/* 5.2.4: struct virtio_blk_config, the fields offered. */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_SIZE 24

/* A guest buffer of up to SIZE_MAX bytes crosses at most one 2 MiB chunk
 * boundary, so SEG_MAX buffers make at most BLK_MAX_SEGS segments. */
#define VBLK_SIZE_MAX (1u << 20)
#define VBLK_SEG_MAX (BLK_MAX_SEGS / 2 - 1)

/* One request in flight: its blk_req and where its answer goes. */
struct vblk_req {
	struct blk_req r;
	struct virtio_blk *b;
	struct virtq *vq;
	u16 head;
	u64 status_gpa;
	u32 written; /* bytes the device writes to the guest, status byte included */
	u32 gen;
	u8 id[VIRTIO_BLK_ID_BYTES];
	struct vblk_req *next_free;
};

struct virtio_blk {
	struct vm *vm;
	struct virtio_pci *vp;
	struct blockdev *bd;
	bool ro;
	struct virtio_dev_ops ops;
	char name[16];
	struct vq_chain chain;  /* scratch of the notification; under the queue's avail_lock */
	/* Bumped by a reset: a completion of an older generation does not
	 * touch the rings of the new one. */
	volatile u32 gen;
	volatile u32 inflight;
	spinlock_t pool_lock;   /* guards free */
	struct vblk_req *free;
	struct vblk_req pool[VBLK_QUEUE_SIZE];
	struct virtio_blk_stats st; /* atomic adds: completions run on any CPU */
};

static struct vblk_req *req_get(struct virtio_blk *b)
{
	struct vblk_req *q;

	spin_lock(&b->pool_lock);
	q = b->free;
	if (q)
		b->free = q->next_free;
	spin_unlock(&b->pool_lock);
	if (q)
		__atomic_fetch_add(&b->inflight, 1, __ATOMIC_ACQ_REL);
	return q;
}

static void req_put(struct virtio_blk *b, struct vblk_req *q)
{
	spin_lock(&b->pool_lock);
	q->next_free = b->free;
	b->free = q;
	spin_unlock(&b->pool_lock);
	__atomic_fetch_sub(&b->inflight, 1, __ATOMIC_ACQ_REL);
}

static void stat_add(u64 *c, u64 n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* A request answered OK: its kind and bytes. */
static void count_ok(struct virtio_blk *b, const struct blk_req *r)
{
	u64 bytes = (u64)r->nr_sectors * BLK_SECTOR;

	if (r->op == BLK_READ) {
		stat_add(&b->st.reads, 1);
		stat_add(&b->st.read_bytes, bytes);
	} else if (r->op == BLK_WRITE) {
		stat_add(&b->st.writes, 1);
		stat_add(&b->st.write_bytes, bytes);
	} else {
		stat_add(&b->st.flushes, 1);
	}
}

/* The answer: status byte, used entry, interrupt if the driver wants one. */
static void finish(struct virtio_blk *b, struct virtq *vq, u16 head, u64 status_gpa, u32 written,
		   u8 status)
{
	if (status == VIRTIO_BLK_S_IOERR)
		stat_add(&b->st.errors, 1);
	else if (status == VIRTIO_BLK_S_UNSUPP)
		stat_add(&b->st.unsupported, 1);
	gmem_write(b->vm, status_gpa, &status, 1);
	if (vq_push(vq, head, written))
		virtio_pci_queue_interrupt(b->vp, vq);
}

/* blk_req.done: any CPU, maybe an interrupt handler. */
static void req_done(struct blk_req *r, int status)
{
	struct vblk_req *q = (struct vblk_req *)r;
	struct virtio_blk *b = q->b;

	if (q->gen == b->gen) {
		if (!status)
			count_ok(b, &q->r);
		finish(b, q->vq, q->head, q->status_gpa, status ? 1 : q->written,
		       status ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
	}
	req_put(b, q);
}

/*
 * The guest bytes [off, off+len) of the chain's buffers of one direction as
 * segments, split at 2 MiB chunks (gmem_map maps within one). false when
 * they do not fit in BLK_MAX_SEGS.
 */
static bool build_segs(struct virtio_blk *b, const struct vq_chain *c, bool write, u32 off,
		       u32 len, struct blk_req *r)
{
	r->nr_segs = 0;
	for (unsigned i = 0; i < c->nr && len; i++) {
		const struct vq_buf *vb = &c->buf[i];
		u64 gpa;
		u32 n;

		if (vb->write != write)
			continue;
		if (off >= vb->len) {
			off -= vb->len;
			continue;
		}
		gpa = vb->addr + off;
		n = MIN(vb->len - off, len);
		off = 0;
		len -= n;
		while (n) {
			u32 piece = (u32)MIN((u64)n, GMEM_CHUNK - (gpa & (GMEM_CHUNK - 1)));
			void *p = gmem_map(b->vm, gpa, piece, write);

			if (!p || r->nr_segs == BLK_MAX_SEGS)
				return false;
			r->seg[r->nr_segs++] = (struct blk_seg){ p, piece };
			gpa += piece;
			n -= piece;
		}
	}
	return len == 0;
}

/* One chain, checked by the virtqueue; false when it broke the queue. */
static bool handle(struct virtio_blk *b, struct virtq *vq, const struct vq_chain *c)
{
	const struct vq_buf *last = &c->buf[c->nr - 1];
	struct virtio_blk_outhdr h;
	struct vblk_req *q;
	u64 status_gpa;
	u32 data;
	int err;

	/* 5.2.6.1: the header readable, the status byte the last writable one.
	 * A driver that gets these wrong is broken, not merely failing. */
	if (c->out_len < sizeof(h)) {
		vq_fail(vq, "a request without a readable header");
		return false;
	}
	if (!c->in_len || !last->write || !last->len) {
		vq_fail(vq, "a request without a writable status byte");
		return false;
	}
	vq_read_out(b->vm, c, 0, &h, sizeof(h));
	status_gpa = last->addr + last->len - 1;
	q = c->nr_all > c->nr ? NULL : req_get(b); /* too many buffers: an I/O error */
	if (!q) {
		finish(b, vq, c->head, status_gpa, 1, VIRTIO_BLK_S_IOERR);
		return true;
	}
	memset(&q->r, 0, offsetof(struct blk_req, seg));
	q->b = b;
	q->vq = vq;
	q->head = c->head;
	q->status_gpa = status_gpa;
	q->gen = b->gen;
	q->written = 1;
	q->r.done = req_done;
	q->r.ctx = q;
	q->r.sector = h.sector;
	err = 0;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		data = c->in_len - 1;
		q->r.op = BLK_READ;
		q->written += data;
		if (data % BLK_SECTOR || !build_segs(b, c, true, 0, data, &q->r))
			err = -EINVAL;
		q->r.nr_sectors = data / BLK_SECTOR;
		break;
	case VIRTIO_BLK_T_OUT:
		data = c->out_len - sizeof(h);
		q->r.op = BLK_WRITE;
		if (b->ro)
			err = -EROFS;
		else if (data % BLK_SECTOR || !build_segs(b, c, false, sizeof(h), data, &q->r))
			err = -EINVAL;
		q->r.nr_sectors = data / BLK_SECTOR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		q->r.op = BLK_FLUSH;
		q->r.sector = 0;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		/* 5.2.6: 20 bytes, NUL-padded, not terminated if 20 long. */
		u8 id[VIRTIO_BLK_ID_BYTES] = { 0 };
		u32 n = MIN(c->in_len - 1, (u32)sizeof(id));

		memcpy(id, b->bd->name, MIN(strlen(b->bd->name), sizeof(id)));
		vq_write_in(b->vm, c, 0, id, n);
		req_put(b, q);
		finish(b, vq, c->head, status_gpa, n + 1, VIRTIO_BLK_S_OK);
		return true;
	}
	default:
		req_put(b, q);
		finish(b, vq, c->head, status_gpa, 1, VIRTIO_BLK_S_UNSUPP);
		return true;
	}
	/* blockdev_submit's range check makes a request outside the disk
	 * -EINVAL: an I/O error to the guest (5.2.6.2). */
	if (!err)
		err = blockdev_submit(b->bd, &q->r);
	if (err) {
		u32 gen = q->gen;

		req_put(b, q);
		if (gen == b->gen)
			finish(b, vq, c->head, status_gpa, 1, VIRTIO_BLK_S_IOERR);
	}
	return true;
}

/* A kick: every chain available now, at most a queue's worth. */
static void blk_notify(void *dev, struct virtq *vq)
{
	struct virtio_blk *b = dev;

	spin_lock(&vq->avail_lock);
	for (unsigned n = 0; n < vq->size; n++) {
		if (vq_pop(vq, &b->chain) <= 0 || !handle(b, vq, &b->chain))
			break;
	}
	spin_unlock(&vq->avail_lock);
}

static u32 blk_cfg_read(void *dev, u32 off, u8 size)
{
	struct virtio_blk *b = dev;
	u8 cfg[CFG_SIZE] = { 0 };
	u32 v = 0;

	memcpy(cfg + CFG_CAPACITY, &b->bd->nr_sectors, 8);
	memcpy(cfg + CFG_SIZE_MAX, &(u32){ VBLK_SIZE_MAX }, 4);
	memcpy(cfg + CFG_SEG_MAX, &(u32){ VBLK_SEG_MAX }, 4);
	memcpy(cfg + CFG_BLK_SIZE, &(u32){ BLK_SECTOR }, 4);
	memcpy(&v, cfg + off, size);
	return v;
}

static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;

	__atomic_fetch_add(&b->gen, 1, __ATOMIC_ACQ_REL);
}

void virtio_blk_stats(const struct virtio_blk *b, struct virtio_blk_stats *out)
{
	const u64 *from = (const u64 *)&b->st;
	u64 *to = (u64 *)out;

	_Static_assert(sizeof(*out) % sizeof(u64) == 0, "u64 counters only");
	/* Each counter alone: a reader on another CPU sees each whole. */
	for (unsigned i = 0; i < sizeof(*out) / sizeof(u64); i++)
		to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

struct virtio_pci *virtio_blk_pci(struct virtio_blk *b)
{
	return b->vp;
}

struct virtio_blk *virtio_blk_create(struct vm *vm, struct pci_host *host, u8 devfn,
				     u64 bar_base, const char *name, struct blockdev *bd,
				     bool ro)
{
	struct virtio_blk *b = kzalloc(sizeof(*b));

	if (!b)
		return NULL;
	b->vm = vm;
	b->bd = bd;
	b->ro = ro || bd->read_only;
	strlcpy(b->name, name, sizeof(b->name));
	for (unsigned i = 0; i < VBLK_QUEUE_SIZE; i++) {
		b->pool[i].next_free = b->free;
		b->free = &b->pool[i];
	}
	b->ops = (struct virtio_dev_ops){
		.device_id = VIRTIO_ID_BLOCK,
		.class_code = 0x018000, /* mass storage, other */
		.nr_queues = 1,
		.queue_size = VBLK_QUEUE_SIZE,
		.cfg_size = CFG_SIZE,
		.features = BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |
			    BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) |
			    (b->ro ? BIT(VIRTIO_BLK_F_RO) : 0),
		.cfg_read = blk_cfg_read,
		.notify = blk_notify,
		.reset = blk_reset,
	};
	b->vp = virtio_pci_create(vm, host, devfn, bar_base, b->name, &b->ops, b);
	if (!b->vp) {
		kfree(b);
		return NULL;
	}
	return b;
}

void virtio_blk_drain(struct virtio_blk *b)
{
	while (__atomic_load_n(&b->inflight, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	virtio_blk_drain(b);
	virtio_pci_destroy(b->vp);
	kfree(b);
}

void virtio_blk_reset(struct virtio_blk *b)
{
	virtio_pci_reset(b->vp);
}

/* Snapshot: nothing in flight, then the transport (the queue is in it). */
int virtio_blk_save(const struct virtio_blk *b, struct snap_writer *w)
{
	virtio_blk_drain((struct virtio_blk *)b);
	return virtio_pci_save(b->vp, w);
}

int virtio_blk_load(struct virtio_blk *b, struct snap_cursor *c)
{
	return virtio_pci_load(b->vp, c);
}
