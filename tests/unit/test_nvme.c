/*
 * The NVMe driver (drivers/nvme.c) against a fake controller in host
 * memory: registers, admin and I/O queues, PRPs checked against NVMe 1.4's
 * rules (4.3) on every command, data moved to and from a fake namespace.
 * The fake completes commands only when a test says so (in any order), so
 * requests stay in flight; the test then calls the interrupt handler, as
 * the MSI-X vector would.
 */
#include "unit.h"
#include "drivers/nvme.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DISK_SECTORS 4096 /* 2 MiB */
#define PG 4096u

#include "fake_driver_host.h" /* kprintf, page_alloc ...; leaks by design */

/* ---- the fake controller ---- */
static u8 bar[0x2000] __attribute__((aligned(4096)));
static u8 fdisk[DISK_SECTORS * 512];

static struct fake {
	u64 cap;
	u32 cc, csts, aqa;
	u64 asq, acq;
	u16 asq_head, acq_tail;
	u8 acq_phase;
	/* I/O queue pair 1 */
	u64 iosq, iocq;
	u16 iosq_size, iocq_size, io_iv, io_cq_flags;
	u16 sq_head, sq_tail, cq_tail, cq_head_db;
	u8 cq_phase;
	unsigned in_sq;        /* commands the driver queued, not yet completed */
	unsigned max_in_sq;
	/* knobs */
	u8 mdts, lbads;
	bool never_ready, fatal;
	u64 fail_lba;          /* a command touching it fails (~0: none) */
	/* counts */
	unsigned commands, flushes, reads, writes, prp_lists, bad;
} f;

static struct nvme_ctrl *ctrl;
static struct blockdev bd;
static const struct blockdev_ops ops = { .submit = nvme_submit };

static void fake_reset(void)
{
	memset(&f, 0, sizeof(f));
	/* MQES 63, CQR, TO 1 (500 ms), DSTRD 0, CSS bit 37 (NVM), MPSMIN 0 */
	f.cap = 63 | BIT(16) | (1ull << 24) | (1ull << 37);
	f.lbads = 9;
	f.fail_lba = ~0ull;
	memset(bar, 0, sizeof(bar));
}

static void *ptr(u64 pa) { return (void *)(uintptr_t)pa; }

static void post(u64 cq, u16 size, u16 *tail, u8 *phase, u16 cid, u16 sq_head, u16 sqid,
		 u16 status)
{
	struct nvme_cqe *e = (struct nvme_cqe *)ptr(cq) + *tail;

	e->dw0 = 0;
	e->sq_head = sq_head;
	e->sq_id = sqid;
	e->cid = cid;
	e->status = (u16)(status << 1 | *phase);
	if (++*tail == size) {
		*tail = 0;
		*phase ^= 1;
	}
}

static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static u16 admin_cmd(const struct nvme_sqe *c)
{
	u8 *buf = ptr(c->prp1);

	switch (c->opcode) {
	case 0x06: /* identify */
		memset(buf, 0, PG);
		if ((c->cdw10 & 0xff) == 1) {
			memcpy(buf + 4, "FAKE-SERIAL         ", 20);
			memcpy(buf + 24, "Fake NVMe                               ", 40);
			buf[77] = f.mdts;
			put32(buf + 516, 1);
			buf[525] = 1;
		} else if ((c->cdw10 & 0xff) == 0 && c->nsid == 1) {
			put64(buf, DISK_SECTORS);
			buf[26] = 0;
			put32(buf + 128, (u32)f.lbads << 16);
		} else {
			return 0x0b; /* invalid namespace */
		}
		return 0;
	case 0x09:
		return 0;
	case 0x05: /* create CQ */
		f.iocq = c->prp1;
		f.iocq_size = (u16)((c->cdw10 >> 16) + 1);
		f.io_iv = (u16)(c->cdw11 >> 16);
		f.io_cq_flags = (u16)(c->cdw11 & 3);
		f.cq_phase = 1;
		if ((c->cdw10 & 0xffff) != 1 || (c->prp1 & (PG - 1)))
			f.bad++;
		return 0;
	case 0x01: /* create SQ */
		f.iosq = c->prp1;
		f.iosq_size = (u16)((c->cdw10 >> 16) + 1);
		if ((c->cdw10 & 0xffff) != 1 || (c->cdw11 >> 16) != 1 || !f.iocq)
			f.bad++;
		return 0;
	default:
		return 1; /* invalid opcode */
	}
}

