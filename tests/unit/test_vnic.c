/*
 * The machine-NIC virtio-net driver (drivers/virtio_net.c, on
 * drivers/virtio_drv.c) against a fake device in host memory with two
 * queues (virtio 1.2, 4.1.4.3 common configuration; 5.1 net): start-up,
 * receiving (frames in order and exact, buffers posted again, the budget
 * kept), what the device may get wrong (ids and lengths in used entries),
 * and transmitting (the header, the ring filling up, reclaim).
 */
#include "unit.h"
#include "drivers/virtio_net.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PG 4096u

#include "fake_driver_host.h"

/* What the driver passed to the uplink. */
static struct { u8 frame[2048]; u32 len; } got[64];
static unsigned nr_got;
void nic_rx(struct nic *n, const void *frame, u32 len)
{
	if (nr_got < 64) {
		memcpy(got[nr_got].frame, frame, len < 2048 ? len : 2048);
		got[nr_got].len = len;
	}
	nr_got++;
}
static unsigned interrupts;
void nic_rx_interrupt(struct nic *n) { interrupts++; }

/* ---- the fake: common config at 0, notify at 0x1000 (multiplier 4), device config at 0x2000 ---- */
static u8 bar[0x3000] __attribute__((aligned(4096)));

struct fq {
	u16 size, msix, enable;
	u64 desc, driver, device;
	u16 last_avail, used_idx;
	unsigned notifies;
};
static struct fake {
	u64 features, driver_features;
	u32 dfselect, gfselect;
	u8 status;
	u16 select, qsize_max, cfg_msix;
	struct fq q[2];
	unsigned bad;
} f;

#define FEAT(b) (1ull << (b))
static const u8 mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

static void fake_reset(u64 features, u16 qmax)
{
	memset(&f, 0, sizeof(f));
	f.features = features;
	f.qsize_max = qmax;
	memset(bar, 0, sizeof(bar));
	memcpy(bar + 0x2000, mac, 6);
}

static size_t off_of(const volatile void *p) { return (size_t)((const volatile u8 *)p - bar); }
static struct fq *sel(void) { return f.select < 2 ? &f.q[f.select] : NULL; }

u8 mmio_read8(const volatile void *p)
{
	size_t off = off_of(p);

	if (off == 0x14)
		return f.status;
	if (off >= 0x2000 && off < 0x2006)
		return bar[off];
	f.bad++;
	return 0;
}

void mmio_write8(volatile void *p, u8 v)
{
	if (off_of(p) != 0x14) {
		f.bad++;
		return;
	}
	if (v == 0) {
		fake_reset(f.features, f.qsize_max);
		return;
	}
	if ((v & 8) && !(f.status & 8) && ((f.driver_features & ~f.features) ||
					   !(f.driver_features & FEAT(32))))
		v &= (u8)~8;
	f.status = v;
}

u16 mmio_read16(const volatile void *p)
{
	switch (off_of(p)) {
	case 0x12: return 2;
	case 0x18: return sel() ? (sel()->size ? sel()->size : f.qsize_max) : 0;
	case 0x1a: return sel() ? sel()->msix : 0xffff;
	case 0x1e: return f.select; /* queue_notify_off: the queue's index */
	default: f.bad++; return 0;
	}
}

void mmio_write16(volatile void *p, u16 v)
{
	size_t off = off_of(p);

	if (off >= 0x1000 && off < 0x1000 + 8) { /* a doorbell: the queue's index */
		if ((off - 0x1000) / 4 != v || v > 1 || !(f.status & 4))
			f.bad++;
		else
			f.q[v].notifies++;
		return;
	}
	switch (off) {
	case 0x10: f.cfg_msix = v; return;
	case 0x16: f.select = v; return;
	case 0x18: if (!sel() || v > f.qsize_max || (v & (v - 1))) f.bad++; else sel()->size = v; return;
	case 0x1a: if (sel()) sel()->msix = v; return;
	case 0x1c: if (sel()) sel()->enable = v; return;
	default: f.bad++;
	}
}

