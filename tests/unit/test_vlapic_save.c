/* vlapic_save / vlapic_load (devices/vlapic.c): every field round-trips, a
 * loaded APIC behaves as the saved one, unreachable states are refused. */
#include "unit.h"
#include "devices/vlapic.h"

#include <string.h>
#include "hv/mm.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

static u64 fake_now;
static int nr_wake;

static u64 cb_now(void *ctx)
{
	return fake_now;
}

static void cb_wake(void *ctx)
{
	nr_wake++;
}

static const struct vlapic_ops ops = { .now_tsc = cb_now, .wake = cb_wake };

/* 1 GHz TSC, 100 MHz timer. */
static struct vlapic *make(u32 id)
{
	struct vlapic_config cfg = {
		.id = id, .bsp = id == 0, .tsc_khz = 1000000, .timer_khz = 100000,
		.x2apic = true, .tsc_deadline = true, .phys_addr_bits = 40, .ops = &ops,
	};
	struct vlapic *l = vlapic_create(&cfg);

	CHECK(l != NULL);
	return l;
}

static void wr(struct vlapic *l, u32 off, u32 val)
{
	CHECK_EQ(vlapic_mmio_ops.write(l, off, 4, val), 0);
}

static u32 rd(struct vlapic *l, u32 off)
{
	u64 v = 0;

	CHECK_EQ(vlapic_mmio_ops.read(l, off, 4, &v), 0);
	return (u32)v;
}

/* A state with a distinct value in every field, each one the guest could
 * have reached: xAPIC mode, software-enabled, a periodic timer running. */
static struct vlapic_state distinct_state(void)
{
	struct vlapic_state s;

	memset(&s, 0, sizeof(s));
	s.apic_base = 0xfed00000ULL | APIC_BASE_EN | APIC_BASE_BSP;
	s.id = 0x05000000;
	s.tpr = 0x3c;
	s.ldr = 0x21000000;
	s.dfr = 0x0fffffff; /* cluster model */
	s.svr = APIC_SVR_ENABLE | 0x2ef;
	s.esr = 0x40;
	s.esr_pending = 0x20;
	s.icr_lo = 0x000c4abc & 0x000ccfff;
	s.icr_hi = 0x07000000;
	s.lvt[0] = APIC_LVT_TIMER_PERIODIC | 0xec;
	s.lvt[1] = APIC_LVT_MASKED | 0x31;
	s.lvt[2] = 0x432;
	s.lvt[3] = 0x700;   /* ExtINT */
	s.lvt[4] = 0x400;   /* NMI */
	s.lvt[5] = 0xfe;
	for (unsigned i = 0; i < 8; i++) {
		s.irr[i] = 0x11110000u * (i + 1) + i;
		s.isr[i] = 0x01010000u << (i % 4);
		s.tmr[i] = 0x10000u << i;
	}
	s.irr[0] &= ~0xffffu;
	s.isr[0] &= ~0xffffu;
	s.tmr[0] &= ~0xffffu;
	s.timer_init = 0x12345;
	s.timer_dcr = 0x9;      /* divide by 4 */
	s.timer_div = 8;        /* the count began under divide by 8 */
	s.nmi_pending = 1;
	s.timer_deadline = 0x7777777777ULL;
	s.timer_start = 0x7777000000ULL;
	s.period_tsc = 0x10000;
	s.period_frac = 12345;
	s.frac = 678;
	s.tsc_deadline = 0x999999999ULL;
	return s;
}

TEST(every_field_round_trips)
{
	struct vlapic *l = make(0);
	struct vlapic_state in = distinct_state(), out;

	CHECK_EQ(vlapic_load(l, &in), 0);
	memset(&out, 0xa5, sizeof(out));
	vlapic_save(l, &out);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	CHECK_EQ(out.apic_base, in.apic_base);
	CHECK_EQ(out.id, 0x05000000);
	CHECK_EQ(out.tpr, 0x3c);
	CHECK_EQ(out.lvt[2], 0x432);
	CHECK_EQ(out.irr[7], in.irr[7]);
	CHECK_EQ(out.timer_deadline, 0x7777777777ULL);
	CHECK_EQ(out.frac, 678);
	CHECK_EQ(out.nmi_pending, 1);
	/* What the guest reads agrees with the fields. */
	CHECK_EQ(vlapic_mmio_base(l), 0xfed00000ULL);
	CHECK_EQ(vlapic_cr8_read(l), 3);
	CHECK_EQ(vlapic_next_deadline(l), 0x7777777777ULL);
	CHECK(vlapic_nmi_pending(l));
	vlapic_destroy(l);
}

