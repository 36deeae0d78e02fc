#include "unit.h"
#include "devices/vlapic.h"

#include <string.h>
#include "hv/mm.h"

/* The heap, for the host. */
void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

/* ---- a fake owner: a clock and a record of every callback ---- */

static u64 fake_now;
static struct apic_msg sent[16];
static int nr_sent, nr_wake, nr_init, nr_sipi, nr_eoi;
static u8 sipi_vector, eoi_vector;

static u64 cb_now(void *ctx)
{
	return fake_now;
}

static void cb_send(void *ctx, const struct apic_msg *m)
{
	if (nr_sent < (int)ARRAY_SIZE(sent))
		sent[nr_sent] = *m;
	nr_sent++;
}

static void cb_eoi(void *ctx, u8 vector)
{
	nr_eoi++;
	eoi_vector = vector;
}

static void cb_wake(void *ctx)
{
	nr_wake++;
}

static void cb_init(void *ctx)
{
	nr_init++;
}

static void cb_sipi(void *ctx, u8 vector)
{
	nr_sipi++;
	sipi_vector = vector;
}

static const struct vlapic_ops ops = {
	.now_tsc = cb_now,
	.send = cb_send,
	.eoi = cb_eoi,
	.wake = cb_wake,
	.on_init = cb_init,
	.on_sipi = cb_sipi,
};

/* 1 GHz TSC, 100 MHz timer: 10 TSC ticks per timer tick. */
static struct vlapic_config config(u32 id)
{
	return (struct vlapic_config){
		.id = id,
		.bsp = id == 0,
		.tsc_khz = 1000000,
		.timer_khz = 100000,
		.x2apic = true,
		.tsc_deadline = true,
		.phys_addr_bits = 40,
		.ops = &ops,
	};
}

static struct vlapic *make(u32 id)
{
	struct vlapic_config cfg = config(id);
	struct vlapic *l = vlapic_create(&cfg);

	CHECK(l != NULL);
	fake_now = 0;
	nr_sent = nr_wake = nr_init = nr_sipi = nr_eoi = 0;
	return l;
}

static u32 rd(struct vlapic *l, u32 off)
{
	u64 v = 0;

	CHECK_EQ(vlapic_mmio_ops.read(l, off, 4, &v), 0);
	return (u32)v;
}

static void wr(struct vlapic *l, u32 off, u32 val)
{
	CHECK_EQ(vlapic_mmio_ops.write(l, off, 4, val), 0);
}

/* Software-enabled, spurious vector 0xff. */
static struct vlapic *make_enabled(u32 id)
{
	struct vlapic *l = make(id);

	wr(l, APIC_SVR, APIC_SVR_ENABLE | 0xff);
	return l;
}

static bool vec_set(struct vlapic *l, u32 base, u8 v)
{
	return rd(l, base + (v / 32) * 0x10) & (1u << (v % 32));
}

static u32 read_esr(struct vlapic *l)
{
	wr(l, APIC_ESR, 0); /* latch the errors, then read */
	return rd(l, APIC_ESR);
}

/* The guest takes the pending vector: what the core does on a taken injection. */
static int take(struct vlapic *l)
{
	int v = vlapic_pending(l);

	if (v >= 0)
		vlapic_ack(l, (u8)v);
	return v;
}

/* ---- registers ---- */

TEST(power_up_state)
{
	struct vlapic *l = make(3);
	struct vlapic *bsp = make(0);

	CHECK_EQ(vlapic_apic_base_read(l), 0xfee00800);
	CHECK_EQ(vlapic_apic_base_read(bsp), 0xfee00900);
	CHECK_EQ(vlapic_mode(l), VLAPIC_XAPIC);
	CHECK_EQ(rd(l, APIC_ID), 0x03000000);
	CHECK_EQ(rd(l, APIC_VERSION), 0x00050014);
	CHECK_EQ(rd(l, APIC_TPR), 0);
	CHECK_EQ(rd(l, APIC_PPR), 0);
	CHECK_EQ(rd(l, APIC_LDR), 0);
	CHECK_EQ(rd(l, APIC_DFR), 0xffffffff);
	CHECK_EQ(rd(l, APIC_SVR), 0xff);
	CHECK_EQ(rd(l, APIC_LVT_TIMER), 0x10000);
	CHECK_EQ(rd(l, APIC_LVT_THERMAL), 0x10000);
	CHECK_EQ(rd(l, APIC_LVT_PERF), 0x10000);
	CHECK_EQ(rd(l, APIC_LVT_LINT0), 0x10000);
	CHECK_EQ(rd(l, APIC_LVT_LINT1), 0x10000);
	CHECK_EQ(rd(l, APIC_LVT_ERROR), 0x10000);
	CHECK_EQ(rd(l, APIC_TIMER_INIT), 0);
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 0);
	CHECK_EQ(rd(l, APIC_TIMER_DIV), 0);
	CHECK_EQ(vlapic_mmio_base(l), 0xfee00000);
	CHECK(vlapic_mmio_claims(l, 0xfee00300));
	CHECK(!vlapic_mmio_claims(l, 0xfee01000));
	vlapic_destroy(l);
	vlapic_destroy(bsp);
}

