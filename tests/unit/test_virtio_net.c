/*
 * virtio-net (devices/virtio_net.c) between two VMs on a real switch
 * (core/vswitch.c), over real virtqueues (devices/virtqueue.c) on a fake
 * guest RAM. The PCI transport is a stub that records interrupts: its own
 * code is the transport's, not this device's.
 */
#include <stdarg.h>
#include <sys/mman.h>
#include "unit.h"
#include "fake_gmem.h"
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"
#include "hv/vswitch.h"

void kprintf(const char *fmt, ...) {}
void *kzalloc(size_t size) { return calloc(1, size); }
void kfree(void *p) { free(p); }

/* ---- the transport, stubbed ---- */

static int interrupts[2][2]; /* [vm][queue] */

struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_host *host, u8 devfn,
				     u64 bar_base, const char *name,
				     const struct virtio_dev_ops *ops, void *dev)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));

	vp->vm = vm;
	vp->ops = ops;
	vp->dev = dev;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vp->vq[i].vm = vm;
		vp->vq[i].dev_name = "virtio-net0";
		vp->vq[i].index = (u16)i;
	}
	return vp;
}
void virtio_pci_destroy(struct virtio_pci *vp) { free(vp); }
void virtio_pci_reset(struct virtio_pci *vp) {}
void virtio_pci_queue_interrupt(struct virtio_pci *vp, struct virtq *vq)
{
	interrupts[vp->vm->id][vq->index]++;
}
int virtio_pci_save(const struct virtio_pci *vp, struct snap_writer *w) { return 0; }
int virtio_pci_load(struct virtio_pci *vp, struct snap_cursor *c) { return 0; }

/* ---- two VMs in one RAM, each with its own region ---- */

#define RAM_SIZE (64ULL << 20)
#define REGION (16ULL << 20)
#define QSIZE 16
#define BUFS 0x100000 /* buffers from here in a region, 4 KiB each */

static u8 *ram;
static struct vm tvm[2];
static struct virtio_net *nic[2];
static struct vswitch sw;
static u64 now;
static u64 clock_fn(void) { return now; }

static const u8 MAC0[6] = { 0x02, 0, 0, 0, 0, 1 };
static const u8 MAC1[6] = { 0x02, 0, 0, 0, 0, 2 };

static void *at(u64 gpa) { return ram + gpa; }
static void wr16(u64 gpa, u16 v) { memcpy(at(gpa), &v, 2); }
static u16 rd16(u64 gpa) { u16 v; memcpy(&v, at(gpa), 2); return v; }
static u32 rd32(u64 gpa) { u32 v; memcpy(&v, at(gpa), 4); return v; }

static struct virtq *q(int v, int i) { return &virtio_net_pci(nic[v])->vq[i]; }

/* Two VMs' NICs, a (MAC0) and b (MAC1), drivers ready; b joins the switch
 * only when join_b (a VM built for a saved state joins later). */
static void setup_nics(bool join_b)
{
	int err;

	if (!ram) {
		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ram == MAP_FAILED)
			abort();
	}
	memset(ram, 0, RAM_SIZE);
	memset(interrupts, 0, sizeof(interrupts));
	now = 1;
	vswitch_init(&sw, clock_fn, 1000);
	for (int v = 0; v < 2; v++) {
		struct virtio_pci *vp;

		if (nic[v])
			virtio_net_destroy(nic[v]);
		memset(&tvm[v], 0, sizeof(tvm[v]));
		tvm[v].id = (u32)v;
		strcpy(tvm[v].name, v ? "b" : "a");
		fake_gmem_attach(&tvm[v], ram, RAM_SIZE);
		nic[v] = virtio_net_create(&tvm[v], NULL, 0, 0, "virtio-net0", v ? MAC1 : MAC0, &sw,
					   &err);
		CHECK(nic[v] != NULL);
		if (v == 0 || join_b)
			CHECK_EQ(virtio_net_join(nic[v]), 0);
		vp = virtio_net_pci(nic[v]);
		vp->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
		for (int i = 0; i < 2; i++) {
			struct virtq *vq = q(v, i);
			u64 base = (u64)v * REGION + (u64)i * 0x10000;

			vq->size = QSIZE;
			vq->desc = base;
			vq->avail = base + 0x1000;
			vq->used = base + 0x2000;
			vq->enabled = true;
		}
	}
}

static void setup(void) { setup_nics(true); }

