/*
 * The split virtqueue (devices/virtqueue.c) against a fake guest RAM: a good
 * chain, every malformed case that must break the queue (and only that
 * queue), event index and indirect tables.
 */
#include <stdarg.h>
#include <sys/mman.h>
#include "unit.h"
#include "fake_gmem.h"
#include "devices/virtqueue.h"

/* The log line vq_fail prints. */
static char last_log[256];
static int nr_logs;
void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	nr_logs++;
}

/* 2 GiB reserved, touched only where the tests write: room for buffers
 * whose lengths add up past 4 GiB. */
#define RAM_SIZE (2ULL << 30)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define QSIZE 8
#define BUF 0x10000

static u8 *ram;
static struct vm vm;
static struct virtq vq, vq2;
static int fails;

static void on_fail(void *ctx, struct virtq *q)
{
	fails++;
}

static void *at(u64 gpa)
{
	return ram + gpa;
}

static void setup_q(struct virtq *q, u16 index, u64 base)
{
	vq_reset(q);
	q->vm = &vm;
	q->dev_name = "virtio-test";
	q->index = index;
	q->size = QSIZE;
	q->desc = base + DESC;
	q->avail = base + AVAIL;
	q->used = base + USED;
	q->indirect = true;
	q->enabled = true;
	q->on_fail = on_fail;
	memset(at(base), 0, 0x4000);
}

static void setup(void)
{
	if (!ram) {
		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (ram == MAP_FAILED)
			abort();
	}
	memset(&vm, 0, sizeof(vm));
	strcpy(vm.name, "guest1");
	fake_gmem_attach(&vm, ram, RAM_SIZE);
	setup_q(&vq, 0, 0);
	setup_q(&vq2, 1, 0x100000);
	fails = 0;
	nr_logs = 0;
	last_log[0] = 0;
}

static void desc_at(u64 table, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	struct virtq_desc d = { addr, len, flags, next };

	memcpy(at(table + 16ULL * i), &d, sizeof(d));
}

static void desc(struct virtq *q, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	desc_at(q->desc, i, addr, len, flags, next);
}

static u16 rd16(u64 gpa)
{
	u16 v;

	memcpy(&v, at(gpa), 2);
	return v;
}

static void wr16(u64 gpa, u16 v)
{
	memcpy(at(gpa), &v, 2);
}

/* Makes head available. */
static void post(struct virtq *q, u16 head)
{
	u16 idx = rd16(q->avail + VIRTQ_AVAIL_IDX);

	wr16(q->avail + VIRTQ_AVAIL_RING + 2 * (idx % q->size), head);
	wr16(q->avail + VIRTQ_AVAIL_IDX, (u16)(idx + 1));
}

static struct vq_chain chain;

/* Pops one chain that must be malformed: the queue breaks once, with one log line. */
static void expect_broken(const char *why_part)
{
	CHECK_EQ(vq_pop(&vq, &chain), (unsigned long long)-EFAULT);
	CHECK(vq.broken);
	CHECK_EQ(fails, 1);
	CHECK_EQ(nr_logs, 1);
	CHECK(strstr(last_log, "vm guest1: virtio-test queue 0:") != NULL);
	CHECK(strstr(last_log, why_part) != NULL);
	if (!strstr(last_log, why_part))
		fprintf(stderr, "  log: %s", last_log);
	/* Broken stays broken, silently; nothing is pushed. */
	CHECK_EQ(vq_pop(&vq, &chain), (unsigned long long)-EFAULT);
	CHECK(!vq_push(&vq, 0, 0));
	CHECK_EQ(rd16(vq.used + VIRTQ_USED_IDX), 0);
	CHECK_EQ(nr_logs, 1);
}