TEST(register_writes_read_back)
{
	struct vlapic *l = make_enabled(1);

	wr(l, APIC_ID, 0x07123456);
	CHECK_EQ(rd(l, APIC_ID), 0x07000000);
	wr(l, APIC_TPR, 0x1234);
	CHECK_EQ(rd(l, APIC_TPR), 0x34);
	wr(l, APIC_LDR, 0x12345678);
	CHECK_EQ(rd(l, APIC_LDR), 0x12000000);
	wr(l, APIC_DFR, 0);
	CHECK_EQ(rd(l, APIC_DFR), 0x0fffffff);
	wr(l, APIC_SVR, 0xffffffff);
	CHECK_EQ(rd(l, APIC_SVR), 0x3ff);
	wr(l, APIC_LVT_LINT0, 0xffffffff);
	CHECK_EQ(rd(l, APIC_LVT_LINT0), 0x1a7ff);
	wr(l, APIC_LVT_LINT1, 0x00000400); /* NMI, unmasked */
	CHECK_EQ(rd(l, APIC_LVT_LINT1), 0x400);
	wr(l, APIC_LVT_ERROR, 0xffffffff);
	CHECK_EQ(rd(l, APIC_LVT_ERROR), 0x100ff);
	wr(l, APIC_LVT_TIMER, 0xffffffff);
	CHECK_EQ(rd(l, APIC_LVT_TIMER), 0x700ff);
	wr(l, APIC_LVT_PERF, 0x400);
	CHECK_EQ(rd(l, APIC_LVT_PERF), 0x400);
	wr(l, APIC_LVT_THERMAL, 0x10000 | 0x40);
	CHECK_EQ(rd(l, APIC_LVT_THERMAL), 0x10040);
	wr(l, APIC_TIMER_DIV, 0xff);
	CHECK_EQ(rd(l, APIC_TIMER_DIV), 0xb);
	wr(l, APIC_ICR_HI, 0xffffffff);
	CHECK_EQ(rd(l, APIC_ICR_HI), 0xff000000);

	/* Read-only registers ignore writes in xAPIC mode. */
	wr(l, APIC_VERSION, 0);
	CHECK_EQ(rd(l, APIC_VERSION), 0x50014);
	wr(l, APIC_PPR, 0xff);
	CHECK_EQ(rd(l, APIC_PPR), 0x34);
	wr(l, APIC_IRR + 0x10, 0xffffffff);
	CHECK_EQ(rd(l, APIC_IRR + 0x10), 0);
	CHECK_EQ(rd(l, APIC_EOI), 0);
	CHECK_EQ(read_esr(l), 0);
	vlapic_destroy(l);
}

TEST(mmio_access_shapes)
{
	struct vlapic *l = make(0);
	u64 v;

	/* A byte or word inside a register's first dword reads its bytes. */
	CHECK_EQ(vlapic_mmio_ops.read(l, APIC_VERSION + 2, 1, &v), 0);
	CHECK_EQ(v, 0x05);
	CHECK_EQ(vlapic_mmio_ops.read(l, APIC_VERSION, 2, &v), 0);
	CHECK_EQ(v, 0x0014);
	/* Past the first dword, 8 bytes, beyond the page: all ones. */
	CHECK_EQ(vlapic_mmio_ops.read(l, APIC_VERSION + 4, 4, &v), 0);
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(vlapic_mmio_ops.read(l, APIC_VERSION, 8, &v), 0);
	CHECK_EQ(v, ~0ULL);
	CHECK_EQ(vlapic_mmio_ops.read(l, 0x1000, 4, &v), 0);
	CHECK_EQ(v, 0xffffffff);
	/* Other writes are dropped. */
	vlapic_mmio_ops.write(l, APIC_TPR, 2, 0x55);
	vlapic_mmio_ops.write(l, APIC_TPR + 4, 4, 0x55);
	CHECK_EQ(rd(l, APIC_TPR), 0);
	/* A reserved register reads 0 and reports an illegal register address. */
	CHECK_EQ(rd(l, 0x040), 0);
	CHECK_EQ(read_esr(l), 0x80);
	CHECK_EQ(read_esr(l), 0);      /* the write cleared what was collected */
	wr(l, APIC_SELF_IPI, 0x40);    /* x2APIC only */
	CHECK_EQ(read_esr(l), 0x80);
	CHECK_EQ(rd(l, APIC_LVT_CMCI), 0); /* not among the 6 LVT entries */
	vlapic_destroy(l);
}

TEST(software_disable_masks_lvt)
{
	struct vlapic *l = make(0);

	wr(l, APIC_LVT_LINT0, 0x700);            /* disabled: stays masked */
	CHECK_EQ(rd(l, APIC_LVT_LINT0), 0x10700);
	wr(l, APIC_SVR, APIC_SVR_ENABLE | 0xff);
	wr(l, APIC_LVT_LINT0, 0x700);
	CHECK_EQ(rd(l, APIC_LVT_LINT0), 0x700);
	wr(l, APIC_SVR, 0xff);                   /* disabling masks them all */
	CHECK_EQ(rd(l, APIC_LVT_LINT0), 0x10700);
	/* And no fixed interrupt is accepted. */
	CHECK(!vlapic_accept(l, 0x40, false));
	CHECK(!vec_set(l, APIC_IRR, 0x40));
	vlapic_destroy(l);
}

/* ---- priorities ---- */