static void admin_doorbell(u16 tail)
{
	u16 size = (u16)((f.aqa & 0xfff) + 1);

	while (f.asq_head != tail) {
		struct nvme_sqe *c = (struct nvme_sqe *)ptr(f.asq) + f.asq_head;

		f.asq_head = (u16)((f.asq_head + 1) % size);
		post(f.acq, (u16)(((f.aqa >> 16) & 0xfff) + 1), &f.acq_tail, &f.acq_phase, c->cid,
		     f.asq_head, 0, admin_cmd(c));
	}
}

u32 mmio_read32(const volatile void *p)
{
	size_t off = (size_t)((const volatile u8 *)p - bar);

	switch (off) {
	case 0x00: return (u32)f.cap;
	case 0x04: return (u32)(f.cap >> 32);
	case 0x08: return 0x10400;
	case 0x14: return f.cc;
	case 0x1c: return f.csts;
	case 0x24: return f.aqa;
	default:
		f.bad++;
		return 0;
	}
}

void mmio_write32(volatile void *p, u32 v)
{
	size_t off = (size_t)((volatile u8 *)p - bar);

	switch (off) {
	case 0x14:
		if ((v & 1) && !(f.cc & 1)) { /* enable */
			if (f.fatal)
				f.csts |= 2;
			else if (!f.never_ready)
				f.csts |= 1;
			f.asq_head = f.acq_tail = 0;
			f.acq_phase = 1;
			if (((v >> 16) & 0xf) != 6 || ((v >> 20) & 0xf) != 4)
				f.bad++; /* entry sizes */
		} else if (!(v & 1)) {
			f.csts &= ~1u;
		}
		f.cc = v;
		return;
	case 0x24: f.aqa = v; return;
	case 0x28: f.asq = (f.asq & ~0xffffffffull) | v; return;
	case 0x2c: f.asq = (f.asq & 0xffffffffull) | (u64)v << 32; return;
	case 0x30: f.acq = (f.acq & ~0xffffffffull) | v; return;
	case 0x34: f.acq = (f.acq & 0xffffffffull) | (u64)v << 32; return;
	case 0x1000: admin_doorbell((u16)v); return;
	case 0x1004: return;
	case 0x1008: { /* I/O SQ tail: the commands wait for fake_run */
		unsigned added = (v + f.iosq_size - f.sq_tail) % f.iosq_size;

		f.in_sq += added;
		if (f.in_sq > f.iosq_size - 1u || v >= f.iosq_size)
			f.bad++; /* the driver overfilled its queue */
		if (f.in_sq > f.max_in_sq)
			f.max_in_sq = f.in_sq;
		f.sq_tail = (u16)v;
		return;
	}
	case 0x100c: f.cq_head_db = (u16)v; return;
	default: f.bad++;
	}
}
u16 mmio_read16(const volatile void *p) { f.bad++; return 0; }
void mmio_write16(volatile void *p, u16 v) { f.bad++; }
u8 mmio_read8(const volatile void *p) { f.bad++; return 0; }
void mmio_write8(volatile void *p, u8 v) { f.bad++; }

/* The data pieces of a command, by NVMe 1.4, 4.3; 0 pieces if it breaks a rule. */
struct piece { u8 *p; u32 n; };
static unsigned prp_walk(const struct nvme_sqe *c, u32 len, struct piece *out)
{
	unsigned n = 0;
	u32 first = PG - (u32)(c->prp1 & (PG - 1));

	if (c->prp1 & 3)
		return 0;
	first = first < len ? first : len;
	out[n++] = (struct piece){ ptr(c->prp1), first };
	len -= first;
	if (!len)
		return n;
	if (len <= PG) {
		if (c->prp2 & (PG - 1))
			return 0;
		out[n++] = (struct piece){ ptr(c->prp2), len };
		return n;
	}
	f.prp_lists++;
	if (c->prp2 & 7)
		return 0;
	for (u64 *l = ptr(c->prp2); len; l++) {
		u32 take = len < PG ? len : PG;

		if (*l & (PG - 1) || n == 600)
			return 0;
		out[n++] = (struct piece){ ptr(*l), take };
		len -= take;
	}
	return n;
}

