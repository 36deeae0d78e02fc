/*
 * Split virtqueues, the device side (OASIS virtio 1.2, 2.7): the driver
 * posts descriptor chains in the descriptor table and their heads in the
 * available ring; the device consumes them and returns each head with the
 * bytes it wrote in the used ring. Event index (2.7.10) and indirect
 * descriptors (2.7.5.3) are supported when negotiated.
 *
 * Everything the driver wrote is untrusted. The rings and buffers are read
 * and written only through the guest-memory accessors (include/hv/gmem.h),
 * and every chain is checked whole before the device sees any of it: an
 * index or address outside the table or RAM, a loop, a chain longer than the
 * queue, an indirect table inside another or of a bad size, lengths whose sum
 * overflows, a readable buffer after a writable one. Any of these breaks the
 * queue (vq_fail): it stops, its device is told (and sets NEEDS_RESET,
 * 2.1.2), one log line names the VM and the queue; other queues go on.
 * The work per notification is bounded: at most vq->size chains, each of
 * at most vq->size descriptors plus one indirect table of VQ_MAX_INDIRECT.
 *
 * Locking: the available side (vq_pop) is serialized by avail_lock, held by
 * the device across one notification; the used side (vq_push) by used_lock,
 * which completions may take from any CPU, possibly in an interrupt handler.
 * The two are never nested, so a completion inside a notification (a RAM
 * disk completes at once) is fine.
 */
#ifndef DEVICES_VIRTQUEUE_H
#define DEVICES_VIRTQUEUE_H

#include "hv/spinlock.h"
#include "hv/types.h"

struct vm;

/* 2.7.5: the descriptor, and its flags. */
struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes (2.7.5)");

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

/* 2.7.6: avail { u16 flags; u16 idx; u16 ring[size]; u16 used_event; } */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_AVAIL_IDX 2
#define VIRTQ_AVAIL_RING 4
/* 2.7.8: used { u16 flags; u16 idx; struct { u32 id, len; } ring[size]; u16 avail_event; } */
#define VIRTQ_USED_IDX 2
#define VIRTQ_USED_RING 4
#define VIRTQ_USED_ELEM 8

/* Feature bits of the rings (6, "Reserved Feature Bits"). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29

/* The largest queue this device side offers (a power of two, 2.7). */
#define VQ_MAX_SIZE 256
/* Entries of one indirect table (2.7.5.3): larger is refused. */
#define VQ_MAX_INDIRECT 256
/* Buffers of one chain kept for the device; a longer (valid) chain is
 * reported by vq_chain.nr_all > VQ_MAX_BUFS and its last buffer kept. */
#define VQ_MAX_BUFS 64

struct vq_buf {
	u64 addr; /* guest-physical, [addr, addr+len) inside RAM */
	u32 len;
	bool write; /* device-writable */
};

struct vq_chain {
	u16 head;        /* what vq_push gives back */
	u16 nr;          /* buffers in buf[] */
	u32 nr_all;      /* buffers in the chain */
	u32 out_len;     /* bytes readable by the device */
	u32 in_len;      /* bytes writable by the device */
	struct vq_buf buf[VQ_MAX_BUFS]; /* the first VQ_MAX_BUFS - 1, then the last */
};

struct virtq {
	struct vm *vm;
	const char *dev_name; /* for the log line: "virtio-blk0" */
	u16 index;            /* the queue's number in its device */

	/* As the driver configured it (4.1.4.3); read by vq_pop and vq_push. */
	u16 size;             /* entries, a power of two, 1..VQ_MAX_SIZE */
	bool enabled;
	u64 desc, avail, used; /* guest-physical */
	bool event_idx, indirect; /* negotiated features */
	u16 msix_vector;      /* the transport's */

	spinlock_t avail_lock; /* guards last_avail */
	u16 last_avail;       /* the next available-ring entry to take */

	spinlock_t used_lock;  /* guards used_idx, signalled_used */
	u16 used_idx;         /* the device's used->idx */
	u16 signalled_used;   /* used_idx at the last interrupt (2.7.10) */
	bool signalled_valid;

	volatile bool broken; /* vq_fail was called: nothing more is done */
	/* Told once when the queue breaks (the device sets NEEDS_RESET). */
	void (*on_fail)(void *ctx, struct virtq *vq);
	void *fail_ctx;
};

/* Back to the state after device reset (2.1.2): disabled, indices 0. */
void vq_reset(struct virtq *vq);

/* Checks the queue's configuration as the driver enables it: size a power of
 * two, the rings aligned (2.7: 16, 2, 4) and inside RAM. false: not usable. */
bool vq_config_ok(const struct virtq *vq);

/*
 * Takes the next available chain into *c, checked whole. 1: one taken; 0:
 * none available (then, with event index, avail_event has been published
 * and rechecked, 2.7.10); -EFAULT: the queue is broken (vq_fail was called).
 * Call with avail_lock held.
 */
int vq_pop(struct virtq *vq, struct vq_chain *c);

/* Returns head to the driver with len bytes written. Takes used_lock. true
 * when the driver wants an interrupt now (2.7.7.2, 2.7.10). */
bool vq_push(struct virtq *vq, u16 head, u32 len);

/* Copies between a chain's buffers and host memory, skipping off bytes of
 * the readable (out) or writable (in) part. Return bytes copied. */
u32 vq_read_out(struct vm *vm, const struct vq_chain *c, u32 off, void *dst, u32 len);
u32 vq_write_in(struct vm *vm, const struct vq_chain *c, u32 off, const void *src, u32 len);

/* Breaks the queue: one log line "vm <vm>: <dev> queue <n>: <why>", then
 * on_fail. Only the first call logs. */
void vq_fail(struct virtq *vq, const char *why);

#endif