/* Drives one APIC through the guest's interface, saves it, loads it into a
 * fresh one: both then read and behave alike. */
TEST(loaded_apic_behaves_as_saved)
{
	struct vlapic *a = make(1), *b = make(1);
	struct vlapic_state sa, sb;
	u64 va = 0, vb = 0;

	fake_now = 1000;
	wr(a, APIC_SVR, APIC_SVR_ENABLE | 0xff);
	wr(a, APIC_TPR, 0x20);
	wr(a, APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | 0x40);
	wr(a, APIC_TIMER_DIV, 0x3); /* divide by 16 */
	wr(a, APIC_TIMER_INIT, 5000);
	CHECK(vlapic_accept(a, 0x55, true));
	CHECK(vlapic_accept(a, 0x61, false));
	CHECK_EQ(vlapic_pending(a), 0x61);
	vlapic_ack(a, 0x61);
	fake_now = 3000;

	vlapic_save(a, &sa);
	CHECK_EQ(vlapic_load(b, &sa), 0);
	vlapic_save(b, &sb);
	CHECK(memcmp(&sa, &sb, sizeof(sa)) == 0);

	for (u32 off = 0x20; off <= 0x3e0; off += 0x10) {
		if (off == APIC_EOI)
			continue;
		CHECK_EQ(vlapic_mmio_ops.read(a, off, 4, &va), vlapic_mmio_ops.read(b, off, 4, &vb));
		CHECK_EQ(va, vb);
	}
	CHECK(rd(b, APIC_TIMER_CUR) != 0);
	CHECK_EQ(vlapic_pending(b), vlapic_pending(a));
	CHECK_EQ(vlapic_next_deadline(b), vlapic_next_deadline(a));
	CHECK_EQ(vlapic_next_deadline(b), 1000 + 5000 * 16 * 10);
	/* Both fire at the same time, and re-arm alike. */
	fake_now = vlapic_next_deadline(a);
	vlapic_timer_check(a, fake_now);
	vlapic_timer_check(b, fake_now);
	CHECK_EQ(vlapic_next_deadline(b), vlapic_next_deadline(a));
	CHECK_EQ(vlapic_pending(b), -1); /* 0x61 in service holds back 0x55 and 0x40 */
	CHECK_EQ(vlapic_pending(a), -1);
	wr(a, APIC_EOI, 0);
	wr(b, APIC_EOI, 0);
	CHECK_EQ(vlapic_pending(b), 0x55);
	CHECK_EQ(vlapic_pending(a), 0x55);
	vlapic_destroy(a);
	vlapic_destroy(b);
}

TEST(x2apic_state_round_trips)
{
	struct vlapic *a = make(2), *b = make(2);
	struct vlapic_state sa, sb;
	u64 va, vb;

	CHECK_EQ(vlapic_apic_base_write(a, APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_EXTD), 0);
	CHECK_EQ(vlapic_msr_write(a, 0x80f, APIC_SVR_ENABLE | 0xf0), 0);
	CHECK_EQ(vlapic_msr_write(a, 0x832, APIC_LVT_TIMER_TSCDEADLINE | 0xd0), 0);
	CHECK_EQ(vlapic_tsc_deadline_write(a, 123456789), 0);
	vlapic_save(a, &sa);
	CHECK_EQ(vlapic_load(b, &sa), 0);
	vlapic_save(b, &sb);
	CHECK(memcmp(&sa, &sb, sizeof(sa)) == 0);
	CHECK_EQ(vlapic_mode(b), VLAPIC_X2APIC);
	CHECK_EQ(vlapic_tsc_deadline_read(b, &vb), 0);
	CHECK_EQ(vb, 123456789);
	CHECK_EQ(vlapic_next_deadline(b), 123456789);
	CHECK_EQ(vlapic_msr_read(a, 0x80d, &va), 0); /* LDR */
	CHECK_EQ(vlapic_msr_read(b, 0x80d, &vb), 0);
	CHECK_EQ(va, vb);
	vlapic_destroy(a);
	vlapic_destroy(b);
}