static u16 io_cmd(const struct nvme_sqe *c)
{
	static struct piece pieces[600];
	u64 slba = c->cdw10 | (u64)c->cdw11 << 32;
	u32 nlb = (c->cdw12 & 0xffff) + 1, len = nlb * 512;
	unsigned n;
	u8 *d;

	f.commands++;
	if (c->nsid != 1)
		return 0x0b;
	if (c->opcode == 0x00) {
		f.flushes++;
		return 0;
	}
	if (c->opcode != 0x01 && c->opcode != 0x02)
		return 1;
	if (slba + nlb > DISK_SECTORS) {
		f.bad++;
		return 0x80; /* LBA out of range */
	}
	if (f.mdts && len > (PG << f.mdts))
		f.bad++;
	if (f.fail_lba >= slba && f.fail_lba < slba + nlb)
		return 0x281; /* media error (SCT 2) */
	n = prp_walk(c, len, pieces);
	if (!n) {
		f.bad++;
		return 0x13; /* PRP offset invalid */
	}
	d = fdisk + slba * 512;
	for (unsigned i = 0; i < n; i++, d += pieces[i - 1].n) {
		if (c->opcode == 0x01)
			memcpy(d, pieces[i].p, pieces[i].n);
		else
			memcpy(pieces[i].p, d, pieces[i].n);
	}
	if (c->opcode == 0x01)
		f.writes++;
	else
		f.reads++;
	return 0;
}

/* Completes up to max of the queued I/O commands, newest first if reverse.
 * Returns how many. */
static unsigned fake_run(unsigned max, bool reverse)
{
	struct nvme_sqe *sq = ptr(f.iosq);
	unsigned n = f.in_sq < max ? f.in_sq : max;
	u16 idx[64];

	for (unsigned i = 0; i < n; i++)
		idx[i] = (u16)((f.sq_head + i) % f.iosq_size);
	f.sq_head = (u16)((f.sq_head + n) % f.iosq_size);
	f.in_sq -= n;
	for (unsigned i = 0; i < n; i++) {
		struct nvme_sqe *c = &sq[idx[reverse ? n - 1 - i : i]];

		if ((f.cq_tail + 1) % f.iocq_size == f.cq_head_db)
			f.bad++; /* the driver let its CQ fill: it did not ring the head */
		post(f.iocq, f.iocq_size, &f.cq_tail, &f.cq_phase, c->cid, f.sq_head, 1, io_cmd(c));
	}
	return n;
}

/* ---- the tests ---- */

struct done_rec {
	unsigned calls;
	int status;
};

static void req_done(struct blk_req *r, int status)
{
	struct done_rec *d = r->ctx;

	d->calls++;
	d->status = status;
}

static int start(void)
{
	free(ctrl);
	ctrl = calloc(1, sizeof(*ctrl));
	ctrl->regs = bar;
	ctrl->name = "nvme-test";
	ctrl->irq_entry = 1;
	return nvme_start(ctrl);
}

static void setup(void)
{
	fake_reset();
	for (unsigned i = 0; i < sizeof(fdisk); i++)
		fdisk[i] = (u8)(i * 7 + (i >> 9));
	CHECK_EQ(start(), 0);
	memset(&bd, 0, sizeof(bd));
	strcpy(bd.name, "nvme-test");
	bd.nr_sectors = ctrl->nr_lbas;
	bd.ops = &ops;
	bd.priv = ctrl;
}

static struct blk_req *req(enum blk_op op, u64 sector, u32 n, struct done_rec *d)
{
	struct blk_req *r = calloc(1, sizeof(*r));

	r->op = op;
	r->sector = sector;
	r->nr_sectors = n;
	r->done = req_done;
	r->ctx = d;
	return r;
}