u32 mmio_read32(const volatile void *p)
{
	if (off_of(p) == 0x04)
		return (u32)(f.features >> (32 * f.dfselect));
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
	case 0x20: case 0x24: if (sel()) set64(&sel()->desc, off & 4, v); return;
	case 0x28: case 0x2c: if (sel()) set64(&sel()->driver, off & 4, v); return;
	case 0x30: case 0x34: if (sel()) set64(&sel()->device, off & 4, v); return;
	default: f.bad++;
	}
}

static void *ptr(u64 pa) { return (void *)(uintptr_t)pa; }
static u16 avail_idx(int q) { return ((u16 *)ptr(f.q[q].driver))[1]; }

/* The device puts {id, len} in queue q's used ring. */
static void used_put(int q, u32 id, u32 len)
{
	u8 *used = ptr(f.q[q].device);
	u32 elem[2] = { id, len };

	memcpy(used + 4 + 8 * (f.q[q].used_idx % f.q[q].size), elem, 8);
	f.q[q].used_idx++;
	memcpy(used + 2, &f.q[q].used_idx, 2);
}

/* The device receives a frame of len bytes (byte i = seed + i) into the
 * next posted buffer; returns the descriptor used, or -1. */
static int wire_in(u32 len, u8 seed)
{
	struct fq *q = &f.q[0];
	struct virtq_desc *d = ptr(q->desc);
	u16 head;
	u8 *buf;

	if (q->last_avail == avail_idx(0))
		return -1;
	head = ((u16 *)ptr(q->driver))[2 + q->last_avail++ % q->size];
	if (head >= q->size || !(d[head].flags & VIRTQ_DESC_F_WRITE) || d[head].len < 12 + len) {
		f.bad++;
		return -1;
	}
	buf = ptr(d[head].addr);
	memset(buf, 0, 12);
	buf[10] = 1; /* num_buffers */
	for (u32 i = 0; i < len; i++)
		buf[12 + i] = (u8)(seed + i);
	used_put(0, head, 12 + len);
	return head;
}

static struct vnic *v;

static int start(void)
{
	v = calloc(1, sizeof(*v));
	v->t.name = "vnic-test";
	v->t.common = bar;
	v->t.notify_base = bar + 0x1000;
	v->t.notify_multiplier = 4;
	v->t.device = bar + 0x2000;
	v->msix_entry = 0;
	nr_got = 0;
	return vnic_start(v);
}

static bool frame_ok(unsigned i, u32 len, u8 seed)
{
	if (got[i].len != len)
		return false;
	for (u32 k = 0; k < len; k++)
		if (got[i].frame[k] != (u8)(seed + k))
			return false;
	return true;
}

TEST(start_negotiates_and_posts_buffers)
{
	fake_reset(FEAT(32) | FEAT(5) | FEAT(0) | FEAT(15), 1024);
	CHECK_EQ(start(), 0);
	CHECK_EQ(f.driver_features, FEAT(32) | FEAT(5)); /* no offloads, no mergeable buffers */
	CHECK_EQ(f.status, 1 | 2 | 8 | 4);
	CHECK(!memcmp(v->nic.mac, mac, 6));
	CHECK_EQ(v->rx.size, 256); /* 1024 offered, our maximum taken */
	CHECK_EQ(f.q[0].size, 256);
	CHECK_EQ(f.q[0].msix, 0);
	CHECK_EQ(f.q[1].msix, 0xffff); /* transmit: no interrupts */
	CHECK_EQ(f.cfg_msix, 0xffff);
	CHECK(f.q[0].enable && f.q[1].enable);
	CHECK_EQ(avail_idx(0), 256); /* every receive buffer posted */
	CHECK_EQ(f.q[0].notifies, 1);
	struct virtq_desc *d = ptr(f.q[0].desc);
	bool distinct = true;
	for (unsigned i = 0; i < 256; i++)
		if (d[i].len != VNIC_BUF || d[i].flags != VIRTQ_DESC_F_WRITE ||
		    (i && d[i].addr != d[i - 1].addr + VNIC_BUF))
			distinct = false;
	CHECK(distinct);
	CHECK(v->nic.xmit == vnic_xmit && v->nic.poll_rx == vnic_poll_rx && v->nic.priv == v);
	CHECK_EQ(f.bad, 0);
}