TEST(ppr_from_tpr_and_isr)
{
	struct vlapic *l = make_enabled(0);

	wr(l, APIC_TPR, 0x40);
	CHECK_EQ(rd(l, APIC_PPR), 0x40);
	CHECK(vlapic_accept(l, 0x45, false));
	CHECK_EQ(vlapic_pending(l), -1);  /* class 4 does not beat PPR class 4 */
	CHECK(vlapic_accept(l, 0x51, false));
	CHECK_EQ(vlapic_pending(l), 0x51);
	CHECK_EQ(take(l), 0x51);
	CHECK_EQ(rd(l, APIC_PPR), 0x50);  /* ISRV class 5 > TPR class 4 */
	wr(l, APIC_TPR, 0x6f);
	CHECK_EQ(rd(l, APIC_PPR), 0x6f);
	wr(l, APIC_TPR, 0x5a);
	CHECK_EQ(rd(l, APIC_PPR), 0x5a);  /* equal class: TPR */
	wr(l, APIC_TPR, 0x30);
	CHECK_EQ(rd(l, APIC_PPR), 0x50);
	CHECK_EQ(vlapic_ppr(l), 0x50);
	wr(l, APIC_EOI, 0);
	CHECK_EQ(rd(l, APIC_PPR), 0x30);
	CHECK_EQ(vlapic_pending(l), 0x45);
	vlapic_cr8_write(l, 0x7);
	CHECK_EQ(rd(l, APIC_TPR), 0x70);
	CHECK_EQ(vlapic_cr8_read(l), 7);
	vlapic_destroy(l);
}

TEST(highest_vector_first)
{
	struct vlapic *l = make_enabled(0);

	vlapic_accept(l, 0x30, false);
	vlapic_accept(l, 0x80, false);
	vlapic_accept(l, 0x41, false);
	CHECK(vec_set(l, APIC_IRR, 0x30) && vec_set(l, APIC_IRR, 0x80) && vec_set(l, APIC_IRR, 0x41));
	CHECK_EQ(take(l), 0x80);
	CHECK(!vec_set(l, APIC_IRR, 0x80));
	CHECK(vec_set(l, APIC_ISR, 0x80));
	CHECK_EQ(vlapic_pending(l), -1);   /* 0x41 waits for the EOI of 0x80 */
	wr(l, APIC_EOI, 0);
	CHECK(!vec_set(l, APIC_ISR, 0x80));
	CHECK_EQ(take(l), 0x41);
	CHECK_EQ(vlapic_pending(l), -1);   /* 0x30: class 3 under PPR 0x40 */
	wr(l, APIC_EOI, 0);
	CHECK_EQ(take(l), 0x30);
	wr(l, APIC_EOI, 0);
	CHECK_EQ(vlapic_pending(l), -1);
	CHECK_EQ(rd(l, APIC_PPR), 0);
	vlapic_destroy(l);
}

TEST(nested_interrupts_and_eoi_order)
{
	struct vlapic *l = make_enabled(0);

	vlapic_accept(l, 0x40, false);
	CHECK_EQ(take(l), 0x40);
	vlapic_accept(l, 0x90, false);     /* arrives during the 0x40 handler */
	CHECK_EQ(vlapic_pending(l), 0x90);
	CHECK_EQ(take(l), 0x90);
	CHECK_EQ(rd(l, APIC_ISR + 0x20), 0x1);       /* 0x40: word 2, bit 0 */
	CHECK_EQ(rd(l, APIC_ISR + 0x40), 0x10000);   /* 0x90: word 4, bit 16 */
	CHECK_EQ(rd(l, APIC_PPR), 0x90);
	vlapic_accept(l, 0x50, false);     /* under the 0x90 handler: waits */
	CHECK_EQ(vlapic_pending(l), -1);
	wr(l, APIC_EOI, 0);                /* retires 0x90, the highest */
	CHECK_EQ(rd(l, APIC_ISR + 0x40), 0);
	CHECK_EQ(rd(l, APIC_ISR + 0x20), 0x1);
	CHECK_EQ(vlapic_pending(l), 0x50); /* beats the 0x40 still in service */
	CHECK_EQ(take(l), 0x50);
	wr(l, APIC_EOI, 0);
	wr(l, APIC_EOI, 0);
	CHECK_EQ(rd(l, APIC_ISR + 0x20), 0);
	wr(l, APIC_EOI, 0);                /* nothing in service: no effect */
	CHECK_EQ(nr_eoi, 0);
	vlapic_destroy(l);
}

TEST(level_triggered_eoi_broadcast)
{
	struct vlapic *l = make_enabled(0);

	CHECK(vlapic_accept(l, 0x61, true));
	CHECK(vec_set(l, APIC_TMR, 0x61));
	CHECK_EQ(rd(l, APIC_IRR + 0x30), 0x2);
	CHECK_EQ(take(l), 0x61);
	wr(l, APIC_EOI, 0);
	CHECK_EQ(nr_eoi, 1);
	CHECK_EQ(eoi_vector, 0x61);
	/* The same vector edge-triggered: TMR cleared, no broadcast. */
	CHECK(vlapic_accept(l, 0x61, false));
	CHECK(!vec_set(l, APIC_TMR, 0x61));
	CHECK_EQ(take(l), 0x61);
	wr(l, APIC_EOI, 0);
	CHECK_EQ(nr_eoi, 1);
	vlapic_destroy(l);
}