static void add_seg(struct blk_req *r, void *buf, u32 len)
{
	r->seg[r->nr_segs++] = (struct blk_seg){ buf, len };
}

/* Runs everything queued (several rounds: completions free slots that take
 * waiting requests), calling the interrupt handler after each. */
static void drain(bool reverse)
{
	for (int i = 0; i < 100 && fake_run(64, reverse); i++)
		nvme_irq(ctrl);
}

TEST(start_brings_the_controller_up)
{
	setup();
	CHECK_EQ(ctrl->nr_lbas, DISK_SECTORS);
	CHECK_EQ(ctrl->nr_slots, 31);
	CHECK_EQ(f.iosq_size, 32);
	CHECK_EQ(f.iocq_size, 32);
	CHECK_EQ(f.io_iv, 1);
	CHECK_EQ(f.io_cq_flags, 3); /* IEN | PC */
	CHECK_EQ(ctrl->max_xfer, 64 * 1024);
	CHECK(!strcmp(ctrl->model, "Fake NVMe") && !strcmp(ctrl->serial, "FAKE-SERIAL"));
	CHECK(ctrl->volatile_cache);
	CHECK_EQ(f.bad, 0);
	/* Everything the controller is given is granted to it (drivers/iommu.h). */
	CHECK(fake_granted((u64)(uintptr_t)ctrl->admin.sq, 4096));
	CHECK(fake_granted((u64)(uintptr_t)ctrl->admin.cq, 4096));
	CHECK(fake_granted((u64)(uintptr_t)ctrl->io.sq, 32 * 64));
	CHECK(fake_granted((u64)(uintptr_t)ctrl->io.cq, 32 * 16));
	for (unsigned i = 0; i < ctrl->nr_slots; i++) {
		CHECK(fake_granted((u64)(uintptr_t)ctrl->slots[i].prp_list, 4096));
		CHECK(fake_granted((u64)(uintptr_t)ctrl->slots[i].bounce, NVME_MAX_XFER));
	}
}

TEST(start_failures)
{
	fake_reset();
	f.never_ready = true;
	CHECK_EQ(start(), -ETIMEDOUT);
	fake_reset();
	f.fatal = true;
	CHECK_EQ(start(), -EIO);
	fake_reset();
	f.lbads = 12; /* 4 KiB blocks */
	CHECK_EQ(start(), -ENOTSUP);
	CHECK(!(f.cc & 1)); /* left disabled: it owns none of our memory */
	fake_reset();
	f.cap &= ~(1ull << 37); /* no NVM command set */
	CHECK_EQ(start(), -ENOTSUP);
}

TEST(mdts_limits_commands)
{
	struct done_rec d = { 0 };
	static u8 buf[128 * 1024] __attribute__((aligned(4096)));
	struct blk_req *r;

	fake_reset();
	f.mdts = 3; /* 32 KiB */
	CHECK_EQ(start(), 0);
	bd.priv = ctrl;
	bd.nr_sectors = ctrl->nr_lbas;
	bd.ops = &ops;
	CHECK_EQ(ctrl->max_xfer, 32 * 1024);
	r = req(BLK_READ, 0, 256, &d);
	add_seg(r, buf, sizeof(buf));
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	CHECK_EQ(d.calls, 1);
	CHECK_EQ(d.status, 0);
	CHECK_EQ(f.commands, 4); /* 128 KiB in 32 KiB commands */
	CHECK(!memcmp(buf, fdisk, sizeof(buf)));
	CHECK_EQ(f.bad, 0);
	free(r);
}

TEST(write_then_read_back)
{
	struct done_rec d1 = { 0 }, d2 = { 0 };
	static u8 out[8192] __attribute__((aligned(4096))), in[8192] __attribute__((aligned(4096)));
	struct blk_req *w, *r;

	setup();
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i ^ 0x5a);
	w = req(BLK_WRITE, 100, 16, &d1);
	add_seg(w, out, sizeof(out));
	CHECK_EQ(blockdev_submit(&bd, w), 0);
	CHECK_EQ(d1.calls, 0); /* not before the interrupt */
	fake_run(64, false);
	CHECK_EQ(d1.calls, 0);
	nvme_irq(ctrl);
	CHECK_EQ(d1.calls, 1);
	CHECK_EQ(d1.status, 0);
	CHECK(!memcmp(fdisk + 100 * 512, out, sizeof(out)));
	r = req(BLK_READ, 100, 16, &d2);
	add_seg(r, in, sizeof(in));
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	CHECK_EQ(d2.calls, 1);
	CHECK(!memcmp(in, out, sizeof(in)));
	CHECK_EQ(f.bad, 0);
	free(w);
	free(r);
}

