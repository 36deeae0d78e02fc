#include "unit.h"
#include "devices/vioapic.h"

#include <string.h>
#include "devices/apic_bus.h"
#include "devices/vlapic.h"
#include "hv/irq.h"
#include "hv/mm.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

/* Two vCPUs, an IOAPIC with ID 2, and the EOI broadcast wired as the core will. */
#define N 2

static struct apic_bus bus;
static struct vlapic *lapic[N];
static struct vioapic *io;
static int wakes[N];

static u64 cb_now(void *ctx)
{
	return 0;
}

static void cb_eoi(void *ctx, u8 vector)
{
	vioapic_eoi(io, vector);
}

static void cb_wake(void *ctx)
{
	wakes[(int *)ctx - wakes]++;
}

static const struct vlapic_ops ops = {
	.now_tsc = cb_now,
	.eoi = cb_eoi,
	.wake = cb_wake,
};

static struct bus mmio;

static u32 io_rd(u32 index)
{
	u64 v = 0;

	CHECK_EQ(bus_write(&mmio, VIOAPIC_BASE + IOAPIC_REGSEL, 4, index), 0);
	CHECK_EQ(bus_read(&mmio, VIOAPIC_BASE + IOAPIC_WIN, 4, &v), 0);
	return (u32)v;
}

static void io_wr(u32 index, u32 val)
{
	CHECK_EQ(bus_write(&mmio, VIOAPIC_BASE + IOAPIC_REGSEL, 4, index), 0);
	CHECK_EQ(bus_write(&mmio, VIOAPIC_BASE + IOAPIC_WIN, 4, val), 0);
}

static void rte_set(unsigned pin, u64 rte)
{
	io_wr(IOAPIC_REG_REDTBL + 2 * pin + 1, (u32)(rte >> 32));
	io_wr(IOAPIC_REG_REDTBL + 2 * pin, (u32)rte);
}

static u64 rte_get(unsigned pin)
{
	return (u64)io_rd(IOAPIC_REG_REDTBL + 2 * pin + 1) << 32 | io_rd(IOAPIC_REG_REDTBL + 2 * pin);
}

static void setup(void)
{
	memset(&bus, 0, sizeof(bus));
	memset(&mmio, 0, sizeof(mmio));
	memset(wakes, 0, sizeof(wakes));
	for (unsigned i = 0; i < N; i++) {
		struct vlapic_config cfg = {
			.id = i, .bsp = i == 0, .tsc_khz = 1000000, .timer_khz = 100000,
			.ops = &ops, .ctx = &wakes[i],
		};

		lapic[i] = vlapic_create(&cfg);
		CHECK_EQ(apic_bus_attach(&bus, lapic[i]), 0);
		vlapic_mmio_ops.write(lapic[i], APIC_SVR, 4, APIC_SVR_ENABLE | 0xff);
		vlapic_mmio_ops.write(lapic[i], APIC_LDR, 4, (1u << i) << 24);
	}
	io = vioapic_create(&bus, 2);
	CHECK(io != NULL);
	CHECK_EQ(bus_register(&mmio, VIOAPIC_BASE, VIOAPIC_MMIO_SIZE, "ioapic", &vioapic_mmio_ops, io),
		 0);
}

static void teardown(void)
{
	for (unsigned i = 0; i < N; i++)
		vlapic_destroy(lapic[i]);
	vioapic_destroy(io);
}

/* vCPU i's IRR word holding vector v, masked to v's bit. */
static u32 irr_word(unsigned i, u8 v)
{
	u64 val = 0;

	vlapic_mmio_ops.read(lapic[i], APIC_IRR + (v / 32) * 0x10, 4, &val);
	return (u32)val & (1u << (v % 32));
}

/* The vCPU takes the interrupt and its handler writes EOI. */
static int take_and_eoi(unsigned i)
{
	int v = vlapic_pending(lapic[i]);

	if (v >= 0) {
		vlapic_ack(lapic[i], (u8)v);
		vlapic_mmio_ops.write(lapic[i], APIC_EOI, 4, 0);
	}
	return v;
}

