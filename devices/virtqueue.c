/*
 * Split virtqueues, the device side (devices/virtqueue.h; OASIS virtio 1.2,
 * 2.7). Every guest value is read once into a local, checked, then used:
 * the driver may change the rings under us at any time.
 */
#include "devices/virtqueue.h"
#include "hv/console.h"
#include "hv/gmem.h"
#include "hv/vm.h"
#include "lib/string.h"

void vq_reset(struct virtq *vq)
{
	vq->size = 0;
	vq->enabled = false;
	vq->desc = vq->avail = vq->used = 0;
	vq->event_idx = vq->indirect = false;
	vq->msix_vector = 0xffff; /* VIRTIO_MSI_NO_VECTOR (4.1.5.1.2) */
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->broken = false;
}

void vq_fail(struct virtq *vq, const char *why)
{
	/* The first caller logs and tells the device; a completion racing a
	 * notification may get here twice. */
	if (__atomic_exchange_n(&vq->broken, true, __ATOMIC_ACQ_REL))
		return;
	kprintf("utsuwa: vm %s: %s queue %u: %s; the device needs a reset\n", vq->vm->name,
		vq->dev_name, vq->index, why);
	if (vq->on_fail)
		vq->on_fail(vq->fail_ctx, vq);
}

/* [gpa, gpa+len) inside RAM, without overflow. */
static bool in_ram(struct virtq *vq, u64 gpa, u64 len)
{
	return gmem_in_ram(&vq->vm->gmem, gpa, len);
}

bool vq_config_ok(const struct virtq *vq)
{
	struct virtq *q = (struct virtq *)vq;
	u64 n = vq->size;

	/* 2.7: size a power of two up to 32768 (ours: VQ_MAX_SIZE); the
	 * alignments of 2.7 table "Virtqueue Part Alignment". */
	if (!n || n > VQ_MAX_SIZE || (n & (n - 1)))
		return false;
	if (!IS_ALIGNED(vq->desc, 16) || !IS_ALIGNED(vq->avail, 2) || !IS_ALIGNED(vq->used, 4))
		return false;
	return in_ram(q, vq->desc, 16 * n) && in_ram(q, vq->avail, 6 + 2 * n) &&
	       in_ram(q, vq->used, 6 + VIRTQ_USED_ELEM * n);
}

static bool read16(struct virtq *vq, u64 gpa, u16 *v)
{
	return gmem_read(vq->vm, gpa, v, 2) == 0;
}

/* Appends one checked buffer to c; keeps the last one in the final slot
 * once the array is full. */
static void add_buf(struct vq_chain *c, u64 addr, u32 len, bool write)
{
	unsigned slot = c->nr < VQ_MAX_BUFS ? c->nr++ : VQ_MAX_BUFS - 1;

	c->buf[slot] = (struct vq_buf){ addr, len, write };
	c->nr_all++;
}

/*
 * One buffer descriptor's checks (2.7.5, 2.7.4.2): inside RAM, lengths that
 * do not overflow the u32 the used ring reports, and no readable buffer
 * after a writable one. NULL, or why not.
 */
static const char *check_buf(struct virtq *vq, struct vq_chain *c, const struct virtq_desc *d)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;

	if (!in_ram(vq, d->addr, d->len))
		return "a buffer outside the VM's RAM";
	if (!write && c->in_len)
		return "a device-readable buffer after a device-writable one";
	if ((u64)c->out_len + c->in_len + d->len > UINT32_MAX)
		return "the chain's lengths overflow";
	if (write)
		c->in_len += d->len;
	else
		c->out_len += d->len;
	add_buf(c, d->addr, d->len, write);
	return NULL;
}

/* The indirect table d points at (2.7.5.3): a whole chain of its own. */
static const char *walk_indirect(struct virtq *vq, struct vq_chain *c, const struct virtq_desc *d)
{
	u32 n = d->len / sizeof(struct virtq_desc);
	struct virtq_desc e;
	u32 i = 0, steps = 0;
	const char *why;

	if (!vq->indirect)
		return "an indirect descriptor, not negotiated";
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return "an indirect descriptor with NEXT set";
	if (!d->len || d->len % sizeof(struct virtq_desc) || n > VQ_MAX_INDIRECT)
		return "an indirect table of bad size";
	if (!in_ram(vq, d->addr, d->len))
		return "an indirect table outside the VM's RAM";
	for (;;) {
		/* Each entry visited at most once: more steps than entries is a loop. */
		if (++steps > n)
			return "a loop in an indirect table";
		if (gmem_read(vq->vm, d->addr + (u64)i * sizeof(e), &e, sizeof(e)))
			return "an indirect table outside the VM's RAM";
		if (e.flags & VIRTQ_DESC_F_INDIRECT)
			return "an indirect table inside an indirect table";
		why = check_buf(vq, c, &e);
		if (why)
			return why;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return NULL;
		if (e.next >= n)
			return "a next index outside the indirect table";
		i = e.next;
	}
}

