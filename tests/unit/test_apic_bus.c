#include "unit.h"
#include "devices/apic_bus.h"

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

/* Four vCPUs of one VM; ICR writes go through the bus, as the core wires it. */
#define N 4

struct fake_vcpu {
	unsigned index;
	int inits, sipis, wakes;
	u8 sipi_vector;
};

static struct apic_bus bus;
static struct vlapic *lapic[N];
static struct fake_vcpu vcpu[N];

static u64 cb_now(void *ctx)
{
	return 0;
}

static void cb_send(void *ctx, const struct apic_msg *m)
{
	apic_bus_deliver(&bus, m);
}

static void cb_wake(void *ctx)
{
	((struct fake_vcpu *)ctx)->wakes++;
}

static void cb_init(void *ctx)
{
	((struct fake_vcpu *)ctx)->inits++;
}

static void cb_sipi(void *ctx, u8 vector)
{
	struct fake_vcpu *v = ctx;

	v->sipis++;
	v->sipi_vector = vector;
}

static const struct vlapic_ops ops = {
	.now_tsc = cb_now,
	.send = cb_send,
	.wake = cb_wake,
	.on_init = cb_init,
	.on_sipi = cb_sipi,
};

static void wr(unsigned i, u32 off, u32 val)
{
	CHECK_EQ(vlapic_mmio_ops.write(lapic[i], off, 4, val), 0);
}

static u32 rd(unsigned i, u32 off)
{
	u64 v = 0;

	vlapic_mmio_ops.read(lapic[i], off, 4, &v);
	return (u32)v;
}

static void setup(void)
{
	memset(&bus, 0, sizeof(bus));
	memset(vcpu, 0, sizeof(vcpu));
	for (unsigned i = 0; i < N; i++) {
		struct vlapic_config cfg = {
			.id = i, .bsp = i == 0, .tsc_khz = 1000000, .timer_khz = 100000,
			.x2apic = true, .ops = &ops, .ctx = &vcpu[i],
		};

		vcpu[i].index = i;
		lapic[i] = vlapic_create(&cfg);
		CHECK(lapic[i] != NULL);
		CHECK_EQ(apic_bus_attach(&bus, lapic[i]), 0);
		wr(i, APIC_SVR, APIC_SVR_ENABLE | 0xff);
	}
	CHECK_EQ(bus.n, N);
}

static void teardown(void)
{
	for (unsigned i = 0; i < N; i++)
		vlapic_destroy(lapic[i]);
}

/* Which vLAPICs hold vector in IRR, as a bitmap; and clear it there. */
static unsigned got(u8 vector)
{
	unsigned set = 0;

	for (unsigned i = 0; i < N; i++) {
		if (vlapic_pending(lapic[i]) == vector) {
			set |= 1u << i;
			vlapic_ack(lapic[i], vector);
			if (vlapic_mode(lapic[i]) == VLAPIC_X2APIC)
				CHECK_EQ(vlapic_msr_write(lapic[i], 0x80b, 0), 0);
			else
				wr(i, APIC_EOI, 0);
		}
	}
	return set;
}

static struct apic_msg fixed(u32 dest, bool logical, u8 vector)
{
	return (struct apic_msg){
		.dest = dest, .vector = vector, .delivery = APIC_DELIVERY_FIXED,
		.logical = logical, .assert = true, .src = APIC_MSG_NO_SOURCE,
	};
}

TEST(attach)
{
	struct apic_bus b = { 0 };
	struct vlapic_config cfg = { .id = 2, .tsc_khz = 1000000, .timer_khz = 100000 };
	struct vlapic *l = vlapic_create(&cfg), *far;

	CHECK_EQ(apic_bus_attach(&b, l), 0);
	CHECK_EQ(b.n, 3);
	CHECK(b.lapic[2] == l);
	CHECK_EQ(apic_bus_attach(&b, l), -EEXIST);
	cfg.id = VM_MAX_VCPUS;
	far = vlapic_create(&cfg);
	CHECK_EQ(apic_bus_attach(&b, far), -EINVAL);
	/* Holes are skipped. */
	struct apic_msg m = fixed(0xff, false, 0x40);
	CHECK_EQ(apic_bus_deliver(&b, &m), 0); /* software-disabled: not accepted */
	vlapic_destroy(l);
	vlapic_destroy(far);
}

TEST(physical)
{
	struct apic_msg m;

	setup();
	m = fixed(2, false, 0x41);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x41), 0x4);
	m = fixed(APIC_BROADCAST, false, 0x42);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 4);
	CHECK_EQ(got(0x42), 0xf);
	m = fixed(7, false, 0x43);                 /* nobody */
	CHECK_EQ(apic_bus_deliver(&bus, &m), 0);
	CHECK_EQ(got(0x43), 0);
	wr(1, APIC_ID, 0x09000000);                /* a guest-set ID routes */
	m = fixed(9, false, 0x44);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x44), 0x2);
	teardown();
}