TEST(registers)
{
	u64 v;

	setup();
	CHECK_EQ(io_rd(IOAPIC_REG_ID), 0x02000000);
	CHECK_EQ(io_rd(IOAPIC_REG_VER), 0x00170011);   /* 24 entries, version 0x11 */
	CHECK_EQ(io_rd(IOAPIC_REG_ARB), 0x02000000);
	io_wr(IOAPIC_REG_ID, 0xffffffff);
	CHECK_EQ(io_rd(IOAPIC_REG_ID), 0x0f000000);
	io_wr(IOAPIC_REG_VER, 0);
	CHECK_EQ(io_rd(IOAPIC_REG_VER), 0x00170011);
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++)
		CHECK_EQ(rte_get(pin), 0x10000);            /* masked at reset */
	/* Delivery status and Remote IRR are read-only. */
	rte_set(5, 0xffffffffffffffffULL);
	CHECK_EQ(rte_get(5), 0xff0000000001afffULL);
	rte_set(5, 0x0300000000000935ULL);
	CHECK_EQ(rte_get(5), 0x0300000000000935ULL);
	CHECK_EQ(io_rd(0x40), 0);                      /* no such register */
	CHECK_EQ(io_rd(IOAPIC_REG_REDTBL + 48), 0);
	/* IOREGSEL reads back; IOWIN wants 32 bits; the rest is unclaimed. */
	CHECK_EQ(bus_write(&mmio, VIOAPIC_BASE, 1, 0x1b), 0);
	CHECK_EQ(bus_read(&mmio, VIOAPIC_BASE, 4, &v), 0);
	CHECK_EQ(v, 0x1b);
	CHECK_EQ(bus_read(&mmio, VIOAPIC_BASE + IOAPIC_WIN, 2, &v), 0);
	CHECK_EQ(v, 0xffff);
	CHECK_EQ(bus_read(&mmio, VIOAPIC_BASE + 0x40, 4, &v), -ENOENT);
	teardown();
}

TEST(edge_on_rise_only)
{
	setup();
	rte_set(4, (1ULL << IOAPIC_RTE_DEST_SHIFT) | 0x34);   /* fixed, physical 1, edge */
	vioapic_set_line(io, 4, true);
	CHECK_EQ(vlapic_pending(lapic[1]), 0x34);
	CHECK_EQ(vlapic_pending(lapic[0]), -1);
	CHECK_EQ(wakes[1], 1);
	CHECK_EQ(take_and_eoi(1), 0x34);
	vioapic_set_line(io, 4, true);                         /* still high: no edge */
	CHECK_EQ(vlapic_pending(lapic[1]), -1);
	vioapic_set_line(io, 4, false);
	CHECK_EQ(vlapic_pending(lapic[1]), -1);
	irq_pulse(&(struct irq_sink){ vioapic_irq_set, io }, 4); /* through irq.h */
	CHECK_EQ(take_and_eoi(1), 0x34);
	CHECK_EQ(rte_get(4) & IOAPIC_RTE_REMOTE_IRR, 0);
	teardown();
}

TEST(masked_edge_is_lost)
{
	setup();
	rte_set(3, IOAPIC_RTE_MASKED | 0x33);
	vioapic_set_line(io, 3, true);
	vioapic_set_line(io, 3, false);
	rte_set(3, 0x33);
	CHECK_EQ(vlapic_pending(lapic[0]), -1);
	vioapic_set_line(io, 3, true);
	CHECK_EQ(vlapic_pending(lapic[0]), 0x33);
	vioapic_set_line(io, 99, true);                       /* no such pin */
	teardown();
}

TEST(level_remote_irr_and_redelivery)
{
	const u64 rte = IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY_LOW | 0x5a; /* physical 0 */

	setup();
	rte_set(10, rte);
	vioapic_set_line(io, 10, true);
	CHECK_EQ(rte_get(10), rte | IOAPIC_RTE_REMOTE_IRR);
	CHECK(vlapic_pending(lapic[0]) == 0x5a);
	vlapic_ack(lapic[0], 0x5a);
	vioapic_set_line(io, 10, true);                       /* Remote IRR holds it */
	CHECK_EQ(irr_word(0, 0x5a), 0);
	/* EOI with the line still asserted: delivered again. */
	vlapic_mmio_ops.write(lapic[0], APIC_EOI, 4, 0);
	CHECK(irr_word(0, 0x5a));
	CHECK_EQ(rte_get(10), rte | IOAPIC_RTE_REMOTE_IRR);
	CHECK_EQ(vlapic_pending(lapic[0]), 0x5a);
	/* The device lowers it; the next EOI clears Remote IRR for good. */
	vioapic_set_line(io, 10, false);
	CHECK_EQ(take_and_eoi(0), 0x5a);
	CHECK_EQ(rte_get(10), rte);
	CHECK_EQ(vlapic_pending(lapic[0]), -1);
	/* An EOI of another vector leaves an entry alone. */
	vioapic_set_line(io, 10, true);
	vioapic_eoi(io, 0x5b);
	CHECK_EQ(rte_get(10), rte | IOAPIC_RTE_REMOTE_IRR);
	teardown();
}