TEST(illegal_vectors_and_error_lvt)
{
	struct vlapic *l = make_enabled(0);

	CHECK(!vlapic_accept(l, 5, false));
	CHECK_EQ(read_esr(l), 0x40);          /* receive illegal vector */
	wr(l, APIC_LVT_ERROR, 0xee);
	CHECK(!vlapic_accept(l, 15, false));
	CHECK(vec_set(l, APIC_IRR, 0xee));    /* the error interrupt */
	CHECK_EQ(read_esr(l), 0x40);
	/* An IPI with an illegal vector is not sent. */
	wr(l, APIC_ICR_LO, 0x4003);
	CHECK_EQ(nr_sent, 0);
	CHECK_EQ(read_esr(l), 0x20);          /* send illegal vector */
	vlapic_destroy(l);
}

TEST(wake_only_when_deliverable)
{
	struct vlapic *l = make_enabled(0);

	wr(l, APIC_TPR, 0x80);
	vlapic_accept(l, 0x71, false);
	CHECK_EQ(nr_wake, 0);
	vlapic_accept(l, 0x91, false);
	CHECK_EQ(nr_wake, 1);
	vlapic_destroy(l);
}

/* ---- timer ---- */

TEST(timer_oneshot_fires_once)
{
	struct vlapic *l = make_enabled(0);

	wr(l, APIC_TIMER_DIV, 0x1);                 /* divide by 4 */
	wr(l, APIC_LVT_TIMER, 0x30);                /* one-shot */
	fake_now = 5000;
	wr(l, APIC_TIMER_INIT, 1000);               /* 4000 timer ticks: 40000 TSC */
	CHECK_EQ(vlapic_next_deadline(l), 45000);
	fake_now = 15000;                           /* 250 counts in */
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 750);
	fake_now = 15039;
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 750);
	fake_now = 15040;
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 749);
	vlapic_timer_check(l, 44999);
	CHECK(!vec_set(l, APIC_IRR, 0x30));
	CHECK_EQ(nr_wake, 0);
	vlapic_timer_check(l, 45000);
	CHECK(vec_set(l, APIC_IRR, 0x30));
	CHECK_EQ(nr_wake, 1);
	CHECK_EQ(vlapic_next_deadline(l), 0);
	fake_now = 45000;
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 0);
	CHECK_EQ(rd(l, APIC_TIMER_INIT), 1000);
	CHECK_EQ(take(l), 0x30);
	wr(l, APIC_EOI, 0);
	vlapic_timer_check(l, 1000000);
	CHECK(!vec_set(l, APIC_IRR, 0x30));
	CHECK_EQ(nr_wake, 1);
	/* Writing 0 stops a running count. */
	wr(l, APIC_TIMER_INIT, 10);
	CHECK(vlapic_next_deadline(l) != 0);
	wr(l, APIC_TIMER_INIT, 0);
	CHECK_EQ(vlapic_next_deadline(l), 0);
	vlapic_destroy(l);
}

TEST(timer_oneshot_expired_but_unchecked_reads_zero)
{
	struct vlapic *l = make_enabled(0);

	wr(l, APIC_LVT_TIMER, 0x30);
	wr(l, APIC_TIMER_INIT, 100);                /* /2: 2000 TSC */
	fake_now = 2000;
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 0);
	vlapic_destroy(l);
}

TEST(timer_divide_values)
{
	static const struct { u32 dcr, div; } t[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	struct vlapic *l = make_enabled(0);

	wr(l, APIC_LVT_TIMER, 0x30);
	fake_now = 100;
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
		wr(l, APIC_TIMER_DIV, t[i].dcr);
		wr(l, APIC_TIMER_INIT, 7);
		CHECK_EQ(vlapic_next_deadline(l), 100 + 7 * t[i].div * 10);
	}
	vlapic_destroy(l);
}

/*
 * 1 GHz TSC, 300 MHz timer: a timer tick is 10/3 TSC ticks, so a period of
 * 30001 ticks is 100003 1/3 TSC ticks. Checks come late; the deadlines stay
 * on the exact grid start + k * period.
 */
TEST(timer_periodic_no_drift)
{
	struct vlapic_config cfg = config(0);
	struct vlapic *l;
	u64 start = 1000;

	cfg.timer_khz = 300000;
	l = vlapic_create(&cfg);
	nr_wake = 0;
	wr(l, APIC_SVR, APIC_SVR_ENABLE | 0xff);
	wr(l, APIC_TIMER_DIV, 0xb);                      /* divide by 1 */
	wr(l, APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | 0x31);
	fake_now = start;
	wr(l, APIC_TIMER_INIT, 30001);
	CHECK_EQ(vlapic_next_deadline(l), start + 100003);   /* 100003.33 */
	vlapic_timer_check(l, start + 100003 + 500);
	CHECK_EQ(vlapic_next_deadline(l), start + 200006);   /* 200006.67 */
	vlapic_timer_check(l, start + 200006 + 777);
	CHECK_EQ(vlapic_next_deadline(l), start + 300010);   /* 300010 exactly */
	for (int k = 3; k < 300; k++) {
		u64 d = vlapic_next_deadline(l);

		CHECK_EQ(d, start + (u64)k * 300010 / 3);
		CHECK_EQ(take(l), 0x31);
		wr(l, APIC_EOI, 0);
		vlapic_timer_check(l, d + 999);
	}
	CHECK_EQ(vlapic_next_deadline(l), start + 30001000); /* 300 periods */
	CHECK_EQ(nr_wake, 299);
	/* Current count: a third of the way into a period. */
	fake_now = start + 30001000 - 100003 + 33334;
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 30001 - 10000);
	/* Ten and a half periods without a check: one interrupt, and the next
	 * deadline is still on the grid. */
	CHECK_EQ(take(l), 0x31);
	wr(l, APIC_EOI, 0);
	vlapic_timer_check(l, start + 30001000 + 1050035);
	CHECK(vec_set(l, APIC_IRR, 0x31));
	CHECK_EQ(vlapic_next_deadline(l), start + (u64)311 * 300010 / 3);
	vlapic_destroy(l);
}

