/*
 * The virtio-blk driver (drivers/virtio_blk.c) against a fake device in
 * host memory: the common and device configuration registers (virtio 1.2,
 * 4.1.4.3, 5.2.4), and a split virtqueue the fake walks as a device would
 * (2.7), checking every chain's shape (5.2.6) before it moves data. The fake
 * completes requests only when a test says so, in any order; the test then
 * calls the interrupt handler as the MSI-X vector would.
 */
#include "unit.h"
#include "drivers/virtio_blk.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DISK_SECTORS 4096
#define PG 4096u

#include "fake_driver_host.h"

/* ---- the fake device: common config at 0, notify at 0x1000, device config at 0x2000 ---- */
static u8 bar[0x3000] __attribute__((aligned(4096)));
static u8 fdisk[DISK_SECTORS * 512];

static struct fake {
	u64 features;
	u32 dfselect, gfselect;
	u64 driver_features;
	u8 status;
	u16 qsize_max, qsize, q_msix, q_enable, cfg_msix;
	u64 q_desc, q_driver, q_device;
	bool refuse_msix;
	u16 last_avail, used_idx;
	unsigned notifies, bad, done_count;
	u64 fail_sector;
} f;

#define FEAT(b) (1ull << (b))

static void fake_reset(void)
{
	memset(&f, 0, sizeof(f));
	f.features = FEAT(32) | FEAT(9) | FEAT(2) | FEAT(6);
	f.qsize_max = 256;
	f.fail_sector = ~0ull;
	memset(bar, 0, sizeof(bar));
	u64 cap = DISK_SECTORS;
	memcpy(bar + 0x2000, &cap, 8);
	u32 seg_max = 254;
	memcpy(bar + 0x2000 + 12, &seg_max, 4);
}

static size_t off_of(const volatile void *p) { return (size_t)((const volatile u8 *)p - bar); }

u8 mmio_read8(const volatile void *p)
{
	if (off_of(p) == 0x14)
		return f.status;
	f.bad++;
	return 0;
}

void mmio_write8(volatile void *p, u8 v)
{
	if (off_of(p) != 0x14) {
		f.bad++;
		return;
	}
	if (v == 0) { /* reset */
		u64 keep = f.features;
		u16 qmax = f.qsize_max;
		bool refuse = f.refuse_msix;
		u64 fs = f.fail_sector;

		memset(&f, 0, sizeof(f));
		f.features = keep;
		f.qsize_max = qmax;
		f.refuse_msix = refuse;
		f.fail_sector = fs;
		return;
	}
	if ((v & 8) && !(f.status & 8)) { /* FEATURES_OK: accept only what was offered */
		if ((f.driver_features & ~f.features) || !(f.driver_features & FEAT(32)))
			v &= (u8)~8;
	}
	f.status = v;
}

u16 mmio_read16(const volatile void *p)
{
	switch (off_of(p)) {
	case 0x12: return 1;
	case 0x18: return f.qsize ? f.qsize : f.qsize_max;
	case 0x1a: return f.q_msix;
	case 0x1e: return 0;
	default: f.bad++; return 0;
	}
}

void mmio_write16(volatile void *p, u16 v)
{
	switch (off_of(p)) {
	case 0x10: f.cfg_msix = v; return;
	case 0x16: if (v) f.bad++; return;
	case 0x18: if (v > f.qsize_max || (v & (v - 1))) f.bad++; f.qsize = v; return;
	case 0x1a: f.q_msix = f.refuse_msix ? 0xffff : v; return;
	case 0x1c: f.q_enable = v; return;
	case 0x1000: f.notifies++; if (!(f.status & 4) && f.q_enable != 1) f.bad++; return;
	default: f.bad++;
	}
}

u32 mmio_read32(const volatile void *p)
{
	size_t off = off_of(p);

	if (off == 0x04)
		return (u32)(f.features >> (32 * f.dfselect));
	if (off >= 0x2000 && off < 0x2000 + 64)
		return *(u32 *)(bar + off);
	f.bad++;
	return 0;
}

static void set64(u64 *x, bool hi, u32 v)
{
	*x = hi ? (*x & 0xffffffffull) | (u64)v << 32 : (*x & ~0xffffffffull) | v;
}

void mmio_write32(volatile void *p, u32 v)
{
	size_t off = off_of(p);

	switch (off) {
	case 0x00: f.dfselect = v; return;
	case 0x08: f.gfselect = v; return;
	case 0x0c: set64(&f.driver_features, f.gfselect, v); return;
	case 0x20: case 0x24: set64(&f.q_desc, off & 4, v); return;
	case 0x28: case 0x2c: set64(&f.q_driver, off & 4, v); return;
	case 0x30: case 0x34: set64(&f.q_device, off & 4, v); return;
	default: f.bad++;
	}
}

static void *ptr(u64 pa) { return (void *)(uintptr_t)pa; }