TEST(logical_flat)
{
	struct apic_msg m;

	setup();
	for (unsigned i = 0; i < N; i++)
		wr(i, APIC_LDR, (1u << i) << 24);
	m = fixed(0x05, true, 0x51);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 2);
	CHECK_EQ(got(0x51), 0x5);
	m = fixed(0x08, true, 0x52);
	CHECK_EQ(apic_bus_match(&bus, &m), 0x8);
	m = fixed(0xf0, true, 0x53);
	CHECK_EQ(apic_bus_match(&bus, &m), 0);
	m = fixed(APIC_BROADCAST, true, 0x54);
	CHECK_EQ(apic_bus_match(&bus, &m), 0xf);
	teardown();
}

TEST(logical_cluster)
{
	static const u32 ldr[N] = { 0x11, 0x12, 0x21, 0x22 };
	struct apic_msg m;

	setup();
	for (unsigned i = 0; i < N; i++) {
		wr(i, APIC_DFR, 0x0fffffff);
		wr(i, APIC_LDR, ldr[i] << 24);
	}
	m = fixed(0x13, true, 0x61);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 2);
	CHECK_EQ(got(0x61), 0x3);
	m = fixed(0x22, true, 0x62);
	CHECK_EQ(apic_bus_match(&bus, &m), 0x8);
	m = fixed(0x33, true, 0x63);               /* cluster 3: nobody */
	CHECK_EQ(apic_bus_match(&bus, &m), 0);
	m = fixed(0xff, true, 0x64);
	CHECK_EQ(apic_bus_match(&bus, &m), 0xf);
	teardown();
}

TEST(x2apic_destinations)
{
	struct apic_msg m;

	setup();
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ(vlapic_apic_base_write(lapic[i], 0xfee00c00 | (i == 0 ? APIC_BASE_BSP : 0)),
			 0);
	m = fixed(3, false, 0x71);
	m.x2apic = true;
	CHECK_EQ(apic_bus_match(&bus, &m), 0x8);
	m = fixed(X2APIC_BROADCAST, false, 0x71);
	m.x2apic = true;
	CHECK_EQ(apic_bus_match(&bus, &m), 0xf);
	m = fixed(0xff, false, 0x71);              /* 32-bit: not a broadcast */
	m.x2apic = true;
	CHECK_EQ(apic_bus_match(&bus, &m), 0);
	m = fixed(0x00000006, true, 0x72);         /* cluster 0, IDs 1 and 2 */
	m.x2apic = true;
	CHECK_EQ(apic_bus_deliver(&bus, &m), 2);
	CHECK_EQ(got(0x72), 0x6);
	m = fixed(0x00010006, true, 0x72);         /* cluster 1: nobody */
	m.x2apic = true;
	CHECK_EQ(apic_bus_match(&bus, &m), 0);
	/* 8-bit messages (IOAPIC, MSI) to x2APICs: 0xff is still everyone. */
	m = fixed(0xff, false, 0x73);
	CHECK_EQ(apic_bus_match(&bus, &m), 0xf);
	m = fixed(2, false, 0x73);
	CHECK_EQ(apic_bus_match(&bus, &m), 0x4);
	m = fixed(0x09, true, 0x73);
	CHECK_EQ(apic_bus_match(&bus, &m), 0x9);
	/* From the ICR MSR of vCPU 0, all the way. */
	CHECK_EQ(vlapic_msr_write(lapic[0], 0x80f, APIC_SVR_ENABLE | 0xff), 0);
	CHECK_EQ(vlapic_msr_write(lapic[0], 0x830, (2ULL << 32) | 0x4074), 0);
	CHECK_EQ(vlapic_pending(lapic[2]), 0x74);
	teardown();
}

TEST(shorthands)
{
	setup();
	wr(1, APIC_ICR_LO, 0x00044081);            /* self */
	CHECK_EQ(got(0x81), 0x2);
	wr(1, APIC_ICR_LO, 0x00084082);            /* all including self */
	CHECK_EQ(got(0x82), 0xf);
	wr(1, APIC_ICR_LO, 0x000c4083);            /* all but self */
	CHECK_EQ(got(0x83), 0xd);
	/* The destination field is ignored with a shorthand. */
	wr(1, APIC_ICR_HI, 0x03000000);
	wr(1, APIC_ICR_LO, 0x00044084);
	CHECK_EQ(got(0x84), 0x2);
	teardown();
}