/* Posts one chain of one descriptor on queue i of VM v; returns its head. */
static u16 post(int v, int i, u64 addr, u32 len, bool write)
{
	struct virtq *vq = q(v, i);
	u16 idx = rd16(vq->avail + VIRTQ_AVAIL_IDX), head = idx % QSIZE;
	struct virtq_desc d = { addr, len, write ? VIRTQ_DESC_F_WRITE : 0, 0 };

	memcpy(at(vq->desc + 16ULL * head), &d, sizeof(d));
	wr16(vq->avail + VIRTQ_AVAIL_RING + 2 * head, head);
	wr16(vq->avail + VIRTQ_AVAIL_IDX, (u16)(idx + 1));
	return head;
}

static u64 buf(int v, unsigned n) { return (u64)v * REGION + BUFS + 0x1000ULL * n; }

/* VM v transmits a frame to dst of len bytes (header included in the chain). */
static void transmit(int v, const u8 *dst, u32 frame_len, unsigned n)
{
	u64 b = buf(v, n);
	u8 *p = at(b);

	memset(p, 0, 12); /* virtio_net_hdr: nothing asked */
	memcpy(p + 12, dst, 6);
	memcpy(p + 18, v ? MAC1 : MAC0, 6);
	for (u32 i = 12; i < frame_len; i++)
		p[12 + i] = (u8)(i * 7);
	post(v, VNET_TXQ, b, 12 + frame_len, false);
	virtio_net_pci(nic[v])->ops->notify(nic[v], q(v, VNET_TXQ));
}

static u16 used_idx(int v, int i) { return rd16(q(v, i)->used + VIRTQ_USED_IDX); }
static u32 used_len(int v, int i, u16 n)
{
	return rd32(q(v, i)->used + VIRTQ_USED_RING + VIRTQ_USED_ELEM * n + 4);
}

/* A frame from a to b lands in b's receive buffer behind a 12-byte header
 * with num_buffers 1; a's transmit chain is used with 0 bytes. */
TEST(frame_crosses)
{
	u8 *rx;

	setup();
	post(1, VNET_RXQ, buf(1, 100), 1526, true);
	transmit(0, MAC1, 100, 0);
	CHECK_EQ(used_idx(0, VNET_TXQ), 1);
	CHECK_EQ(used_len(0, VNET_TXQ, 0), 0);
	CHECK_EQ(used_idx(1, VNET_RXQ), 1);
	CHECK_EQ(used_len(1, VNET_RXQ, 0), 112);
	rx = at(buf(1, 100));
	CHECK_EQ(rd16(buf(1, 100) + 10), 1); /* num_buffers */
	CHECK_EQ(rx[0], 0);
	CHECK(!memcmp(rx + 12, at(buf(0, 0)) + 12, 100));
	CHECK_EQ(interrupts[1][VNET_RXQ], 1);
	CHECK_EQ(interrupts[0][VNET_TXQ], 1);
	CHECK_EQ(virtio_net_port(nic[1])->c.tx_frames, 1);
}

/* No receive buffer posted: dropped and counted; the next one gets through. */
TEST(no_buffer_drops)
{
	struct virtio_net_stats st;

	setup();
	transmit(0, MAC1, 60, 0);
	virtio_net_stats(nic[1], &st);
	CHECK_EQ(st.rx_no_buffer, 1);
	CHECK_EQ(virtio_net_port(nic[1])->c.drops, 1);
	CHECK_EQ(used_idx(1, VNET_RXQ), 0);
	CHECK_EQ(used_idx(0, VNET_TXQ), 1); /* the sender's buffer is still returned */
	post(1, VNET_RXQ, buf(1, 100), 1526, true);
	transmit(0, MAC1, 60, 1);
	CHECK_EQ(used_idx(1, VNET_RXQ), 1);
}

/* A receive buffer too small for header and frame comes back empty. */
TEST(short_buffer)
{
	struct virtio_net_stats st;

	setup();
	post(1, VNET_RXQ, buf(1, 100), 12 + 59, true);
	transmit(0, MAC1, 60, 0);
	virtio_net_stats(nic[1], &st);
	CHECK_EQ(st.rx_short_buf, 1);
	CHECK_EQ(used_idx(1, VNET_RXQ), 1);
	CHECK_EQ(used_len(1, VNET_RXQ, 0), 0);
}

/* Transmit chains without a whole frame, or longer than MTU 1500 allows:
 * returned, counted, not sent. */
