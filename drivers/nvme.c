/*
 * The NVMe driver's core (drivers/nvme.h): bring-up by NVMe 1.4, 7.6.1
 * ("Initialization"), admin commands polled (boot only), I/O completed by
 * the I/O completion queue's MSI-X interrupt. A blk_req becomes one command
 * per NVME_MAX_XFER bytes, each described by PRPs (4.3) built from the
 * request's segments, or from a bounce buffer when the segments break the
 * PRP rules (only the first entry may start inside a page; every entry but
 * the last must run to its page's end).
 */
#include "drivers/nvme.h"
#include "drivers/iommu.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/string.h"

/* Controller registers, 3.1 (Figure 78). */
#define NVME_CAP 0x00
#define NVME_VS 0x08
#define NVME_CC 0x14
#define NVME_CSTS 0x1c
#define NVME_AQA 0x24
#define NVME_ASQ 0x28
#define NVME_ACQ 0x30
#define NVME_DOORBELLS 0x1000

#define CAP_MQES(c) ((u32)((c) & 0xffff))          /* max queue entries - 1 */
#define CAP_TO(c) ((u32)(((c) >> 24) & 0xff))      /* 500 ms units */
#define CAP_DSTRD(c) ((u32)(((c) >> 32) & 0xf))    /* stride 4 << DSTRD */
#define CAP_CSS_NVM(c) (((c) >> 37) & 1)
#define CAP_MPSMIN(c) ((u32)(((c) >> 48) & 0xf))   /* 4 KiB << MPSMIN */

#define CC_EN BIT(0)
#define CC_CSS_NVM (0 << 4)
#define CC_MPS_4K (0 << 7)
#define CC_AMS_RR (0 << 11)
#define CC_IOSQES (6 << 16) /* 2^6 = 64-byte SQ entries */
#define CC_IOCQES (4 << 20) /* 2^4 = 16-byte CQ entries */
#define CSTS_RDY BIT(0)
#define CSTS_CFS BIT(1)

/* Admin commands (5, Figure 139) and NVM commands (6, Figure 346). */
#define ADMIN_CREATE_SQ 0x01
#define ADMIN_CREATE_CQ 0x05
#define ADMIN_IDENTIFY 0x06
#define ADMIN_SET_FEATURES 0x09
#define FEAT_NR_QUEUES 0x07
#define IDENTIFY_NS 0x00
#define IDENTIFY_CTRL 0x01
#define NVM_FLUSH 0x00
#define NVM_WRITE 0x01
#define NVM_READ 0x02

#define QUEUE_PC BIT(0)     /* physically contiguous (5.3, 5.4) */
#define CQ_IEN BIT(1)       /* interrupts enabled (5.3) */
#define NVME_PAGE 4096u     /* CC.MPS = 0 */

static u32 rd32(struct nvme_ctrl *c, u32 off) { return mmio_read32(c->regs + off); }
static void wr32(struct nvme_ctrl *c, u32 off, u32 v) { mmio_write32(c->regs + off, v); }

/* 64-bit registers as two 32-bit accesses, low first (3.1: allowed). */
static u64 rd64(struct nvme_ctrl *c, u32 off)
{
	u64 lo = rd32(c, off);

	return lo | (u64)rd32(c, off + 4) << 32;
}

static void wr64(struct nvme_ctrl *c, u32 off, u64 v)
{
	wr32(c, off, (u32)v);
	wr32(c, off + 4, (u32)(v >> 32));
}

/* Every page the controller is given: queues, PRP lists, bounce buffers,
 * identify data; granted to it (drivers/iommu.h). */