TEST(timer_periodic_minimum_period)
{
	struct vlapic *l = make_enabled(0);

	wr(l, APIC_TIMER_DIV, 0xb);
	wr(l, APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | 0x31);
	wr(l, APIC_TIMER_INIT, 10);                /* 100 TSC ticks asked */
	CHECK_EQ(vlapic_next_deadline(l), 100000); /* 100 us at 1 GHz */
	vlapic_timer_check(l, 100000);
	CHECK_EQ(vlapic_next_deadline(l), 200000);
	vlapic_destroy(l);
}

TEST(timer_masked_still_counts)
{
	struct vlapic *l = make_enabled(0);

	wr(l, APIC_TIMER_DIV, 0xb);
	wr(l, APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_LVT_TIMER_PERIODIC | 0x31);
	wr(l, APIC_TIMER_INIT, 20000);             /* 200000 TSC */
	vlapic_timer_check(l, 200000);
	CHECK(!vec_set(l, APIC_IRR, 0x31));
	CHECK_EQ(vlapic_next_deadline(l), 400000);
	fake_now = 250000;
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 15000);
	/* Unmasked, it raises at the next expiry; one-shot from then on. */
	wr(l, APIC_LVT_TIMER, 0x31);
	vlapic_timer_check(l, 400000);
	CHECK(vec_set(l, APIC_IRR, 0x31));
	CHECK_EQ(vlapic_next_deadline(l), 0);
	vlapic_destroy(l);
}

TEST(timer_tsc_deadline)
{
	struct vlapic *l = make_enabled(0);
	u64 v;

	/* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
	CHECK_EQ(vlapic_tsc_deadline_write(l, 1234), 0);
	CHECK_EQ(vlapic_tsc_deadline_read(l, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(vlapic_next_deadline(l), 0);

	wr(l, APIC_LVT_TIMER, APIC_LVT_TIMER_TSCDEADLINE | 0x32);
	CHECK_EQ(rd(l, APIC_LVT_TIMER), 0x40032);
	CHECK_EQ(vlapic_tsc_deadline_write(l, 50000), 0);
	CHECK_EQ(vlapic_tsc_deadline_read(l, &v), 0);
	CHECK_EQ(v, 50000);
	CHECK_EQ(vlapic_next_deadline(l), 50000);
	wr(l, APIC_TIMER_INIT, 99);                /* ignored in this mode */
	CHECK_EQ(rd(l, APIC_TIMER_INIT), 0);
	CHECK_EQ(rd(l, APIC_TIMER_CUR), 0);
	vlapic_timer_check(l, 49999);
	CHECK(!vec_set(l, APIC_IRR, 0x32));
	vlapic_timer_check(l, 50000);
	CHECK(vec_set(l, APIC_IRR, 0x32));
	CHECK_EQ(vlapic_tsc_deadline_read(l, &v), 0);
	CHECK_EQ(v, 0);                            /* reads 0 once fired */
	CHECK_EQ(vlapic_next_deadline(l), 0);
	CHECK_EQ(take(l), 0x32);
	wr(l, APIC_EOI, 0);

	/* A deadline already past fires at the next check. */
	CHECK_EQ(vlapic_tsc_deadline_write(l, 10), 0);
	vlapic_timer_check(l, 60000);
	CHECK(vec_set(l, APIC_IRR, 0x32));
	CHECK_EQ(take(l), 0x32);
	wr(l, APIC_EOI, 0);

	/* 0 disarms; so does leaving TSC-deadline mode. */
	vlapic_tsc_deadline_write(l, 70000);
	vlapic_tsc_deadline_write(l, 0);
	CHECK_EQ(vlapic_next_deadline(l), 0);
	vlapic_tsc_deadline_write(l, 80000);
	wr(l, APIC_LVT_TIMER, 0x32);
	CHECK_EQ(vlapic_next_deadline(l), 0);
	vlapic_timer_check(l, 90000);
	CHECK(!vec_set(l, APIC_IRR, 0x32));
	vlapic_destroy(l);
}

TEST(timer_tsc_deadline_not_shown)
{
	struct vlapic_config cfg = config(0);
	struct vlapic *l;
	u64 v;

	cfg.tsc_deadline = false;
	l = vlapic_create(&cfg);
	wr(l, APIC_SVR, APIC_SVR_ENABLE | 0xff);
	CHECK_EQ(vlapic_tsc_deadline_read(l, &v), -EPERM);
	CHECK_EQ(vlapic_tsc_deadline_write(l, 1), -EPERM);
	wr(l, APIC_LVT_TIMER, APIC_LVT_TIMER_TSCDEADLINE | 0x32);
	CHECK_EQ(rd(l, APIC_LVT_TIMER), 0x32);    /* the mode bit is reserved */
	vlapic_destroy(l);
}

TEST(create_rejects_bad_frequencies)
{
	struct vlapic_config cfg = config(0);

	cfg.timer_khz = 0;
	CHECK(vlapic_create(&cfg) == NULL);
	cfg.timer_khz = 100000;
	cfg.tsc_khz = 1ULL << 32;
	CHECK(vlapic_create(&cfg) == NULL);
}