TEST(flush)
{
	struct done_rec d = { 0 };
	struct blk_req *r;

	setup();
	r = req(BLK_FLUSH, 0, 0, &d);
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	CHECK_EQ(d.calls, 1);
	CHECK_EQ(d.status, 0);
	CHECK_EQ(f.flushes, 1);
	free(r);
	r = req(BLK_DISCARD, 0, 8, &d);
	CHECK_EQ(blockdev_submit(&bd, r), -ENOTSUP);
	free(r);
}

/* Segment shapes: each must reach the disk right, through PRPs that follow
 * the rules (the fake checks) or a bounce buffer. */
TEST(segment_shapes)
{
	static u8 mem[64 * 4096] __attribute__((aligned(4096)));
	struct done_rec d = { 0 };
	struct blk_req *r;

	setup();
	/* 1. contiguous from a page offset: PRP1 with an offset and a list */
	r = req(BLK_READ, 8, 40, &d);
	add_seg(r, mem + 1024, 40 * 512);
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	CHECK(!memcmp(mem + 1024, fdisk + 8 * 512, 40 * 512));
	CHECK_EQ(f.prp_lists, 1);
	free(r);
	/* 2. two pages, apart: PRP2 is the second page itself */
	memset(mem, 0, sizeof(mem));
	r = req(BLK_READ, 0, 16, &d);
	add_seg(r, mem, 4096);
	add_seg(r, mem + 10 * 4096, 4096);
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	CHECK(!memcmp(mem, fdisk, 4096) && !memcmp(mem + 10 * 4096, fdisk + 4096, 4096));
	CHECK_EQ(f.prp_lists, 1);
	free(r);
	/* 3. 512-byte pieces in separate pages: PRPs cannot chain them; bounced */
	memset(mem, 0, sizeof(mem));
	r = req(BLK_WRITE, 64, 8, &d);
	for (unsigned i = 0; i < 8; i++) {
		memset(mem + i * 4096 + 100, 0xc0 + i, 512);
		add_seg(r, mem + i * 4096 + 100, 512);
	}
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(fdisk[(64 + i) * 512 + 17], 0xc0 + i);
	free(r);
	r = req(BLK_READ, 64, 8, &d);
	for (unsigned i = 0; i < 8; i++)
		add_seg(r, mem + (20 + i) * 4096 + 8, 512);
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(mem[(20 + i) * 4096 + 8 + 511], 0xc0 + i);
	free(r);
	/* 3b. pieces that start pages but end inside them: bounced too (as
	 * PRPs they would claim the rest of each page) */
	r = req(BLK_READ, 64, 8, &d);
	memset(mem, 0, sizeof(mem));
	for (unsigned i = 0; i < 8; i++)
		add_seg(r, mem + (30 + i) * 4096, 512);
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(mem[(30 + i) * 4096 + 511], 0xc0 + i);
	CHECK_EQ(mem[30 * 4096 + 512], 0); /* nothing past each piece */
	free(r);
	/* 4. larger than a command (200 KiB: 4 commands): one completion */
	d.calls = 0;
	r = req(BLK_READ, 0, 400, &d);
	add_seg(r, calloc(1, 400 * 512), 400 * 512);
	f.commands = 0;
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	CHECK_EQ(d.calls, 1);
	CHECK_EQ(f.commands, 4);
	CHECK(!memcmp(r->seg[0].buf, fdisk, 400 * 512));
	free(r->seg[0].buf);
	free(r);
	CHECK_EQ(f.bad, 0);
}