TEST(level_unmask_while_asserted)
{
	const u64 rte = IOAPIC_RTE_LEVEL | 0x66;

	setup();
	rte_set(11, rte | IOAPIC_RTE_MASKED);
	vioapic_set_line(io, 11, true);
	CHECK_EQ(vlapic_pending(lapic[0]), -1);
	CHECK_EQ(rte_get(11) & IOAPIC_RTE_REMOTE_IRR, 0);
	rte_set(11, rte);                                     /* unmasked: now */
	CHECK_EQ(vlapic_pending(lapic[0]), 0x66);
	CHECK(rte_get(11) & IOAPIC_RTE_REMOTE_IRR);
	/* Switching to edge drops Remote IRR. */
	rte_set(11, 0x66);
	CHECK_EQ(rte_get(11), 0x66);
	teardown();
}

TEST(level_without_taker_keeps_remote_irr_clear)
{
	setup();
	rte_set(12, IOAPIC_RTE_LEVEL | (7ULL << IOAPIC_RTE_DEST_SHIFT) | 0x77); /* nobody is 7 */
	vioapic_set_line(io, 12, true);
	CHECK_EQ(rte_get(12) & IOAPIC_RTE_REMOTE_IRR, 0);
	/* Re-aimed at vCPU 1 while still asserted: delivered. */
	rte_set(12, IOAPIC_RTE_LEVEL | (1ULL << IOAPIC_RTE_DEST_SHIFT) | 0x77);
	CHECK_EQ(vlapic_pending(lapic[1]), 0x77);
	CHECK(rte_get(12) & IOAPIC_RTE_REMOTE_IRR);
	teardown();
}

TEST(logical_and_lowest_priority)
{
	setup();
	/* Logical 0x3 (both), fixed. */
	rte_set(1, (3ULL << IOAPIC_RTE_DEST_SHIFT) | IOAPIC_RTE_DEST_LOGICAL | 0x41);
	vioapic_set_line(io, 1, true);
	CHECK_EQ(take_and_eoi(0), 0x41);
	CHECK_EQ(take_and_eoi(1), 0x41);
	/* Lowest priority to the same two: vCPU 0 is busy at TPR 0x80. */
	vlapic_mmio_ops.write(lapic[0], APIC_TPR, 4, 0x80);
	rte_set(2, (3ULL << IOAPIC_RTE_DEST_SHIFT) | IOAPIC_RTE_DEST_LOGICAL |
		   ((u64)APIC_DELIVERY_LOWEST << IOAPIC_RTE_DM_SHIFT) | 0x42);
	vioapic_set_line(io, 2, true);
	CHECK_EQ(vlapic_pending(lapic[1]), 0x42);
	CHECK_EQ(vlapic_pending(lapic[0]), -1);
	teardown();
}

TEST(nmi_and_init_entries)
{
	setup();
	rte_set(6, (1ULL << IOAPIC_RTE_DEST_SHIFT) | ((u64)APIC_DELIVERY_NMI << IOAPIC_RTE_DM_SHIFT));
	vioapic_set_line(io, 6, true);
	CHECK(vlapic_take_nmi(lapic[1]));
	CHECK(!vlapic_take_nmi(lapic[0]));
	teardown();
}

TEST(reset)
{
	setup();
	rte_set(4, 0x34);
	vioapic_reset(io);
	CHECK_EQ(rte_get(4), 0x10000);
	CHECK_EQ(io_rd(IOAPIC_REG_ID), 0x02000000);
	teardown();
}

int main(void)
{
	RUN(registers);
	RUN(edge_on_rise_only);
	RUN(masked_edge_is_lost);
	RUN(level_remote_irr_and_redelivery);
	RUN(level_unmask_while_asserted);
	RUN(level_without_taker_keeps_remote_irr_clear);
	RUN(logical_and_lowest_priority);
	RUN(nmi_and_init_entries);
	RUN(reset);
	return unit_done();
}