/* ---- IPIs, INIT, SIPI, NMI ---- */

TEST(icr_becomes_a_message)
{
	struct vlapic *l = make_enabled(1);

	wr(l, APIC_ICR_HI, 0x02000000);
	wr(l, APIC_ICR_LO, 0x000040f1);        /* fixed, physical, assert, 0xf1 */
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(sent[0].dest, 2);
	CHECK_EQ(sent[0].vector, 0xf1);
	CHECK_EQ(sent[0].delivery, APIC_DELIVERY_FIXED);
	CHECK_EQ(sent[0].shorthand, APIC_SHORTHAND_NONE);
	CHECK(!sent[0].logical && !sent[0].level && sent[0].assert && !sent[0].x2apic);
	CHECK_EQ(sent[0].src, 1);
	CHECK_EQ(rd(l, APIC_ICR_LO), 0x40f1);  /* delivery status: idle */

	wr(l, APIC_ICR_HI, 0x0f000000);
	wr(l, APIC_ICR_LO, 0x00000951);        /* lowest priority, logical */
	CHECK_EQ(sent[1].delivery, APIC_DELIVERY_LOWEST);
	CHECK(sent[1].logical);
	CHECK_EQ(sent[1].dest, 0x0f);

	wr(l, APIC_ICR_LO, 0x000c4400);        /* NMI to all but self */
	CHECK_EQ(sent[2].delivery, APIC_DELIVERY_NMI);
	CHECK_EQ(sent[2].shorthand, APIC_SHORTHAND_ALL_BUT_SELF);

	wr(l, APIC_ICR_LO, 0x00008500);        /* INIT level de-assert */
	CHECK_EQ(sent[3].delivery, APIC_DELIVERY_INIT);
	CHECK(sent[3].level && !sent[3].assert);

	wr(l, APIC_ICR_LO, 0x00044060);        /* self, fixed 0x60 */
	CHECK_EQ(sent[4].shorthand, APIC_SHORTHAND_SELF);
	CHECK_EQ(sent[4].vector, 0x60);
	wr(l, APIC_ICR_LO, 0x00084600 | 0x9a); /* SIPI to all including self */
	CHECK_EQ(sent[5].delivery, APIC_DELIVERY_STARTUP);
	CHECK_EQ(sent[5].shorthand, APIC_SHORTHAND_ALL);
	CHECK_EQ(nr_sent, 6);
	vlapic_destroy(l);
}

TEST(init_sipi_nmi)
{
	struct vlapic *l = make_enabled(2);
	struct apic_msg init = { .delivery = APIC_DELIVERY_INIT, .assert = true };
	struct apic_msg deassert = { .delivery = APIC_DELIVERY_INIT, .level = true };
	struct apic_msg sipi = { .delivery = APIC_DELIVERY_STARTUP, .vector = 0x9a };
	struct apic_msg nmi = { .delivery = APIC_DELIVERY_NMI };
	struct apic_msg smi = { .delivery = APIC_DELIVERY_SMI };

	wr(l, APIC_ID, 0x05000000);
	wr(l, APIC_TPR, 0x20);
	wr(l, APIC_LVT_TIMER, 0x30);
	wr(l, APIC_TIMER_INIT, 1000);
	vlapic_accept(l, 0x70, false);
	CHECK(!vlapic_deliver(l, &deassert));
	CHECK_EQ(nr_init, 0);
	CHECK(vlapic_deliver(l, &init));
	CHECK_EQ(nr_init, 1);
	CHECK_EQ(rd(l, APIC_ID), 0x05000000);  /* kept across INIT */
	CHECK_EQ(rd(l, APIC_TPR), 0);
	CHECK_EQ(rd(l, APIC_SVR), 0xff);
	CHECK_EQ(rd(l, APIC_LVT_TIMER), 0x10000);
	CHECK_EQ(vlapic_next_deadline(l), 0);
	CHECK(!vec_set(l, APIC_IRR, 0x70));
	CHECK_EQ(vlapic_apic_base_read(l), 0xfee00800);
	CHECK(vlapic_deliver(l, &sipi));
	CHECK_EQ(nr_sipi, 1);
	CHECK_EQ(sipi_vector, 0x9a);

	CHECK(!vlapic_nmi_pending(l));
	nr_wake = 0;
	CHECK(vlapic_deliver(l, &nmi));        /* even software-disabled */
	CHECK(vlapic_nmi_pending(l));
	CHECK_EQ(nr_wake, 1);
	CHECK(vlapic_take_nmi(l));
	CHECK(!vlapic_take_nmi(l));
	CHECK(!vlapic_deliver(l, &smi));       /* not modelled */

	/* A hardware-disabled APIC takes nothing. */
	CHECK_EQ(vlapic_apic_base_write(l, 0xfee00000), 0);
	CHECK(!vlapic_deliver(l, &init));
	CHECK(!vlapic_deliver(l, &sipi));
	CHECK_EQ(nr_init, 1);
	CHECK_EQ(nr_sipi, 1);
	CHECK_EQ(vlapic_pending(l), -1);
	vlapic_destroy(l);
}