/* Executes the chain at head as a device would (5.2.6); returns bytes written. */
static u32 run_chain(u16 head)
{
	struct virtq_desc *d = ptr(f.q_desc);
	struct { u32 type, reserved; u64 sector; } hdr;
	u16 i = head;
	unsigned n = 0;
	u32 written = 0;
	u64 pos;
	u8 *status = NULL;

	if (head >= f.qsize || d[i].len != 16 || (d[i].flags & 2) || !(d[i].flags & 1)) {
		f.bad++;
		return 0;
	}
	memcpy(&hdr, ptr(d[i].addr), 16);
	pos = hdr.sector * 512;
	for (i = d[i].next; ; i = d[i].next) {
		if (i >= f.qsize || ++n > f.qsize) {
			f.bad++; /* out of the table, or a loop */
			return 0;
		}
		if (!(d[i].flags & 1)) { /* the last: the status byte */
			if (d[i].len != 1 || !(d[i].flags & 2))
				f.bad++;
			status = ptr(d[i].addr);
			break;
		}
		if (hdr.type == 4 || !!(d[i].flags & 2) != (hdr.type == 0)) {
			f.bad++; /* data on a flush, or the wrong direction */
			continue;
		}
		if (pos + d[i].len > sizeof(fdisk)) {
			f.bad++;
			continue;
		}
		if (hdr.type == 0) {
			memcpy(ptr(d[i].addr), fdisk + pos, d[i].len);
			written += d[i].len;
		} else {
			memcpy(fdisk + pos, ptr(d[i].addr), d[i].len);
		}
		pos += d[i].len;
	}
	*status = hdr.sector == f.fail_sector ? 1 : 0;
	f.done_count++;
	return written + 1;
}

/* Completes up to max available chains, newest first if reverse. */
static unsigned fake_run(unsigned max, bool reverse)
{
	volatile u16 *avail = ptr(f.q_driver);
	u8 *used = ptr(f.q_device);
	u16 heads[256];
	unsigned n = 0;

	while (f.last_avail != avail[1] && n < max)
		heads[n++] = avail[2 + f.last_avail++ % f.qsize];
	for (unsigned k = 0; k < n; k++) {
		u16 h = heads[reverse ? n - 1 - k : k];
		u32 len = run_chain(h);
		u32 elem[2] = { h, len };

		memcpy(used + 4 + 8 * (f.used_idx % f.qsize), elem, 8);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		f.used_idx++;
		memcpy(used + 2, &f.used_idx, 2);
	}
	return n;
}

/* ---- tests ---- */

static struct vblk *dev;
static struct blockdev bd;
static const struct blockdev_ops ops = { .submit = vblk_submit };

struct done_rec { unsigned calls; int status; };
static void req_done(struct blk_req *r, int status)
{
	struct done_rec *d = r->ctx;

	d->calls++;
	d->status = status;
}

static int start(void)
{
	dev = calloc(1, sizeof(*dev));
	dev->t.name = "vblk-test";
	dev->t.common = bar;
	dev->t.notify_base = bar + 0x1000;
	dev->t.notify_multiplier = 4;
	dev->t.device = bar + 0x2000;
	dev->msix_entry = 0;
	return vblk_start(dev);
}

