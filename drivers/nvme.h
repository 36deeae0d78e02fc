/*
 * The NVMe driver's core (drivers/nvme.c): one controller, its admin queue,
 * one I/O queue pair completing by interrupt. Bus-independent and
 * host-testable: drivers/nvme_pci.c finds the controller, maps its
 * registers, routes its MSI-X vector and registers the blockdev. Register
 * and queue layouts: NVM Express Base Specification 1.4 (sections cited
 * where used); nothing here needs 2.0.
 */
#ifndef DRIVERS_NVME_H
#define DRIVERS_NVME_H

#include "hv/blockdev.h"
#include "hv/spinlock.h"
#include "hv/types.h"

/* Command slots: one per I/O SQ entry but one (a full SQ is tail + 1 == head). */
#define NVME_IO_QUEUE_SIZE 32
#define NVME_ADMIN_QUEUE_SIZE 8
/* Per command, further limited by MDTS; also each slot's bounce buffer (made
 * at start: an interrupt handler cannot allocate), 31 x 64 KiB in all. */
#define NVME_MAX_XFER (64 * 1024)

struct nvme_sqe { /* Submission Queue Entry, 4.2 (Figure 104) */
	u8 opcode;
	u8 flags; /* FUSE 1:0, PSDT 7:6: 0 = PRPs */
	u16 cid;
	u32 nsid;
	u64 rsvd;
	u64 mptr;
	u64 prp1, prp2;
	u32 cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "NVMe 1.4, 4.2: 64-byte SQ entries");

struct nvme_cqe { /* Completion Queue Entry, 4.6 (Figure 121) */
	u32 dw0;
	u32 rsvd;
	u16 sq_head;
	u16 sq_id;
	u16 cid;
	u16 status; /* bit 0: phase tag; 15:1: status field (SC 8:1, SCT 11:9) */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "NVMe 1.4, 4.6: 16-byte CQ entries");

struct nvme_queue {
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	u16 size;
	u16 sq_tail, cq_head;
	u8 phase; /* the phase tag a new entry carries (starts at 1, 4.6.2) */
	volatile u32 *sq_doorbell, *cq_doorbell;
};

/* One command in flight: a piece ("chunk") of a blk_req. The first chunk's
 * slot ("owner") also keeps the request's progress until it is done. */
struct nvme_slot {
	struct blk_req *req;    /* non-NULL: in use (command out, or owner of req) */
	bool cmd_busy;          /* its command is with the controller */
	u16 owner;              /* the slot holding req's progress */
	u32 off, len;           /* the chunk's bytes within req */
	u64 *prp_list;          /* one page */
	u8 *bounce;             /* NVME_MAX_XFER bytes, for segments PRPs cannot describe */
	bool bounced;
	/* owner only: */
	u64 next_off;           /* bytes of req handed out so far */
	u32 pending;            /* its chunks still with the controller */
	int status;
};

struct nvme_ctrl {
	volatile u8 *regs;
	const char *name;
	u32 dstrd;        /* doorbell stride, bytes */
	u64 timeout_us;   /* CAP.TO */
	u32 max_xfer;     /* bytes per command */
	u32 nsid;
	u64 nr_lbas;
	u32 lba_size;
	bool volatile_cache;
	u16 irq_entry;    /* the MSI-X entry the I/O CQ signals */
	u16 nr_slots;     /* I/O queue size - 1 */
	bool started;     /* the I/O queues exist: the interrupt handler may run */
	char model[41], serial[21];

	struct nvme_queue admin, io;
	spinlock_t lock; /* guards io, slots, waiting; taken with interrupts off */
	struct nvme_slot slots[NVME_IO_QUEUE_SIZE - 1];
	struct blk_req *waiting, **waiting_tail; /* no slot yet (FIFO) */
	u64 completions, interrupts;
};

/*
 * Resets and enables the controller, identifies it and its first namespace,
 * creates the I/O queue pair signalling MSI-X entry ctrl->irq_entry. regs,
 * name and irq_entry are set by the caller. 0, or a negative errno after a
 * line saying why.
 */
int nvme_start(struct nvme_ctrl *c);
/* blockdev_ops.submit for the controller in bd->priv. */
int nvme_submit(struct blockdev *bd, struct blk_req *r);
/* The I/O queue's interrupt handler: completes what the controller finished. */
void nvme_irq(void *ctrl);

#endif