TEST(bad_transmit)
{
	struct virtio_net_stats st;

	setup();
	post(1, VNET_RXQ, buf(1, 100), 2048, true);
	transmit(0, MAC1, 13, 0);          /* no whole Ethernet header */
	transmit(0, MAC1, ETH_MAX_FRAME + 1, 1);
	virtio_net_stats(nic[0], &st);
	CHECK_EQ(st.tx_bad, 2);
	CHECK_EQ(used_idx(0, VNET_TXQ), 2);
	CHECK_EQ(used_idx(1, VNET_RXQ), 0);
	transmit(0, MAC1, ETH_MAX_FRAME, 2);
	CHECK_EQ(used_idx(1, VNET_RXQ), 1);
	CHECK_EQ(used_len(1, VNET_RXQ, 0), 12 + ETH_MAX_FRAME);
}

/* A VM sending with another VM's MAC: the switch drops it. */
TEST(spoof)
{
	u8 *p;

	setup();
	post(1, VNET_RXQ, buf(1, 100), 1526, true);
	p = at(buf(0, 0));
	memset(p, 0, 12);
	memcpy(p + 12, MAC1, 6);
	memcpy(p + 18, MAC1, 6); /* b's address as source */
	post(0, VNET_TXQ, buf(0, 0), 12 + 60, false);
	virtio_net_pci(nic[0])->ops->notify(nic[0], q(0, VNET_TXQ));
	CHECK_EQ(virtio_net_port(nic[0])->c.spoofs, 1);
	CHECK_EQ(used_idx(1, VNET_RXQ), 0);
	CHECK_EQ(used_idx(0, VNET_TXQ), 1);
}

/* A paused VM, or one whose driver is not ready, takes nothing. */
TEST(not_running)
{
	setup();
	post(1, VNET_RXQ, buf(1, 100), 1526, true);
	tvm[1].state = VM_PAUSED;
	transmit(0, MAC1, 60, 0);
	CHECK_EQ(used_idx(1, VNET_RXQ), 0);
	tvm[1].state = VM_RUNNING;
	virtio_net_pci(nic[1])->status = 0;
	transmit(0, MAC1, 60, 1);
	CHECK_EQ(used_idx(1, VNET_RXQ), 0);
	CHECK_EQ(virtio_net_port(nic[1])->c.drops, 2);
}

/* A NIC not yet joined (an incoming migration's) gets nothing and owns no
 * MAC: a frame for it floods past it; once joined it is delivered, and a
 * third NIC with its MAC is refused at creation. */
TEST(joins_later)
{
	struct virtio_net *dup;
	int err = 0;

	setup_nics(false);
	post(1, VNET_RXQ, buf(1, 100), 1526, true);
	CHECK(!vswitch_mac_owned(&sw, MAC1));
	transmit(0, MAC1, 60, 0);
	CHECK_EQ(used_idx(1, VNET_RXQ), 0);
	CHECK_EQ(sw.floods, 1);
	CHECK_EQ(virtio_net_join(nic[1]), 0);
	CHECK_EQ(virtio_net_join(nic[1]), 0); /* joined already: nothing more */
	CHECK(vswitch_mac_owned(&sw, MAC1));
	transmit(0, MAC1, 60, 1);
	CHECK_EQ(used_idx(1, VNET_RXQ), 1);
	dup = virtio_net_create(&tvm[1], NULL, 0, 0, "virtio-net1", MAC1, &sw, &err);
	CHECK(dup == NULL);
	CHECK_EQ(err, -EEXIST);
}

/* Broadcast from b reaches a; the device configuration holds the MAC and MTU. */
TEST(broadcast_and_config)
{
	static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct virtio_dev_ops *ops;
	u32 lo, hi;

	setup();
	post(0, VNET_RXQ, buf(0, 100), 1526, true);
	transmit(1, bcast, 42, 0);
	CHECK_EQ(used_idx(0, VNET_RXQ), 1);
	ops = virtio_net_pci(nic[1])->ops;
	CHECK_EQ(ops->device_id, 1);
	CHECK(ops->features & (1ULL << VIRTIO_NET_F_MAC));
	lo = ops->cfg_read(nic[1], 0, 4);
	hi = ops->cfg_read(nic[1], 4, 2);
	CHECK_EQ(lo, 0x00000002);
	CHECK_EQ(hi, 0x0200);
	CHECK_EQ(ops->cfg_read(nic[1], 10, 2), 1500);
}

int main(void)
{
	RUN(frame_crosses);
	RUN(no_buffer_drops);
	RUN(short_buffer);
	RUN(bad_transmit);
	RUN(spoof);
	RUN(not_running);
	RUN(joins_later);
	RUN(broadcast_and_config);
	return unit_done();
}