/* The chain starting at head, checked whole into c. NULL, or why not. */
static const char *walk_chain(struct virtq *vq, u16 head, struct vq_chain *c)
{
	struct virtq_desc d;
	u32 i = head, steps = 0;
	const char *why;

	memset(c, 0, offsetof(struct vq_chain, buf));
	c->head = head;
	if (head >= vq->size)
		return "a head index outside the descriptor table";
	for (;;) {
		/* 2.7.5.3.1 and 2.7.4: no chain is longer than the queue, so a
		 * longer walk is a loop. */
		if (++steps > vq->size)
			return "a chain longer than the queue (a loop?)";
		if (gmem_read(vq->vm, vq->desc + (u64)i * sizeof(d), &d, sizeof(d)))
			return "the descriptor table outside the VM's RAM";
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return walk_indirect(vq, c, &d); /* it ends the chain */
		why = check_buf(vq, c, &d);
		if (why)
			return why;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return NULL;
		if (d.next >= vq->size)
			return "a next index outside the descriptor table";
		i = d.next;
	}
}

/* 2.7.10: with event index, tell the driver which avail index to kick at. */
static bool publish_avail_event(struct virtq *vq)
{
	u16 v = vq->last_avail;

	return gmem_write(vq->vm, vq->used + VIRTQ_USED_RING + (u64)VIRTQ_USED_ELEM * vq->size,
			  &v, 2) == 0;
}

int vq_pop(struct virtq *vq, struct vq_chain *c)
{
	u16 avail_idx, head;
	const char *why;
	int pass;

	if (vq->broken || !vq->enabled)
		return vq->broken ? -EFAULT : 0;
	/* Twice at most: with event index, publish, then look again for a
	 * buffer added meanwhile (the driver saw the old avail_event). */
	for (pass = 0; pass < 2; pass++) {
		if (!read16(vq, vq->avail + VIRTQ_AVAIL_IDX, &avail_idx)) {
			vq_fail(vq, "the available ring outside the VM's RAM");
			return -EFAULT;
		}
		/* 2.7.6: the driver is never more than a queue ahead. */
		if ((u16)(avail_idx - vq->last_avail) > vq->size) {
			vq_fail(vq, "the available index more than a queue ahead");
			return -EFAULT;
		}
		if (avail_idx != vq->last_avail)
			break;
		if (!vq->event_idx || pass)
			return 0;
		if (!publish_avail_event(vq)) {
			vq_fail(vq, "the used ring outside the VM's RAM");
			return -EFAULT;
		}
		/* The store above before the load of avail->idx (2.7.10). */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	/* The ring entry after the index that published it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!read16(vq, vq->avail + VIRTQ_AVAIL_RING + 2ULL * (vq->last_avail % vq->size), &head)) {
		vq_fail(vq, "the available ring outside the VM's RAM");
		return -EFAULT;
	}
	why = walk_chain(vq, head, c);
	if (why) {
		vq_fail(vq, why);
		return -EFAULT;
	}
	vq->last_avail++;
	if (vq->event_idx && !publish_avail_event(vq)) {
		vq_fail(vq, "the used ring outside the VM's RAM");
		return -EFAULT;
	}
	return 1;
}

/* 2.7.10: the driver wants an interrupt when used_idx passes used_event. */
static bool need_event(u16 event, u16 new_idx, u16 old)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
}

bool vq_push(struct virtq *vq, u16 head, u32 len)
{
	struct { u32 id, len; } elem = { head, len };
	u16 old, flags, event;
	bool notify = false;

	spin_lock(&vq->used_lock);
	if (vq->broken || !vq->enabled)
		goto out;
	old = vq->used_idx;
	if (gmem_write(vq->vm, vq->used + VIRTQ_USED_RING + (u64)VIRTQ_USED_ELEM * (old % vq->size),
		       &elem, sizeof(elem))) {
		spin_unlock(&vq->used_lock);
		vq_fail(vq, "the used ring outside the VM's RAM");
		return false;
	}
	/* The element before the index that publishes it (2.7.8). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx = (u16)(old + 1);
	gmem_write(vq->vm, vq->used + VIRTQ_USED_IDX, &vq->used_idx, 2);
	/* The index store before the load of the driver's wish. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		/* Compare with the last index signalled, not just old: pushes
		 * that did not interrupt count too (2.7.10). */
		if (read16(vq, vq->avail + VIRTQ_AVAIL_RING + 2ULL * vq->size, &event)) {
			u16 since = vq->signalled_valid ? vq->signalled_used : old;

			notify = need_event(event, vq->used_idx, since);
		}
	} else if (read16(vq, vq->avail, &flags)) {
		notify = !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	if (notify) {
		vq->signalled_used = vq->used_idx;
		vq->signalled_valid = true;
	}
out:
	spin_unlock(&vq->used_lock);
	return notify;
}

/* Copies across the chain's buffers of one direction; dir_write picks them. */
static u32 copy_chain(struct vm *vm, const struct vq_chain *c, bool dir_write, u32 off, void *host,
		      u32 len)
{
	u8 *h = host;
	u32 done = 0;

	for (unsigned i = 0; i < c->nr && done < len; i++) {
		const struct vq_buf *b = &c->buf[i];
		u32 n;

		if (b->write != dir_write)
			continue;
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		n = MIN(b->len - off, len - done);
		/* Cannot fail: walk_chain checked the buffer is in RAM. */
		if (dir_write)
			gmem_write(vm, b->addr + off, h + done, n);
		else
			gmem_read(vm, b->addr + off, h + done, n);
		done += n;
		off = 0;
	}
	return done;
}

u32 vq_read_out(struct vm *vm, const struct vq_chain *c, u32 off, void *dst, u32 len)
{
	return copy_chain(vm, c, false, off, dst, len);
}

u32 vq_write_in(struct vm *vm, const struct vq_chain *c, u32 off, const void *src, u32 len)
{
	return copy_chain(vm, c, true, off, (void *)src, len);
}