TEST(pic_virtual_wire)
{
	struct vlapic *l = make_enabled(0);

	CHECK(!vlapic_pic_intr_allowed(l));     /* LINT0 masked */
	wr(l, APIC_LVT_LINT0, 0x700);           /* ExtINT */
	CHECK(vlapic_pic_intr_allowed(l));
	wr(l, APIC_LVT_LINT0, 0x400);           /* NMI */
	CHECK(!vlapic_pic_intr_allowed(l));
	CHECK_EQ(vlapic_apic_base_write(l, 0xfee00000), 0);
	CHECK(vlapic_pic_intr_allowed(l));      /* no APIC: INTR goes straight in */
	vlapic_destroy(l);
}

/* ---- x2APIC ---- */

TEST(apic_base_transitions)
{
	struct vlapic *l = make_enabled(3);
	const u64 xapic = 0xfee00800, x2 = 0xfee00c00;

	CHECK_EQ(vlapic_apic_base_write(l, 0xfee00400), -EPERM);   /* EXTD without EN */
	CHECK_EQ(vlapic_apic_base_write(l, xapic | 1), -EPERM);    /* reserved bit 0 */
	CHECK_EQ(vlapic_apic_base_write(l, xapic | BIT(9)), -EPERM);
	CHECK_EQ(vlapic_apic_base_write(l, xapic | (1ULL << 40)), -EPERM); /* past MAXPHYADDR */
	CHECK_EQ(vlapic_apic_base_write(l, xapic | APIC_BASE_BSP), 0);    /* BSP is read-only */
	CHECK_EQ(vlapic_apic_base_read(l), xapic);

	wr(l, APIC_TPR, 0x20);
	CHECK_EQ(vlapic_apic_base_write(l, x2), 0);                /* xAPIC -> x2APIC */
	CHECK_EQ(vlapic_mode(l), VLAPIC_X2APIC);
	CHECK_EQ(vlapic_apic_base_write(l, xapic), -EPERM);        /* x2APIC -> xAPIC */
	CHECK_EQ(vlapic_apic_base_write(l, x2), 0);
	CHECK_EQ(vlapic_apic_base_write(l, 0xfee00000), 0);        /* x2APIC -> disabled */
	CHECK_EQ(vlapic_mode(l), VLAPIC_DISABLED);
	CHECK(!vlapic_mmio_claims(l, 0xfee00000));
	CHECK_EQ(vlapic_apic_base_write(l, x2), -EPERM);           /* disabled -> x2APIC */
	CHECK_EQ(vlapic_apic_base_write(l, 0xfed00800), 0);        /* disabled -> xAPIC, moved */
	CHECK_EQ(vlapic_mode(l), VLAPIC_XAPIC);
	CHECK_EQ(vlapic_mmio_base(l), 0xfed00000);
	CHECK(vlapic_mmio_claims(l, 0xfed00020));
	CHECK(!vlapic_mmio_claims(l, 0xfee00020));
	CHECK_EQ(rd(l, APIC_ID), 0x03000000);
	CHECK_EQ(rd(l, APIC_TPR), 0);                              /* reset by the disable */
	CHECK_EQ(rd(l, APIC_SVR), 0xff);
	vlapic_destroy(l);
}

TEST(apic_base_without_x2apic)
{
	struct vlapic_config cfg = config(0);
	struct vlapic *l;

	cfg.x2apic = false;
	l = vlapic_create(&cfg);
	CHECK_EQ(vlapic_apic_base_write(l, 0xfee00d00), -EPERM);
	CHECK_EQ(vlapic_mode(l), VLAPIC_XAPIC);
	vlapic_destroy(l);
}

static struct vlapic *make_x2(u32 id)
{
	struct vlapic *l = make(id);

	CHECK_EQ(vlapic_apic_base_write(l, 0xfee00c00), 0);
	CHECK_EQ(vlapic_msr_write(l, 0x80f, APIC_SVR_ENABLE | 0xff), 0);
	return l;
}

static u64 msr(struct vlapic *l, u32 m)
{
	u64 v = 0;

	CHECK_EQ(vlapic_msr_read(l, m, &v), 0);
	return v;
}

TEST(x2apic_registers)
{
	struct vlapic *l = make_x2(0x13);

	CHECK_EQ(msr(l, 0x802), 0x13);                   /* x2APIC ID */
	CHECK_EQ(msr(l, 0x803), 0x50014);
	CHECK_EQ(msr(l, 0x80d), 0x00010008);             /* cluster 1, bit 3 */
	CHECK_EQ(msr(l, 0x80f), 0x1ff);
	CHECK_EQ(vlapic_msr_write(l, 0x808, 0x45), 0);
	CHECK_EQ(msr(l, 0x808), 0x45);
	CHECK_EQ(msr(l, 0x80a), 0x45);                   /* PPR */
	CHECK_EQ(vlapic_msr_write(l, 0x835, 0x700), 0);  /* LINT0 */
	CHECK_EQ(msr(l, 0x835), 0x700);
	CHECK_EQ(vlapic_msr_write(l, 0x83e, 0x3), 0);
	CHECK_EQ(msr(l, 0x83e), 0x3);
	CHECK_EQ(vlapic_msr_write(l, 0x828, 0), 0);      /* ESR: write 0 */
	CHECK_EQ(msr(l, 0x828), 0);

	/* ICR is one 64-bit register; the destination is 32 bits. */
	CHECK_EQ(vlapic_msr_write(l, 0x830, 0x0000001200004055ULL), 0);
	CHECK_EQ(msr(l, 0x830), 0x0000001200004055ULL);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(sent[0].dest, 0x12);
	CHECK_EQ(sent[0].vector, 0x55);
	CHECK(sent[0].x2apic);
	CHECK_EQ(sent[0].src, 0x13);

	/* SELF IPI: straight into IRR. */
	CHECK_EQ(vlapic_msr_write(l, 0x83f, 0x66), 0);
	CHECK_EQ(msr(l, 0x823), 1u << 6);                /* IRR word 3, bit 6 */
	CHECK_EQ(vlapic_pending(l), 0x66);
	CHECK_EQ(nr_wake, 1);
	vlapic_ack(l, 0x66);
	CHECK_EQ(msr(l, 0x813), 1u << 6);                /* ISR */
	CHECK_EQ(vlapic_msr_write(l, 0x80b, 0), 0);      /* EOI */
	CHECK_EQ(msr(l, 0x813), 0);

	/* The MMIO page is gone in x2APIC mode. */
	CHECK(!vlapic_mmio_claims(l, 0xfee00000));
	CHECK_EQ(rd(l, APIC_VERSION), 0xffffffff);
	wr(l, APIC_TPR, 0);
	CHECK_EQ(msr(l, 0x808), 0x45);
	vlapic_destroy(l);
}