TEST(good_chain)
{
	setup();
	desc(&vq, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 3);
	desc(&vq, 3, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
	desc(&vq, 5, BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	post(&vq, 0);
	CHECK(vq_config_ok(&vq));
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 0);
	CHECK_EQ(chain.nr, 3);
	CHECK_EQ(chain.nr_all, 3);
	CHECK_EQ(chain.out_len, 16);
	CHECK_EQ(chain.in_len, 513);
	CHECK(!chain.buf[0].write && chain.buf[1].write && chain.buf[2].write);
	CHECK_EQ(vq_pop(&vq, &chain), 0);

	/* Copies in and out skip to the right buffer. */
	memcpy(at(BUF), "0123456789abcdef", 16);
	char hdr[8];
	CHECK_EQ(vq_read_out(&vm, &chain, 8, hdr, 8), 8);
	CHECK(!memcmp(hdr, "89abcdef", 8));
	u8 st = 0x5a;
	CHECK_EQ(vq_write_in(&vm, &chain, 512, &st, 1), 1);
	CHECK_EQ(*(u8 *)at(BUF + 0x2000), 0x5a);
	CHECK(vm.gmem.dirty[(BUF + 0x2000) / 4096 / 64] & (1ULL << ((BUF + 0x2000) / 4096 % 64)));

	/* Used ring: element, then index; interrupt unless suppressed. */
	CHECK(vq_push(&vq, 0, 513));
	CHECK_EQ(rd16(vq.used + VIRTQ_USED_IDX), 1);
	CHECK_EQ(*(u32 *)at(vq.used + VIRTQ_USED_RING), 0);
	CHECK_EQ(*(u32 *)at(vq.used + VIRTQ_USED_RING + 4), 513);
	CHECK(vm.gmem.dirty[USED / 4096 / 64] & (1ULL << (USED / 4096 % 64)));
	wr16(vq.avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
	post(&vq, 5);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK(!vq_push(&vq, 5, 1));
	CHECK_EQ(rd16(vq.used + VIRTQ_USED_IDX), 2);
	CHECK_EQ(fails, 0);
}

TEST(outside_ram)
{
	setup();
	desc(&vq, 0, RAM_SIZE - 8, 16, 0, 0);
	post(&vq, 0);
	expect_broken("outside the VM's RAM");
}

TEST(address_overflows)
{
	setup();
	desc(&vq, 0, ~0ULL - 4, 16, 0, 0);
	post(&vq, 0);
	expect_broken("outside the VM's RAM");
}

TEST(loop)
{
	setup();
	desc(&vq, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(&vq, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	post(&vq, 0);
	expect_broken("longer than the queue");
}

TEST(self_loop)
{
	setup();
	desc(&vq, 2, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	post(&vq, 2);
	expect_broken("longer than the queue");
}

TEST(next_outside_table)
{
	setup();
	desc(&vq, 0, BUF, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	post(&vq, 0);
	expect_broken("next index outside the descriptor table");
}

TEST(head_outside_table)
{
	setup();
	post(&vq, 0xffff);
	expect_broken("head index outside");
}

TEST(avail_too_far_ahead)
{
	setup();
	wr16(vq.avail + VIRTQ_AVAIL_IDX, QSIZE + 1);
	expect_broken("more than a queue ahead");
}

TEST(read_after_write)
{
	setup();
	desc(&vq, 0, BUF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(&vq, 1, BUF, 16, 0, 0);
	post(&vq, 0);
	expect_broken("device-readable buffer after a device-writable");
}

TEST(lengths_overflow)
{
	setup();
	/* Three buffers of 1.5 GiB over the same RAM: 4.5 GiB in all. */
	for (u16 i = 0; i < 3; i++)
		desc(&vq, i, BUF, 0x60000000, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (u16)(i + 1));
	desc(&vq, 2, BUF, 0x60000000, VIRTQ_DESC_F_WRITE, 0);
	post(&vq, 0);
	expect_broken("lengths overflow");
}

#define IND 0x8000

TEST(indirect_good_and_long)
{
	setup();
	/* 100 entries: more than VQ_MAX_BUFS are counted, the last one kept. */
	for (u16 i = 0; i < 99; i++)
		desc_at(IND, i, BUF + i * 16ULL, 16, VIRTQ_DESC_F_NEXT, (u16)(i + 1));
	desc_at(IND, 99, BUF + 0x4000, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(&vq, 4, IND, 100 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	post(&vq, 4);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 4);
	CHECK_EQ(chain.nr, VQ_MAX_BUFS);
	CHECK_EQ(chain.nr_all, 100);
	CHECK_EQ(chain.out_len, 99 * 16);
	CHECK_EQ(chain.in_len, 1);
	CHECK_EQ(chain.buf[VQ_MAX_BUFS - 1].addr, BUF + 0x4000);
	CHECK(chain.buf[VQ_MAX_BUFS - 1].write);
	CHECK_EQ(fails, 0);
}

TEST(indirect_direct_prefix)
{
	setup();
	desc_at(IND, 0, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(&vq, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(&vq, 1, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
	post(&vq, 0);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(chain.nr, 2);
	CHECK_EQ(chain.out_len, 16);
	CHECK_EQ(chain.in_len, 1);
}

TEST(indirect_not_negotiated)
{
	setup();
	vq.indirect = false;
	desc_at(IND, 0, BUF, 16, 0, 0);
	desc(&vq, 0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
	post(&vq, 0);
	expect_broken("not negotiated");
}

TEST(indirect_nested)
{
	setup();
	desc_at(IND, 0, IND + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(&vq, 0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
	post(&vq, 0);
	expect_broken("indirect table inside an indirect table");
}

TEST(indirect_bad_sizes)
{
	static const u32 lens[] = { 0, 15, 17, (VQ_MAX_INDIRECT + 1) * 16 };

	for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
		setup();
		desc(&vq, 0, IND, lens[i], VIRTQ_DESC_F_INDIRECT, 0);
		post(&vq, 0);
		expect_broken("indirect table of bad size");
	}
}

TEST(indirect_with_next)
{
	setup();
	desc_at(IND, 0, BUF, 16, 0, 0);
	desc(&vq, 0, IND, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	post(&vq, 0);
	expect_broken("indirect descriptor with NEXT");
}

TEST(indirect_loop)
{
	setup();
	desc_at(IND, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_at(IND, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	desc(&vq, 0, IND, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(&vq, 0);
	expect_broken("loop in an indirect table");
}

TEST(indirect_next_outside)
{
	setup();
	desc_at(IND, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	desc(&vq, 0, IND, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(&vq, 0);
	expect_broken("next index outside the indirect table");
}

TEST(indirect_outside_ram)
{
	setup();
	desc(&vq, 0, RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(&vq, 0);
	expect_broken("indirect table outside");
}

TEST(config_checks)
{
	setup();
	CHECK(vq_config_ok(&vq));
	vq.size = 6;
	CHECK(!vq_config_ok(&vq));
	vq.size = VQ_MAX_SIZE * 2;
	CHECK(!vq_config_ok(&vq));
	vq.size = QSIZE;
	vq.desc = DESC + 8;
	CHECK(!vq_config_ok(&vq));
	vq.desc = RAM_SIZE - 16;
	CHECK(!vq_config_ok(&vq));
	vq.desc = DESC;
	vq.used = RAM_SIZE - 8;
	CHECK(!vq_config_ok(&vq));
	vq.used = USED + 2;
	CHECK(!vq_config_ok(&vq));
}

/* One queue breaks; the other carries on. */
TEST(other_queue_goes_on)
{
	setup();
	desc(&vq, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	post(&vq, 0);
	desc(&vq2, 0, BUF, 16, 0, 0);
	post(&vq2, 0);
	expect_broken("longer than the queue");
	CHECK_EQ(vq_pop(&vq2, &chain), 1);
	CHECK(vq_push(&vq2, chain.head, 0));
	CHECK_EQ(rd16(vq2.used + VIRTQ_USED_IDX), 1);
	CHECK(!vq2.broken);
}

/* 2.7.10: avail_event tells the driver where to kick; used_event where to
 * interrupt. */
TEST(event_index)
{
	u64 used_event, avail_event;

	setup();
	vq.event_idx = true;
	used_event = vq.avail + VIRTQ_AVAIL_RING + 2 * QSIZE;
	avail_event = vq.used + VIRTQ_USED_RING + VIRTQ_USED_ELEM * QSIZE;
	CHECK_EQ(vq_pop(&vq, &chain), 0);
	CHECK_EQ(rd16(avail_event), 0);
	for (u16 i = 0; i < 3; i++) {
		desc(&vq, i, BUF, 16, 0, 0);
		post(&vq, i);
	}
	for (u16 i = 0; i < 3; i++)
		CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(rd16(avail_event), 3);
	CHECK_EQ(vq_pop(&vq, &chain), 0);
	/* The driver wants an interrupt once used passes 1 (i.e. at idx 2). */
	wr16(used_event, 1);
	CHECK(!vq_push(&vq, 0, 0)); /* idx 1 */
	CHECK(vq_push(&vq, 1, 0));  /* idx 2: crosses used_event + 1 */
	CHECK(!vq_push(&vq, 2, 0)); /* idx 3: event not moved */
	/* Index 3 was wanted but its push did not interrupt (used_event
	 * moved late): the next push does, counted from the last interrupt. */
	wr16(used_event, 2);
	desc(&vq, 3, BUF, 16, 0, 0);
	post(&vq, 3);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK(vq_push(&vq, 3, 0));  /* idx 4 */
	wr16(used_event, 4);
	desc(&vq, 4, BUF, 16, 0, 0);
	post(&vq, 4);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK(vq_push(&vq, 4, 0)); /* idx 5 passes 4 */
	CHECK_EQ(fails, 0);
}

/* A buffer added between the empty check and publishing avail_event is
 * found by the recheck (2.7.10): vq_pop looks again after publishing. */
TEST(event_index_wraps)
{
	setup();
	vq.event_idx = true;
	vq.last_avail = 0xfffe;
	vq.used_idx = 0xfffe;
	wr16(vq.avail + VIRTQ_AVAIL_IDX, 0xfffe);
	for (u16 i = 0; i < 4; i++) {
		desc(&vq, i, BUF, 16, 0, 0);
		post(&vq, i);
	}
	for (u16 i = 0; i < 4; i++) {
		CHECK_EQ(vq_pop(&vq, &chain), 1);
		CHECK_EQ(chain.head, i);
		vq_push(&vq, chain.head, 0);
	}
	CHECK_EQ(vq.last_avail, 2);
	CHECK_EQ(rd16(vq.used + VIRTQ_USED_IDX), 2);
	CHECK_EQ(fails, 0);
}

TEST(disabled_and_reset)
{
	setup();
	vq.enabled = false;
	desc(&vq, 0, BUF, 16, 0, 0);
	post(&vq, 0);
	CHECK_EQ(vq_pop(&vq, &chain), 0);
	vq.enabled = true;
	vq.broken = true;
	vq_reset(&vq);
	CHECK(!vq.broken && !vq.enabled && vq.size == 0 && vq.last_avail == 0);
	CHECK_EQ(vq.msix_vector, 0xffff);
}

int main(void)
{
	RUN(good_chain);
	RUN(outside_ram);
	RUN(address_overflows);
	RUN(loop);
	RUN(self_loop);
	RUN(next_outside_table);
	RUN(head_outside_table);
	RUN(avail_too_far_ahead);
	RUN(read_after_write);
	RUN(lengths_overflow);
	RUN(indirect_good_and_long);
	RUN(indirect_direct_prefix);
	RUN(indirect_not_negotiated);
	RUN(indirect_nested);
	RUN(indirect_bad_sizes);
	RUN(indirect_with_next);
	RUN(indirect_loop);
	RUN(indirect_next_outside);
	RUN(indirect_outside_ram);
	RUN(config_checks);
	RUN(other_queue_goes_on);
	RUN(event_index);
	RUN(event_index_wraps);
	RUN(disabled_and_reset);
	return unit_done();
}