static void *alloc_pages(u64 n)
{
	u64 p = page_alloc(n, PAGE_SIZE);

	if (p)
		iommu_grant_host(p, n * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
	return (void *)(uintptr_t)p;
}

static u64 pa(const volatile void *p)
{
	return (u64)(uintptr_t)p; /* identity-mapped */
}

static int queue_init(struct nvme_ctrl *c, struct nvme_queue *q, u16 qid, u16 size)
{
	q->size = size;
	q->sq = alloc_pages(ALIGN_UP(size * sizeof(struct nvme_sqe), PAGE_SIZE) / PAGE_SIZE);
	q->cq = alloc_pages(ALIGN_UP(size * sizeof(struct nvme_cqe), PAGE_SIZE) / PAGE_SIZE);
	if (!q->sq || !q->cq)
		return -ENOMEM;
	q->sq_tail = q->cq_head = 0;
	q->phase = 1;
	/* Doorbells, 3.1.24-25: SQ y tail at 0x1000 + 2y * stride, CQ y head next. */
	q->sq_doorbell = (volatile u32 *)(c->regs + NVME_DOORBELLS + 2 * qid * c->dstrd);
	q->cq_doorbell = (volatile u32 *)(c->regs + NVME_DOORBELLS + (2 * qid + 1) * c->dstrd);
	return 0;
}

/* The entry at the CQ head if the controller has posted it (its phase tag
 * is the one this pass expects, 4.6.2), else NULL. */
static volatile struct nvme_cqe *cq_peek(struct nvme_queue *q)
{
	volatile struct nvme_cqe *e = &q->cq[q->cq_head];

	if ((e->status & 1) != q->phase)
		return NULL;
	hw_mb(); /* the rest of the entry after its phase tag */
	return e;
}

static void cq_pop(struct nvme_queue *q)
{
	if (++q->cq_head == q->size) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
}

static void sq_push(struct nvme_queue *q, const struct nvme_sqe *cmd)
{
	q->sq[q->sq_tail] = *cmd;
	if (++q->sq_tail == q->size)
		q->sq_tail = 0;
}

/* An admin command, waited for by polling: only at start-up. */
static int admin(struct nvme_ctrl *c, struct nvme_sqe *cmd, const char *what)
{
	struct nvme_queue *q = &c->admin;
	volatile struct nvme_cqe *e;

	cmd->cid = q->sq_tail;
	sq_push(q, cmd);
	hw_mb();
	mmio_write32(q->sq_doorbell, q->sq_tail);
	for (u64 t = 0; !(e = cq_peek(q)); t += 100) {
		if (t >= c->timeout_us) {
			kprintf("%s: %s: no completion within %lu ms\n", c->name, what,
				c->timeout_us / 1000);
			return -ETIMEDOUT;
		}
		hw_delay_us(100);
	}
	u16 status = e->status >> 1, cid = e->cid;
	cq_pop(q);
	mmio_write32(q->cq_doorbell, q->cq_head);
	if (status || cid != cmd->cid) {
		kprintf("%s: %s failed: status %x (type %u, code %02x)\n", c->name, what, status,
			(status >> 8) & 7, status & 0xff);
		return -EIO;
	}
	return 0;
}

static int wait_ready(struct nvme_ctrl *c, bool ready)
{
	for (u64 t = 0;; t += 1000) {
		u32 csts = rd32(c, NVME_CSTS);

		if (ready && (csts & CSTS_CFS)) {
			kprintf("%s: controller fatal status while enabling\n", c->name);
			return -EIO;
		}
		if (!!(csts & CSTS_RDY) == ready)
			return 0;
		if (t >= c->timeout_us) {
			kprintf("%s: CSTS.RDY did not become %u within %lu ms\n", c->name, ready,
				c->timeout_us / 1000);
			return -ETIMEDOUT;
		}
		hw_delay_us(1000);
	}
}

/* Printable ASCII of an identify string field, trailing spaces dropped. */
static void id_string(char *out, const u8 *in, unsigned n)
{
	unsigned len = 0;

	for (unsigned i = 0; i < n; i++) {
		out[i] = in[i] >= ' ' && in[i] <= '~' ? (char)in[i] : '?';
		if (in[i] != ' ')
			len = i + 1;
	}
	out[len] = 0;
}

static u32 get32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 get64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

/* Identify Controller (Figure 247) and Namespace (Figure 245). */
static int identify(struct nvme_ctrl *c, u8 *buf)
{
	struct nvme_sqe cmd = { .opcode = ADMIN_IDENTIFY, .prp1 = pa(buf), .cdw10 = IDENTIFY_CTRL };
	u32 nn, mdts, lbaf;
	int ret = admin(c, &cmd, "identify controller");

	if (ret)
		return ret;
	id_string(c->serial, buf + 4, 20);
	id_string(c->model, buf + 24, 40);
	mdts = buf[77];
	nn = get32(buf + 516);
	c->volatile_cache = buf[525] & 1;
	c->max_xfer = NVME_MAX_XFER;
	/* MDTS: 2^n minimum pages (MPSMIN, 4 KiB here); 0 = no limit. */
	if (mdts && mdts < 5 && (NVME_PAGE << mdts) < c->max_xfer)
		c->max_xfer = NVME_PAGE << mdts;
	if (nn < 1) {
		kprintf("%s: no namespaces\n", c->name);
		return -ENODEV;
	}
	c->nsid = 1;
	memset(buf, 0, NVME_PAGE);
	cmd = (struct nvme_sqe){ .opcode = ADMIN_IDENTIFY, .nsid = c->nsid, .prp1 = pa(buf),
				 .cdw10 = IDENTIFY_NS };
	ret = admin(c, &cmd, "identify namespace 1");
	if (ret)
		return ret;
	c->nr_lbas = get64(buf + 0);
	lbaf = get32(buf + 128 + 4 * (buf[26] & 0xf)); /* FLBAS bits 3:0 pick the format */
	c->lba_size = (lbaf >> 16) & 0xff ? 1u << ((lbaf >> 16) & 0xff) : 0;
	if (!c->nr_lbas) {
		kprintf("%s: namespace 1 is not active\n", c->name);
		return -ENODEV;
	}
	/* Metadata inline with the data (LBAF.MS) would change every transfer's size. */
	if (c->lba_size != BLK_SECTOR || (lbaf & 0xffff)) {
		kprintf("%s: namespace 1 has %u-byte blocks with %u bytes of metadata: only 512 "
			"without metadata is supported\n", c->name, c->lba_size, lbaf & 0xffff);
		return -ENOTSUP;
	}
	return 0;
}

static int create_io_queues(struct nvme_ctrl *c, u16 size)
{
	struct nvme_sqe cmd = { .opcode = ADMIN_SET_FEATURES, .cdw10 = FEAT_NR_QUEUES,
				.cdw11 = 0 /* one SQ, one CQ (0-based counts) */ };
	int ret = admin(c, &cmd, "set features (number of queues)");

	if (ret)
		return ret;
	ret = queue_init(c, &c->io, 1, size);
	if (ret)
		return ret;
	/* 5.3: QSIZE (0-based) and QID; IV, IEN, PC. */
	cmd = (struct nvme_sqe){ .opcode = ADMIN_CREATE_CQ, .prp1 = pa(c->io.cq),
				 .cdw10 = (u32)(size - 1) << 16 | 1,
				 .cdw11 = (u32)c->irq_entry << 16 | CQ_IEN | QUEUE_PC };
	ret = admin(c, &cmd, "create I/O completion queue");
	if (ret)
		return ret;
	/* 5.4: the SQ names its CQ in CDW11 31:16. */
	cmd = (struct nvme_sqe){ .opcode = ADMIN_CREATE_SQ, .prp1 = pa(c->io.sq),
				 .cdw10 = (u32)(size - 1) << 16 | 1, .cdw11 = 1u << 16 | QUEUE_PC };
	return admin(c, &cmd, "create I/O submission queue");
}

static int alloc_slots(struct nvme_ctrl *c)
{
	for (unsigned i = 0; i < c->nr_slots; i++) {
		struct nvme_slot *s = &c->slots[i];

		s->prp_list = alloc_pages(1);
		s->bounce = alloc_pages(NVME_MAX_XFER / PAGE_SIZE);
		if (!s->prp_list || !s->bounce)
			return -ENOMEM;
	}
	return 0;
}

int nvme_start(struct nvme_ctrl *c)
{
	u64 cap = rd64(c, NVME_CAP);
	u16 io_size;
	u8 *buf;
	int ret;

	c->dstrd = 4u << CAP_DSTRD(cap);
	/* CAP.TO bounds both enabling and disabling (3.1.1); at least 1 s. */
	c->timeout_us = MAX(CAP_TO(cap), 2u) * 500000ull;
	if (!CAP_CSS_NVM(cap) || CAP_MPSMIN(cap) != 0) {
		kprintf("%s: no NVM command set or no 4 KiB pages (CAP %lx)\n", c->name, cap);
		return -ENOTSUP;
	}
	io_size = (u16)MIN(NVME_IO_QUEUE_SIZE, CAP_MQES(cap) + 1);
	if (io_size < 2)
		return -ENOTSUP;
	c->nr_slots = io_size - 1;
	c->waiting = NULL;
	c->waiting_tail = &c->waiting;

	/* 7.6.1 steps 1-2: reset (CC.EN 1 -> 0) and wait for CSTS.RDY to clear. */
	if (rd32(c, NVME_CC) & CC_EN)
		wr32(c, NVME_CC, rd32(c, NVME_CC) & ~CC_EN);
	ret = wait_ready(c, false);
	if (ret)
		return ret;
	/* Step 3: the admin queue. */
	ret = queue_init(c, &c->admin, 0, NVME_ADMIN_QUEUE_SIZE);
	if (ret)
		return ret;
	wr32(c, NVME_AQA, (NVME_ADMIN_QUEUE_SIZE - 1) << 16 | (NVME_ADMIN_QUEUE_SIZE - 1));
	wr64(c, NVME_ASQ, pa(c->admin.sq));
	wr64(c, NVME_ACQ, pa(c->admin.cq));
	/* Steps 4-6: entry sizes, page size, command set, then enable. */
	wr32(c, NVME_CC, CC_IOCQES | CC_IOSQES | CC_AMS_RR | CC_MPS_4K | CC_CSS_NVM);
	wr32(c, NVME_CC, CC_IOCQES | CC_IOSQES | CC_AMS_RR | CC_MPS_4K | CC_CSS_NVM | CC_EN);
	ret = wait_ready(c, true);
	if (ret)
		return ret;
	/* Steps 7-8: identify, then the I/O queues. */
	buf = alloc_pages(1);
	if (!buf)
		return -ENOMEM;
	ret = identify(c, buf);
	iommu_revoke_host(pa(buf), PAGE_SIZE);
	page_free(pa(buf), 1);
	if (!ret)
		ret = alloc_slots(c);
	if (!ret)
		ret = create_io_queues(c, io_size);
	if (ret)
		/* Stop the controller: it must not write memory we may reuse. */
		wr32(c, NVME_CC, rd32(c, NVME_CC) & ~CC_EN);
	else
		__atomic_store_n(&c->started, true, __ATOMIC_RELEASE);
	return ret;
}

/* ---- I/O ---- */

static u64 req_bytes(const struct blk_req *r)
{
	return r->op == BLK_FLUSH ? 0 : (u64)r->nr_sectors * BLK_SECTOR;
}

/* Copies len bytes between buf and r's data at byte off (to_req: into r). */
static void seg_copy(struct blk_req *r, u64 off, u8 *buf, u64 len, bool to_req)
{
	for (unsigned i = 0; i < r->nr_segs && len; i++) {
		u64 n = r->seg[i].len;

		if (off >= n) {
			off -= n;
			continue;
		}
		n = MIN(n - off, len);
		if (to_req)
			memcpy((u8 *)r->seg[i].buf + off, buf, n);
		else
			memcpy(buf, (u8 *)r->seg[i].buf + off, n);
		buf += n;
		len -= n;
		off = 0;
	}
}

/*
 * PRPs for bytes [off, off + len) of r straight from its segments (4.3):
 * PRP1 may start anywhere dword-aligned; every further entry is a page
 * start; every piece but the last must end at a page end. false when the
 * segments break a rule: the caller bounces.
 */
static bool prp_from_segs(struct nvme_slot *s, struct blk_req *r, u64 off, u64 len,
			  struct nvme_sqe *cmd)
{
	unsigned n = 0; /* entries after the first */
	bool first = true;

	for (unsigned i = 0; i < r->nr_segs && len; i++) {
		u64 addr = pa(r->seg[i].buf), seg = r->seg[i].len, take;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		addr += off;
		take = MIN(seg - off, len);
		off = 0;
		if (first ? (addr & 3) : (addr & (NVME_PAGE - 1)))
			return false;
		if (take < len && ((addr + take) & (NVME_PAGE - 1)))
			return false; /* a piece ending inside a page, more to come */
		for (u64 p = ALIGN_DOWN(addr, NVME_PAGE); p < addr + take; p += NVME_PAGE) {
			if (first) {
				cmd->prp1 = addr;
				first = false;
			} else {
				if (n == NVME_PAGE / 8)
					return false;
				s->prp_list[n++] = p;
			}
		}
		len -= take;
	}
	/* 4.3: PRP2 is the second page itself when there are two, else the list. */
	cmd->prp2 = n == 0 ? 0 : n == 1 ? s->prp_list[0] : pa(s->prp_list);
	return true;
}

static void prp_from_bounce(struct nvme_slot *s, u64 len, struct nvme_sqe *cmd)
{
	unsigned n = 0;

	cmd->prp1 = pa(s->bounce);
	for (u64 p = NVME_PAGE; p < len; p += NVME_PAGE)
		s->prp_list[n++] = pa(s->bounce) + p;
	cmd->prp2 = n == 0 ? 0 : n == 1 ? s->prp_list[0] : pa(s->prp_list);
}

/* Puts the command for slot i (bytes [off, off + len) of r) on the SQ. */
static void queue_chunk(struct nvme_ctrl *c, unsigned i, struct blk_req *r, unsigned owner,
			u64 off, u32 len)
{
	struct nvme_slot *s = &c->slots[i];
	struct nvme_sqe cmd = { .cid = (u16)i, .nsid = c->nsid };

	s->req = r;
	s->owner = (u16)owner;
	s->off = (u32)off;
	s->len = len;
	s->cmd_busy = true;
	s->bounced = false;
	if (r->op == BLK_FLUSH) {
		cmd.opcode = NVM_FLUSH;
	} else {
		u64 slba = r->sector + off / BLK_SECTOR;

		cmd.opcode = r->op == BLK_WRITE ? NVM_WRITE : NVM_READ;
		cmd.cdw10 = (u32)slba;
		cmd.cdw11 = (u32)(slba >> 32);
		cmd.cdw12 = len / BLK_SECTOR - 1; /* NLB, 0-based */
		if (!prp_from_segs(s, r, off, len, &cmd)) {
			s->bounced = true;
			if (r->op == BLK_WRITE)
				seg_copy(r, off, s->bounce, len, false);
			prp_from_bounce(s, len, &cmd);
		}
	}
	sq_push(&c->io, &cmd);
}

static int free_slot(struct nvme_ctrl *c)
{
	for (unsigned i = 0; i < c->nr_slots; i++)
		if (!c->slots[i].req)
			return (int)i;
	return -1;
}

/* Hands the waiting requests' chunks to free slots, in order; rings the
 * doorbell once. Lock held. */
static void issue(struct nvme_ctrl *c)
{
	bool queued = false;
	int i;

	while (c->waiting && (i = free_slot(c)) >= 0) {
		struct blk_req *r = c->waiting;
		struct nvme_slot *o = r->drv;
		u64 total = req_bytes(r);
		u32 len;

		if (!o) { /* its first chunk: this slot keeps its progress */
			o = &c->slots[i];
			o->next_off = 0;
			o->pending = 0;
			o->status = 0;
			r->drv = o;
		}
		len = (u32)MIN(total - o->next_off, c->max_xfer);
		queue_chunk(c, (unsigned)i, r, (unsigned)(o - c->slots), o->next_off, len);
		o->next_off += len;
		o->pending++;
		queued = true;
		if (o->next_off >= total) { /* all of it handed out */
			c->waiting = r->next;
			if (!c->waiting)
				c->waiting_tail = &c->waiting;
		}
	}
	if (queued) {
		hw_mb(); /* the entries before the doorbell (4.1) */
		mmio_write32(c->io.sq_doorbell, c->io.sq_tail);
	}
}

int nvme_submit(struct blockdev *bd, struct blk_req *r)
{
	struct nvme_ctrl *c = bd->priv;
	u64 flags;

	if (r->op != BLK_READ && r->op != BLK_WRITE && r->op != BLK_FLUSH)
		return -ENOTSUP;
	r->drv = NULL;
	r->next = NULL;
	/* The interrupt handler takes the lock too: no interrupt while held. */
	flags = hw_irq_save();
	spin_lock(&c->lock);
	*c->waiting_tail = r;
	c->waiting_tail = &r->next;
	issue(c);
	spin_unlock(&c->lock);
	hw_irq_restore(flags);
	return 0;
}

struct finished {
	struct blk_req *req;
	int status;
};

/* Slot i's command completed with status (the CQE's status field). */
static void chunk_done(struct nvme_ctrl *c, unsigned i, u16 status, struct finished *fin,
		       unsigned *nr_fin)
{
	struct nvme_slot *s = &c->slots[i], *o = &c->slots[s->owner];
	struct blk_req *r = s->req;

	s->cmd_busy = false;
	if (status) {
		if (c->completions < 100 || !(c->completions & 1023))
			kprintf("%s: %s of sectors %lu+%u failed: status %x\n", c->name,
				r->op == BLK_FLUSH ? "flush" : r->op == BLK_WRITE ? "write" : "read",
				r->sector + s->off / BLK_SECTOR, s->len / BLK_SECTOR, status);
		o->status = -EIO;
	} else if (s->bounced && r->op == BLK_READ) {
		seg_copy(r, s->off, s->bounce, s->len, true);
	}
	o->pending--;
	if (s != o)
		s->req = NULL;
	if (!o->pending && o->next_off >= req_bytes(r)) {
		fin[(*nr_fin)++] = (struct finished){ r, o->status };
		o->req = NULL;
	}
}

void nvme_irq(void *ctrl)
{
	struct nvme_ctrl *c = ctrl;
	struct finished fin[NVME_IO_QUEUE_SIZE];
	volatile struct nvme_cqe *e;
	unsigned nr_fin = 0;
	bool popped = false;
	u64 flags;

	if (!__atomic_load_n(&c->started, __ATOMIC_ACQUIRE))
		return; /* not started (or failed to): nothing of ours to complete */
	flags = hw_irq_save();
	spin_lock(&c->lock);
	c->interrupts++;
	/* At most one pass over the queue: each slot completes once per pass. */
	for (unsigned n = 0; n < c->io.size && (e = cq_peek(&c->io)); n++) {
		u16 cid = e->cid, status = e->status >> 1;

		cq_pop(&c->io);
		popped = true;
		c->completions++;
		if (cid >= c->nr_slots || !c->slots[cid].cmd_busy) {
			kprintf("%s: completion for command %u, which is not outstanding\n", c->name,
				cid);
			continue;
		}
		chunk_done(c, cid, status, fin, &nr_fin);
	}
	if (popped)
		mmio_write32(c->io.cq_doorbell, c->io.cq_head);
	issue(c); /* freed slots take waiting requests */
	spin_unlock(&c->lock);
	hw_irq_restore(flags);
	/* Outside the lock: done() may submit the next request. */
	for (unsigned i = 0; i < nr_fin; i++)
		fin[i].req->done(fin[i].req, fin[i].status);
}