TEST(x2apic_timer_msrs)
{
	struct vlapic *l = make_x2(0);

	CHECK_EQ(vlapic_msr_write(l, 0x83e, 0xb), 0);
	CHECK_EQ(vlapic_msr_write(l, 0x832, 0x30), 0);
	fake_now = 100;
	CHECK_EQ(vlapic_msr_write(l, 0x838, 50), 0);
	CHECK_EQ(msr(l, 0x838), 50);
	CHECK_EQ(vlapic_next_deadline(l), 600);
	fake_now = 300;
	CHECK_EQ(msr(l, 0x839), 30);
	vlapic_destroy(l);
}

TEST(x2apic_gp)
{
	struct vlapic *l = make_x2(1);
	static const u32 no_read[] = {
		0x801, 0x809 /* APR */, 0x80b /* EOI */, 0x80c /* RRD */, 0x80e /* DFR */,
		0x82f /* CMCI */, 0x831 /* ICR high */, 0x83f /* SELF IPI */, 0x840, 0x8ff,
	};
	static const u32 read_only[] = {
		0x802, 0x803, 0x80a, 0x80d, 0x810, 0x817, 0x818, 0x820, 0x839,
	};
	static const u32 no_write[] = { 0x801, 0x809, 0x80c, 0x80e, 0x82f, 0x831, 0x840, 0x8ff };
	u64 v;

	for (unsigned i = 0; i < ARRAY_SIZE(no_read); i++)
		CHECK_EQ(vlapic_msr_read(l, no_read[i], &v), -EPERM);
	for (unsigned i = 0; i < ARRAY_SIZE(read_only); i++) {
		CHECK_EQ(vlapic_msr_read(l, read_only[i], &v), 0);
		CHECK_EQ(vlapic_msr_write(l, read_only[i], 0), -EPERM);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(no_write); i++)
		CHECK_EQ(vlapic_msr_write(l, no_write[i], 0), -EPERM);
	CHECK_EQ(vlapic_msr_write(l, 0x808, 1ULL << 32), -EPERM);  /* bits 63:32 */
	CHECK_EQ(vlapic_msr_write(l, 0x80b, 1), -EPERM);           /* non-zero EOI */
	CHECK_EQ(vlapic_msr_write(l, 0x828, 1), -EPERM);           /* non-zero ESR */
	CHECK_EQ(vlapic_msr_write(l, 0x83f, 0x100), -EPERM);       /* SELF IPI reserved bits */
	CHECK_EQ(vlapic_msr_read(l, 0x7ff, &v), -EPERM);           /* not an x2APIC MSR */
	CHECK_EQ(msr(l, 0x808), 0);                                /* nothing changed */
	vlapic_destroy(l);

	/* In xAPIC mode every x2APIC MSR #GPs. */
	l = make_enabled(1);
	CHECK_EQ(vlapic_msr_read(l, 0x802, &v), -EPERM);
	CHECK_EQ(vlapic_msr_write(l, 0x808, 0x10), -EPERM);
	CHECK_EQ(rd(l, APIC_TPR), 0);
	vlapic_destroy(l);
}

int main(void)
{
	RUN(power_up_state);
	RUN(register_writes_read_back);
	RUN(mmio_access_shapes);
	RUN(software_disable_masks_lvt);
	RUN(ppr_from_tpr_and_isr);
	RUN(highest_vector_first);
	RUN(nested_interrupts_and_eoi_order);
	RUN(level_triggered_eoi_broadcast);
	RUN(illegal_vectors_and_error_lvt);
	RUN(wake_only_when_deliverable);
	RUN(timer_oneshot_fires_once);
	RUN(timer_oneshot_expired_but_unchecked_reads_zero);
	RUN(timer_divide_values);
	RUN(timer_periodic_no_drift);
	RUN(timer_periodic_minimum_period);
	RUN(timer_masked_still_counts);
	RUN(timer_tsc_deadline);
	RUN(timer_tsc_deadline_not_shown);
	RUN(create_rejects_bad_frequencies);
	RUN(icr_becomes_a_message);
	RUN(init_sipi_nmi);
	RUN(pic_virtual_wire);
	RUN(apic_base_transitions);
	RUN(apic_base_without_x2apic);
	RUN(x2apic_registers);
	RUN(x2apic_timer_msrs);
	RUN(x2apic_gp);
	return unit_done();
}