TEST(start_failures_and_no_mac)
{
	fake_reset(FEAT(5), 256); /* legacy only */
	CHECK_EQ(start(), -EIO);
	CHECK(f.status & 128);
	fake_reset(FEAT(32), 64); /* no MAC offered: a locally administered one */
	CHECK_EQ(start(), 0);
	CHECK_EQ(v->nic.mac[0], 0x02);
	CHECK_EQ(v->rx.size, 64);
	CHECK_EQ(f.bad, 0);
}

TEST(receive_in_order_and_repost)
{
	fake_reset(FEAT(32) | FEAT(5), 256);
	CHECK_EQ(start(), 0);
	CHECK_EQ(wire_in(60, 1), 0);
	CHECK_EQ(wire_in(1514, 2), 1);
	CHECK_EQ(wire_in(14, 3), 2);
	vnic_irq(v);
	CHECK_EQ(interrupts, 1);
	CHECK_EQ(vnic_poll_rx(&v->nic, 64), 3);
	CHECK_EQ(nr_got, 3);
	CHECK(frame_ok(0, 60, 1) && frame_ok(1, 1514, 2) && frame_ok(2, 14, 3));
	CHECK_EQ(avail_idx(0), 259); /* the three buffers back */
	CHECK_EQ(f.q[0].notifies, 2);
	CHECK_EQ(vnic_poll_rx(&v->nic, 64), 0); /* nothing more */
	CHECK_EQ(f.q[0].notifies, 2);
	/* Around the ring more than once: the buffers keep coming back. */
	for (unsigned i = 0; i < 600; i++) {
		CHECK(wire_in(100, (u8)i) >= 0);
		if (i % 50 == 49)
			vnic_poll_rx(&v->nic, 64);
	}
	vnic_poll_rx(&v->nic, 64);
	CHECK_EQ(nr_got, 603);
	CHECK_EQ(v->rx_bad, 0);
	CHECK_EQ(f.bad, 0);
}

TEST(receive_budget)
{
	fake_reset(FEAT(32) | FEAT(5), 256);
	CHECK_EQ(start(), 0);
	for (unsigned i = 0; i < 10; i++)
		wire_in(64, (u8)(10 * i));
	CHECK_EQ(vnic_poll_rx(&v->nic, 4), 4);
	CHECK_EQ(vnic_poll_rx(&v->nic, 4), 4);
	CHECK_EQ(vnic_poll_rx(&v->nic, 4), 2);
	CHECK_EQ(nr_got, 10);
	/* Made-up entries count against the budget too: the loop ends. */
	for (unsigned i = 0; i < 100; i++)
		used_put(0, 5000, 64);
	CHECK_EQ(vnic_poll_rx(&v->nic, 64), 64);
	CHECK_EQ(vnic_poll_rx(&v->nic, 64), 36);
	CHECK_EQ(v->rx_bad, 100);
	CHECK(frame_ok(9, 64, 90));
}