/* More requests than slots, from "several VMs", completed out of order:
 * each done exactly once, the SQ never overfilled, all data right. */
TEST(many_in_flight_out_of_order)
{
	enum { N = 100 };
	static struct done_rec d[N];
	static struct blk_req *r[N];
	static u8 bufs[N][4096] __attribute__((aligned(4096)));

	setup();
	memset(d, 0, sizeof(d));
	for (unsigned i = 0; i < N; i++) {
		r[i] = req(BLK_READ, (u64)i * 8 % DISK_SECTORS, 8, &d[i]);
		add_seg(r[i], bufs[i], 4096);
		CHECK_EQ(blockdev_submit(&bd, r[i]), 0);
	}
	CHECK_EQ(f.max_in_sq, 31);
	/* complete a few at a time, newest first, interleaved with the handler */
	for (int round = 0; round < 200 && fake_run(5, true); round++)
		nvme_irq(ctrl);
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ(d[i].calls, 1);
		CHECK_EQ(d[i].status, 0);
		CHECK(!memcmp(bufs[i], fdisk + (u64)i * 8 % DISK_SECTORS * 512, 4096));
		free(r[i]);
	}
	CHECK_EQ(f.bad, 0);
	/* the CQ wrapped several times: the phase tag flipped */
	CHECK(f.commands > 64);
}

TEST(errors_fail_only_their_request)
{
	struct done_rec a = { 0 }, b = { 0 };
	static u8 buf[2][4096] __attribute__((aligned(4096)));
	struct blk_req *ra, *rb;

	setup();
	f.fail_lba = 16;
	ra = req(BLK_READ, 8, 16, &a); /* covers 16: fails */
	add_seg(ra, buf[0], 4096);
	add_seg(ra, buf[1], 4096);
	rb = req(BLK_READ, 100, 8, &b);
	add_seg(rb, buf[1], 4096);
	CHECK_EQ(blockdev_submit(&bd, ra), 0);
	CHECK_EQ(blockdev_submit(&bd, rb), 0);
	drain(false);
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(a.status, -EIO);
	CHECK_EQ(b.calls, 1);
	CHECK_EQ(b.status, 0);
	free(ra);
	free(rb);
}

TEST(stray_completions_and_interrupts_are_ignored)
{
	setup();
	nvme_irq(ctrl); /* nothing posted */
	/* a completion for a command that is not outstanding */
	post(f.iocq, f.iocq_size, &f.cq_tail, &f.cq_phase, 7, 0, 1, 0);
	unsigned before = log_lines;
	nvme_irq(ctrl);
	CHECK_EQ(log_lines, before + 1);
	CHECK_EQ(f.cq_head_db, f.cq_tail); /* the handler consumed it and said so */
}

/* done() submitting the next request (as a VM's device would) works: it is
 * called outside the driver's lock. */
static struct blk_req *chain_next;
static void chain_done(struct blk_req *r, int status)
{
	if (chain_next) {
		struct blk_req *n = chain_next;

		chain_next = NULL;
		CHECK_EQ(blockdev_submit(&bd, n), 0);
	}
	req_done(r, status);
}

TEST(done_may_submit)
{
	struct done_rec a = { 0 }, b = { 0 };
	static u8 buf[4096] __attribute__((aligned(4096)));
	struct blk_req *ra, *rb;

	setup();
	ra = req(BLK_READ, 0, 8, &a);
	ra->done = chain_done;
	add_seg(ra, buf, 4096);
	rb = req(BLK_READ, 8, 8, &b);
	add_seg(rb, buf, 4096);
	chain_next = rb;
	CHECK_EQ(blockdev_submit(&bd, ra), 0);
	drain(false);
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(b.calls, 1);
	free(ra);
	free(rb);
}

int main(void)
{
	RUN(start_brings_the_controller_up);
	RUN(start_failures);
	RUN(mdts_limits_commands);
	RUN(write_then_read_back);
	RUN(flush);
	RUN(segment_shapes);
	RUN(many_in_flight_out_of_order);
	RUN(errors_fail_only_their_request);
	RUN(stray_completions_and_interrupts_are_ignored);
	RUN(done_may_submit);
	return unit_done();
}