static void setup(void)
{
	fake_reset();
	for (unsigned i = 0; i < sizeof(fdisk); i++)
		fdisk[i] = (u8)(i * 13 + (i >> 9));
	CHECK_EQ(start(), 0);
	memset(&bd, 0, sizeof(bd));
	strcpy(bd.name, "vblk-test");
	bd.nr_sectors = dev->capacity;
	bd.ops = &ops;
	bd.priv = dev;
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

static void drain(bool reverse)
{
	for (int i = 0; i < 200 && fake_run(8, reverse); i++)
		vblk_irq(dev);
}

TEST(start_negotiates)
{
	setup();
	CHECK_EQ(dev->q.size, 128); /* 256 offered, our maximum taken */
	CHECK_EQ(f.qsize, 128);
	CHECK_EQ(dev->capacity, DISK_SECTORS);
	CHECK_EQ(dev->seg_max, 126);
	CHECK(dev->can_flush && !dev->read_only);
	CHECK_EQ(f.driver_features, FEAT(32) | FEAT(9) | FEAT(2)); /* not BLK_SIZE: unused */
	CHECK_EQ(f.status, 1 | 2 | 8 | 4);
	CHECK_EQ(f.q_enable, 1);
	CHECK_EQ(f.cfg_msix, 0xffff);
	CHECK_EQ(f.bad, 0);
}

TEST(start_failures)
{
	fake_reset();
	f.features &= ~FEAT(32); /* legacy only */
	CHECK_EQ(start(), -EIO);
	CHECK(f.status & 128); /* FAILED */
	fake_reset();
	f.refuse_msix = true;
	CHECK_EQ(start(), -EIO);
	fake_reset();
	f.qsize_max = 100; /* not a power of 2 (a split queue's must be) */
	CHECK_EQ(start(), 0);
	CHECK_EQ(dev->q.size, 64);
}

TEST(write_then_read_back)
{
	struct done_rec d1 = { 0 }, d2 = { 0 };
	static u8 out[3][1536], in[4096];
	struct blk_req *w, *r;

	setup();
	for (unsigned i = 0; i < sizeof(out); i++)
		((u8 *)out)[i] = (u8)(i ^ 0xa5);
	w = req(BLK_WRITE, 40, 9, &d1);
	for (int i = 0; i < 3; i++)
		add_seg(w, out[i], 1536);
	CHECK_EQ(blockdev_submit(&bd, w), 0);
	CHECK_EQ(f.notifies, 1);
	CHECK_EQ(d1.calls, 0);
	fake_run(8, false);
	vblk_irq(dev);
	CHECK_EQ(d1.calls, 1);
	CHECK_EQ(d1.status, 0);
	CHECK(!memcmp(fdisk + 40 * 512, out, sizeof(out)));
	r = req(BLK_READ, 40, 8, &d2);
	add_seg(r, in, 4096);
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	drain(false);
	CHECK_EQ(d2.calls, 1);
	CHECK(!memcmp(in, out, 4096));
	CHECK_EQ(f.bad, 0);
	free(w);
	free(r);
}

TEST(flush_and_errors)
{
	struct done_rec a = { 0 }, b = { 0 };
	static u8 buf[512];
	struct blk_req *r, *e;

	setup();
	r = req(BLK_FLUSH, 0, 0, &a);
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	f.fail_sector = 7;
	e = req(BLK_READ, 7, 1, &b);
	add_seg(e, buf, 512);
	CHECK_EQ(blockdev_submit(&bd, e), 0);
	drain(false);
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(a.status, 0);
	CHECK_EQ(b.calls, 1);
	CHECK_EQ(b.status, -EIO);
	CHECK_EQ(f.bad, 0);
	dev->can_flush = false; /* a device without VIRTIO_BLK_F_FLUSH */
	CHECK_EQ(blockdev_submit(&bd, r), -ENOTSUP);
	free(r);
	free(e);
}

TEST(many_in_flight_out_of_order)
{
	enum { N = 150 };
	static struct done_rec d[N];
	static struct blk_req *r[N];
	static u8 bufs[N][2][512];

	setup();
	memset(d, 0, sizeof(d));
	for (unsigned i = 0; i < N; i++) {
		r[i] = req(BLK_READ, i * 2, 2, &d[i]);
		add_seg(r[i], bufs[i][0], 512);
		add_seg(r[i], bufs[i][1], 512);
		CHECK_EQ(blockdev_submit(&bd, r[i]), 0);
	}
	CHECK_EQ(dev->q.nr_free, 0); /* 32 chains of 4 fill the 128 descriptors */
	drain(true);
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ(d[i].calls, 1);
		CHECK_EQ(d[i].status, 0);
		CHECK(!memcmp(bufs[i], fdisk + i * 1024, 1024));
		free(r[i]);
	}
	CHECK_EQ(dev->q.nr_free, 128);
	CHECK_EQ(f.done_count, N);
	CHECK_EQ(f.bad, 0);
}

TEST(too_many_segments_refused)
{
	struct done_rec d = { 0 };
	static u8 buf[512];
	struct blk_req *r;

	setup();
	dev->seg_max = 2;
	r = req(BLK_READ, 0, 3, &d);
	for (int i = 0; i < 3; i++)
		add_seg(r, buf, 512);
	CHECK_EQ(blockdev_submit(&bd, r), -EINVAL);
	CHECK_EQ(d.calls, 0);
	free(r);
}

TEST(no_notify_and_stray_used_entries)
{
	struct done_rec d = { 0 };
	static u8 buf[512];
	struct blk_req *r;
	u8 *used;

	setup();
	used = ptr(f.q_device);
	used[0] = 1; /* VIRTQ_USED_F_NO_NOTIFY: the device polls */
	r = req(BLK_READ, 0, 1, &d);
	add_seg(r, buf, 512);
	CHECK_EQ(blockdev_submit(&bd, r), 0);
	CHECK_EQ(f.notifies, 0);
	/* a used entry naming a descriptor that heads no request */
	u32 elem[2] = { 77, 0 };
	memcpy(used + 4, elem, 8);
	f.used_idx = 1;
	memcpy(used + 2, &f.used_idx, 2);
	unsigned before = log_lines;
	vblk_irq(dev);
	CHECK_EQ(log_lines, before + 1);
	CHECK_EQ(d.calls, 0);
	/* the real completion still arrives */
	fake_run(8, false);
	vblk_irq(dev);
	CHECK_EQ(d.calls, 1);
	free(r);
}

int main(void)
{
	RUN(start_negotiates);
	RUN(start_failures);
	RUN(write_then_read_back);
	RUN(flush_and_errors);
	RUN(many_in_flight_out_of_order);
	RUN(too_many_segments_refused);
	RUN(no_notify_and_stray_used_entries);
	return unit_done();
}