/* Each of these a guest could not have reached: refused, nothing changed. */
TEST(unreachable_states_refused)
{
	struct vlapic *l = make(0);
	struct vlapic_state good = distinct_state(), before, after, s;
	int refused = 0, cases = 0;

	CHECK_EQ(vlapic_load(l, &good), 0);
	vlapic_save(l, &before);
#define BAD(stmt)                                        \
	do {                                             \
		s = good;                                \
		stmt;                                    \
		cases++;                                 \
		refused += vlapic_load(l, &s) == -EINVAL; \
	} while (0)
	BAD(s.apic_base |= 1ULL << 45);              /* above MAXPHYADDR */
	BAD(s.apic_base |= 0x10);                    /* reserved low bits */
	BAD(s.apic_base = (s.apic_base & ~APIC_BASE_EN) | APIC_BASE_EXTD); /* EXTD without EN */
	BAD(s.apic_base &= ~APIC_BASE_BSP);          /* BSP is the configuration's */
	BAD(s.id |= 1);
	BAD(s.tpr = 0x100);
	BAD(s.ldr |= 0x10);
	BAD(s.dfr = 0x0ffffffe);
	BAD(s.svr |= 0x400);
	BAD(s.icr_lo |= 1u << 13);
	BAD(s.icr_hi = 0x01000001);
	BAD(s.lvt[0] |= 1u << 16 | 1u << 19);        /* bit 19 is reserved */
	BAD(s.lvt[5] |= 0x700);                      /* the error LVT has no delivery mode */
	BAD(s.svr &= ~APIC_SVR_ENABLE);              /* disabled, yet LVTs unmasked */
	BAD(s.irr[0] |= 0x8000);                     /* vector 15 */
	BAD(s.isr[0] |= 1);
	BAD(s.timer_dcr = 0x10);
	BAD(s.timer_div = 3);
	BAD(s.timer_div = 256);
	BAD(s.nmi_pending = 2);
	BAD(s.period_frac = 100000);                 /* a fraction is below timer_khz */
	BAD(s.frac = 200000);
	CHECK_EQ(refused, cases);
	CHECK_EQ(cases, 22);
	vlapic_save(l, &after);
	CHECK(memcmp(&before, &after, sizeof(before)) == 0);
	vlapic_destroy(l);
}

/* Without x2APIC or TSC-deadline shown, their bits are refused too. */
TEST(features_not_shown_refused)
{
	struct vlapic_config cfg = {
		.id = 3, .tsc_khz = 1000000, .timer_khz = 100000, .ops = &ops,
	};
	struct vlapic *l = vlapic_create(&cfg);
	struct vlapic_state s;

	vlapic_save(l, &s);
	CHECK_EQ(vlapic_load(l, &s), 0);
	s.apic_base |= APIC_BASE_EXTD;
	CHECK_EQ(vlapic_load(l, &s), -EINVAL);
	vlapic_save(l, &s);
	s.svr |= APIC_SVR_ENABLE;
	s.lvt[0] = APIC_LVT_TIMER_TSCDEADLINE | 0x30;
	CHECK_EQ(vlapic_load(l, &s), -EINVAL);
	CHECK_EQ(vlapic_mode(l), VLAPIC_XAPIC);
	vlapic_destroy(l);
}

int main(void)
{
	RUN(every_field_round_trips);
	RUN(loaded_apic_behaves_as_saved);
	RUN(x2apic_state_round_trips);
	RUN(unreachable_states_refused);
	RUN(features_not_shown_refused);
	return unit_done();
}