TEST(lowest_priority)
{
	struct apic_msg m = fixed(APIC_BROADCAST, true, 0x91);

	setup();
	m.delivery = APIC_DELIVERY_LOWEST;
	for (unsigned i = 0; i < N; i++)
		wr(i, APIC_LDR, 0x01000000);
	wr(0, APIC_TPR, 0x20);
	wr(1, APIC_TPR, 0x10);
	wr(2, APIC_TPR, 0x30);
	wr(3, APIC_TPR, 0x10);
	CHECK_EQ(apic_bus_match(&bus, &m), 0xf);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x91), 0x2);                 /* lowest PPR, first found */
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x91), 0x8);                 /* its equal, round robin */
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x91), 0x2);
	/* An interrupt in service raises PPR: vCPU 1 is busy with 0xa0. */
	vlapic_accept(lapic[1], 0xa0, false);
	vlapic_ack(lapic[1], 0xa0);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x91), 0x8);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x91), 0x8);
	/* Software-disabled ones are never chosen. */
	wr(3, APIC_SVR, 0xff);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x91), 0x1);
	/* Only among the destination: physical 2. */
	m = fixed(2, false, 0x92);
	m.delivery = APIC_DELIVERY_LOWEST;
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x92), 0x4);
	teardown();
}

TEST(disabled_apic_takes_nothing)
{
	struct apic_msg m = fixed(APIC_BROADCAST, false, 0xa1);

	setup();
	CHECK_EQ(vlapic_apic_base_write(lapic[3], 0xfee00000), 0);
	CHECK_EQ(apic_bus_match(&bus, &m), 0x7);
	m.delivery = APIC_DELIVERY_INIT;
	CHECK_EQ(apic_bus_deliver(&bus, &m), 3);
	CHECK_EQ(vcpu[3].inits, 0);
	teardown();
}

/* The BSP starts an AP the way Linux does: INIT assert, INIT de-assert, two SIPIs. */
TEST(init_sipi_through_icr)
{
	setup();
	wr(2, APIC_TPR, 0x40);
	wr(0, APIC_ICR_HI, 0x02000000);
	wr(0, APIC_ICR_LO, 0x0000c500);            /* INIT, level, assert */
	CHECK_EQ(vcpu[2].inits, 1);
	CHECK_EQ(rd(2, APIC_TPR), 0);              /* the AP's APIC was reset */
	CHECK_EQ(rd(2, APIC_SVR), 0xff);
	wr(0, APIC_ICR_LO, 0x00008500);            /* INIT de-assert: nothing */
	CHECK_EQ(vcpu[2].inits, 1);
	wr(0, APIC_ICR_LO, 0x00004609);            /* STARTUP, vector 9: 0x9000 */
	wr(0, APIC_ICR_LO, 0x00004609);
	CHECK_EQ(vcpu[2].sipis, 2);
	CHECK_EQ(vcpu[2].sipi_vector, 9);
	for (unsigned i = 0; i < N; i++)
		if (i != 2)
			CHECK(vcpu[i].inits == 0 && vcpu[i].sipis == 0);
	/* INIT to all but self: everyone else. */
	wr(0, APIC_ICR_LO, 0x000c4500);
	CHECK_EQ(vcpu[0].inits, 0);
	CHECK(vcpu[1].inits == 1 && vcpu[2].inits == 2 && vcpu[3].inits == 1);
	teardown();
}

TEST(ipi_wakes_target)
{
	setup();
	wr(0, APIC_ICR_HI, 0x03000000);
	wr(0, APIC_ICR_LO, 0x000040b0);
	CHECK_EQ(vcpu[3].wakes, 1);
	CHECK_EQ(vcpu[0].wakes, 0);
	CHECK_EQ(vlapic_pending(lapic[3]), 0xb0);
	wr(0, APIC_ICR_LO, 0x00004400);            /* NMI */
	CHECK(vlapic_take_nmi(lapic[3]));
	CHECK_EQ(vcpu[3].wakes, 2);
	teardown();
}

TEST(msi)
{
	struct apic_msg m;

	CHECK_EQ(apic_msi_to_msg(0xfee02004, 0xc1a5, &m), 0);
	CHECK_EQ(m.dest, 2);
	CHECK(m.logical);
	CHECK_EQ(m.vector, 0xa5);
	CHECK_EQ(m.delivery, APIC_DELIVERY_LOWEST);
	CHECK(m.level && m.assert);
	CHECK_EQ(m.src, APIC_MSG_NO_SOURCE);
	CHECK_EQ(apic_msi_to_msg(0xfee03000, 0x0041, &m), 0);
	CHECK(!m.logical && !m.level);
	CHECK_EQ(m.dest, 3);
	CHECK_EQ(apic_msi_to_msg(0xfec00000, 0x41, &m), -EINVAL);
	setup();
	CHECK_EQ(apic_msi_to_msg(0xfee01000, 0x0045, &m), 0);
	CHECK_EQ(apic_bus_deliver(&bus, &m), 1);
	CHECK_EQ(got(0x45), 0x2);
	teardown();
}

int main(void)
{
	RUN(attach);
	RUN(physical);
	RUN(logical_flat);
	RUN(logical_cluster);
	RUN(x2apic_destinations);
	RUN(shorthands);
	RUN(lowest_priority);
	RUN(disabled_apic_takes_nothing);
	RUN(init_sipi_through_icr);
	RUN(ipi_wakes_target);
	RUN(msi);
	return unit_done();
}