TEST(receive_bad_used_entries)
{
	fake_reset(FEAT(32) | FEAT(5), 256);
	CHECK_EQ(start(), 0);
	used_put(0, 256, 100);        /* an id outside the queue */
	used_put(0, 0xffffffff, 100); /* and far outside */
	CHECK_EQ(vnic_poll_rx(&v->nic, 64), 2); /* handled (and counted), not passed on */
	CHECK_EQ(v->rx_bad, 2);
	int d = wire_in(60, 5);
	used_put(0, (u32)d, 72);      /* the same buffer twice: the second is not ours */
	CHECK_EQ(vnic_poll_rx(&v->nic, 64), 2);
	CHECK_EQ(v->rx_bad, 3);
	CHECK_EQ(nr_got, 1);
	/* Lengths: shorter than a header and an Ethernet header, longer than
	 * the buffer: counted, not passed on, the buffer posted again. */
	u16 before = avail_idx(0);
	struct fq *q = &f.q[0];
	u16 h1 = ((u16 *)ptr(q->driver))[2 + q->last_avail++ % q->size];
	u16 h2 = ((u16 *)ptr(q->driver))[2 + q->last_avail++ % q->size];
	used_put(0, h1, 12 + 13);
	used_put(0, h2, 100000);
	CHECK_EQ(vnic_poll_rx(&v->nic, 64), 2);
	CHECK_EQ(nr_got, 1);
	CHECK_EQ(v->rx_bad, 5);
	CHECK_EQ(avail_idx(0), (u16)(before + 2));
	CHECK(wire_in(60, 9) >= 0); /* and the queue goes on */
	CHECK_EQ(vnic_poll_rx(&v->nic, 64), 1);
	CHECK(frame_ok(1, 60, 9));
}

TEST(transmit_fill_and_reclaim)
{
	u8 frame[1600];

	fake_reset(FEAT(32) | FEAT(5), 256);
	CHECK_EQ(start(), 0);
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (u8)(i * 7);
	CHECK(vnic_xmit(&v->nic, frame, 60));
	struct virtq_desc *d = ptr(f.q[1].desc);
	u16 head = ((u16 *)ptr(f.q[1].driver))[2];
	u8 *buf = ptr(d[head].addr);
	u8 zero[12] = { 0 };
	CHECK_EQ(d[head].len, 12 + 60);
	CHECK_EQ(d[head].flags, 0); /* device-readable, one descriptor */
	CHECK(!memcmp(buf, zero, 12) && !memcmp(buf + 12, frame, 60));
	CHECK_EQ(avail_idx(1), 1);
	CHECK_EQ(f.q[1].notifies, 1);
	CHECK_EQ(((u16 *)ptr(f.q[1].driver))[0], VIRTQ_AVAIL_F_NO_INTERRUPT);
	CHECK(!vnic_xmit(&v->nic, frame, 1519)); /* longer than a tagged frame */
	CHECK(!vnic_xmit(&v->nic, frame, 13));
	CHECK(vnic_xmit(&v->nic, frame, 1518));
	for (unsigned i = 2; i < 256; i++)
		CHECK(vnic_xmit(&v->nic, frame, 100));
	CHECK(!vnic_xmit(&v->nic, frame, 100)); /* the ring is full */
	/* The device sends ten; a stray and a repeated id are not taken back. */
	u16 *ring = (u16 *)ptr(f.q[1].driver) + 2;
	for (unsigned i = 0; i < 10; i++)
		used_put(1, ring[i], 0);
	used_put(1, 999, 0);
	used_put(1, ring[0], 0);
	for (unsigned i = 0; i < 10; i++)
		CHECK(vnic_xmit(&v->nic, frame, 100));
	CHECK(!vnic_xmit(&v->nic, frame, 100));
	CHECK_EQ(v->tx_bad, 2);
	CHECK_EQ(v->tx.nr_free, 0);
	CHECK_EQ(avail_idx(1), 266);
	CHECK_EQ(f.bad, 0);
}

int main(void)
{
	RUN(start_negotiates_and_posts_buffers);
	RUN(start_failures_and_no_mac);
	RUN(receive_in_order_and_repost);
	RUN(receive_budget);
	RUN(receive_bad_used_entries);
	RUN(transmit_fill_and_reclaim);
	return unit_done();
}
