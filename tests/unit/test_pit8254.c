/*
 * The 8254 PIT against a fake clock: counts, outputs and interrupt edges in
 * each mode, the access modes, latch and read-back commands, counter 2 through
 * port 0x61 as Linux drives it to calibrate.
 */
#include "unit.h"
#include "devices/pit8254.h"

#include <string.h>
#include "hv/bus.h"
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

static u64 clock_ns(void *ctx)
{
	CHECK(ctx == &fake_now);
	return fake_now;
}

/* The line: every rise is counted, and pulses must end low. */
static int rises;
static bool level;
static u32 last_gsi = 99;

static void sink_set(void *ctx, u32 gsi, bool lvl)
{
	last_gsi = gsi;
	if (lvl && !level)
		rises++;
	level = lvl;
}

static const struct irq_sink sink = { .set = sink_set };
static int reprograms;

static void reprogrammed(void *ctx)
{
	reprograms++;
}

static struct bus pio;

static struct pit8254 *setup(void)
{
	struct pit8254 *pit = pit_create(clock_ns, &fake_now, &sink);

	memset(&pio, 0, sizeof(pio));
	fake_now = 1000000; /* not zero: the clock's origin must not matter */
	rises = 0;
	level = false;
	reprograms = 0;
	CHECK(pit != NULL);
	CHECK_EQ(bus_register(&pio, PIT_BASE, PIT_NR_PORTS, "pit", &pit_ops, pit), 0);
	CHECK_EQ(bus_register(&pio, PIT_PORT61, 1, "port61", &pit_port61_ops, pit), 0);
	pit_set_reprogrammed(pit, reprogrammed, NULL);
	return pit;
}

static void outb(u16 port, u8 v)
{
	CHECK_EQ(bus_write(&pio, port, 1, v), 0);
}

static u8 inb(u16 port)
{
	u64 v = 0xdead;

	CHECK_EQ(bus_read(&pio, port, 1, &v), 0);
	CHECK(v <= 0xff);
	return (u8)v;
}

/* Counter latch command, then LSB and MSB (access mode LSB then MSB). */
static u16 latch_read(unsigned ch)
{
	u8 lo, hi;

	outb(0x43, (u8)(ch << 6));
	lo = inb((u16)(0x40 + ch));
	hi = inb((u16)(0x40 + ch));
	return (u16)(lo | hi << 8);
}

static u8 status(unsigned ch)
{
	outb(0x43, (u8)(0xe0 | 2 << ch)); /* read-back: status only */
	return inb((u16)(0x40 + ch));
}

/* ns for PIT input clocks, rounded up, as the device computes it. */
static u64 clk(u64 clocks)
{
	return (clocks * 1000000000ULL + PIT_HZ - 1) / PIT_HZ;
}

TEST(mode2_periodic_1khz)
{
	struct pit8254 *pit = setup();
	u64 t0 = fake_now, next;

	CHECK_EQ(pit_next_event_ns(pit), PIT_NO_EVENT); /* unprogrammed: nothing */
	outb(0x43, 0x34); /* counter 0, LSB then MSB, mode 2, binary */
	outb(0x40, 0xa9);
	outb(0x40, 0x04); /* 1193: 1000.15 Hz */
	CHECK_EQ(reprograms, 3);
	next = pit_next_event_ns(pit);
	CHECK_EQ(next, t0 + clk(1193));
	CHECK_EQ(next - t0, 999848); /* 1193 / 1193182 Hz = 999847.5 ns */
	CHECK_EQ(latch_read(0), 1193);
	fake_now = t0 + clk(100);
	CHECK_EQ(latch_read(0), 1093);
	fake_now = t0 + clk(1192);
	CHECK_EQ(latch_read(0), 1);
	CHECK_EQ(status(0) & PIT_STATUS_OUT, 0); /* the one-clock low pulse */

	pit_update(pit, next - 1);
	CHECK_EQ(rises, 0);
	pit_update(pit, next);
	CHECK_EQ(rises, 1);
	CHECK(!level);
	CHECK_EQ(last_gsi, PIT_IRQ);
	CHECK_EQ(pit->irqs, 1);
	CHECK_EQ(pit_next_event_ns(pit), t0 + clk(2 * 1193));
	pit_update(pit, next); /* no double delivery */
	CHECK_EQ(rises, 1);

	/* 10 periods late: one edge (coalesced), then the 13th period's end. */
	fake_now = t0 + clk(12 * 1193) + 5;
	pit_update(pit, fake_now);
	CHECK_EQ(rises, 2);
	CHECK_EQ(pit_next_event_ns(pit), t0 + clk(13 * 1193));
	CHECK_EQ(status(0), PIT_STATUS_OUT | 0x34);
	pit_destroy(pit);
}

TEST(mode2_new_count_at_period_end)
{
	struct pit8254 *pit = setup();
	u64 t0 = fake_now;

	outb(0x43, 0x34);
	outb(0x40, 100);
	outb(0x40, 0);
	fake_now = t0 + clk(30);
	outb(0x40, 50);
	outb(0x40, 0);
	CHECK(status(0) & PIT_STATUS_NULL); /* written, not yet loaded */
	CHECK_EQ(latch_read(0), 70);       /* the old count runs on */
	CHECK_EQ(pit_next_event_ns(pit), t0 + clk(100));
	fake_now = t0 + clk(100) + clk(10) - 1;
	CHECK_EQ(latch_read(0), 50 - 9);
	pit_update(pit, fake_now);
	CHECK_EQ(rises, 1);
	CHECK_EQ(status(0) & PIT_STATUS_NULL, 0);
	/* The period is 50 from the boundary on (the edge at +100 clocks). */
	CHECK_EQ(pit_next_event_ns(pit), t0 + clk(100) + clk(50));
	pit_destroy(pit);
}

TEST(mode0_once)
{
	struct pit8254 *pit = setup();
	u64 t0 = fake_now;

	outb(0x43, 0x30); /* counter 0, word, mode 0 */
	CHECK_EQ(status(0) & (PIT_STATUS_OUT | PIT_STATUS_NULL), PIT_STATUS_NULL);
	outb(0x40, 0x00);
	outb(0x40, 0x10); /* 4096 */
	CHECK_EQ(status(0) & (PIT_STATUS_OUT | PIT_STATUS_NULL), 0);
	CHECK_EQ(pit_next_event_ns(pit), t0 + clk(4096));
	fake_now = t0 + clk(4000);
	CHECK_EQ(latch_read(0), 96);
	fake_now = t0 + clk(4096);
	CHECK_EQ(latch_read(0), 0);
	CHECK(status(0) & PIT_STATUS_OUT);
	/* The access delivered the edge: port I/O advances the device too. */
	CHECK_EQ(rises, 1);
	CHECK_EQ(pit_next_event_ns(pit), PIT_NO_EVENT);
	fake_now = t0 + clk(4096 + 70000);
	pit_update(pit, fake_now);
	CHECK_EQ(rises, 1);
	/* After zero the count wraps through 0xffff and goes on. */
	CHECK_EQ(latch_read(0), (u16)(4096 - 4096 - 70000));
	CHECK(status(0) & PIT_STATUS_OUT);

	/* Writing the first byte stops the count and drops OUT. */
	outb(0x40, 0x20);
	CHECK_EQ(status(0) & PIT_STATUS_OUT, 0);
	u16 held = latch_read(0);
	fake_now += clk(500);
	CHECK_EQ(latch_read(0), held);
	outb(0x40, 0x00); /* 0x0020: 32 clocks from here */
	CHECK_EQ(pit_next_event_ns(pit), fake_now + clk(32));
	pit_destroy(pit);
}

TEST(mode4_linux_oneshot)
{
	struct pit8254 *pit = setup();
	u64 t0 = fake_now;

	outb(0x43, 0x38); /* Linux's PIT clockevent, one-shot: mode 4 */
	CHECK(status(0) & PIT_STATUS_OUT);
	outb(0x40, 0x2a);
	outb(0x40, 0x00); /* 42 */
	/* OUT pulses low for the clock at 0: the rise one clock later is the edge. */
	CHECK_EQ(pit_next_event_ns(pit), t0 + clk(43));
	fake_now = t0 + clk(42);
	CHECK_EQ(status(0) & PIT_STATUS_OUT, 0);
	CHECK_EQ(rises, 0);
	fake_now = t0 + clk(43);
	CHECK(status(0) & PIT_STATUS_OUT);
	CHECK_EQ(rises, 1);
	CHECK_EQ(pit_next_event_ns(pit), PIT_NO_EVENT);
	/* Re-arming is writing a new count. */
	outb(0x40, 0x0a);
	outb(0x40, 0x00);
	CHECK_EQ(pit_next_event_ns(pit), fake_now + clk(11));
	pit_destroy(pit);
}

TEST(mode3_square_wave_on_counter2)
{
	struct pit8254 *pit = setup();
	u64 t0;
	/* n = 5 (odd): CE 4, 2, 0 high, then 4, 2 low. */
	static const u8 ce5[] = { 4, 2, 0, 4, 2, 4, 2, 0, 4, 2 };
	static const u8 out5[] = { 1, 1, 1, 0, 0, 1, 1, 1, 0, 0 };

	outb(0x61, PORT61_GATE2);
	outb(0x43, 0xb6); /* counter 2, word, mode 3 */
	outb(0x42, 10);
	outb(0x42, 0);
	t0 = fake_now;
	for (unsigned i = 0; i < 20; i++) {
		fake_now = t0 + clk(i);
		CHECK_EQ(latch_read(2), 10 - 2 * (i % 5));
		CHECK_EQ(!!(inb(0x61) & PORT61_OUT2), (i % 10) < 5);
	}
	outb(0x42, 5);
	outb(0x42, 0);
	fake_now = t0 + clk(20); /* the new count loads at the period's end */
	t0 = fake_now;
	for (unsigned i = 0; i < 10; i++) {
		fake_now = t0 + clk(i);
		CHECK_EQ(latch_read(2), ce5[i]);
		CHECK_EQ(!!(inb(0x61) & PORT61_OUT2), out5[i]);
	}
	/* Gate low forces OUT high and stops; a rise restarts the period. */
	fake_now = t0 + clk(13);
	CHECK_EQ(inb(0x61) & PORT61_OUT2, 0);
	outb(0x61, 0);
	CHECK(inb(0x61) & PORT61_OUT2);
	fake_now += clk(100);
	CHECK(inb(0x61) & PORT61_OUT2);
	outb(0x61, PORT61_GATE2);
	CHECK_EQ(latch_read(2), 4);
	CHECK_EQ(rises, 0); /* counter 2 drives no interrupt */
	pit_destroy(pit);
}

/* Linux's pit_calibrate_tsc(): counter 2, mode 0, gate on, poll port 0x61 bit 5. */
TEST(counter2_calibration_sequence)
{
	struct pit8254 *pit = setup();
	u64 t0;
	unsigned polls = 0;

	outb(0x61, (inb(0x61) & ~PORT61_SPKR) | PORT61_GATE2);
	CHECK_EQ(inb(0x61) & PORT61_RW_MASK, PORT61_GATE2);
	outb(0x43, 0xb0); /* counter 2, word, mode 0 */
	outb(0x42, 11932 & 0xff);
	outb(0x42, 11932 >> 8); /* 10 ms */
	t0 = fake_now;
	while (!(inb(0x61) & PORT61_OUT2) && polls < 100000) {
		fake_now += 1000;
		polls++;
	}
	CHECK_EQ(fake_now - t0, ((clk(11932) + 999) / 1000) * 1000);
	CHECK(fake_now - t0 >= 10000000 && fake_now - t0 <= 10001000);

	/* quick_pit_calibrate(): count 0xffff, read LSB, MSB unlatched. */
	outb(0x43, 0xb0);
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	t0 = fake_now;
	fake_now = t0 + clk(256 * 3 + 17);
	CHECK_EQ(inb(0x42), (u8)(0xffff - (256 * 3 + 17)));
	CHECK_EQ(inb(0x42), 0xfc);

	/* Mode 0 with the gate low does not count. */
	outb(0x61, 0);
	u16 held = latch_read(2);
	fake_now += clk(1000);
	CHECK_EQ(latch_read(2), held);
	outb(0x61, PORT61_GATE2);
	fake_now += clk(10);
	CHECK_EQ(latch_read(2), held - 10);
	pit_destroy(pit);
}

TEST(access_modes_and_bcd)
{
	struct pit8254 *pit = setup();
	u64 t0 = fake_now;

	outb(0x43, 0x50); /* counter 1, LSB only, mode 0 */
	outb(0x41, 200);
	fake_now = t0 + clk(50);
	CHECK_EQ(inb(0x41), 150);
	CHECK_EQ(inb(0x41), 150);

	outb(0x43, 0x60); /* counter 1, MSB only, mode 0 */
	outb(0x41, 0x12); /* 0x1200 */
	t0 = fake_now;
	fake_now = t0 + clk(0x100);
	CHECK_EQ(inb(0x41), 0x11);

	outb(0x43, 0x75); /* counter 1, word, mode 2, BCD */
	outb(0x41, 0x00);
	outb(0x41, 0x10); /* 1000 decimal */
	t0 = fake_now;
	fake_now = t0 + clk(1);
	CHECK_EQ(latch_read(1), 0x0999);
	fake_now = t0 + clk(1000 + 123);
	CHECK_EQ(latch_read(1), 0x0877);
	CHECK_EQ(status(1), PIT_STATUS_OUT | 0x35);

	outb(0x43, 0x71); /* BCD mode 0, count 0 = 10000 */
	outb(0x41, 0);
	outb(0x41, 0);
	t0 = fake_now;
	fake_now = t0 + clk(1);
	CHECK_EQ(latch_read(1), 0x9999);
	pit_destroy(pit);
}

TEST(latch_and_readback)
{
	struct pit8254 *pit = setup();
	u64 t0 = fake_now;

	outb(0x43, 0x34);
	outb(0x40, 0x00);
	outb(0x40, 0x80); /* 0x8000 */
	fake_now = t0 + clk(0x10);
	outb(0x43, 0x00); /* latch counter 0: 0x7ff0 */
	fake_now = t0 + clk(0x20);
	outb(0x43, 0x00); /* ignored: the first latch is unread */
	CHECK_EQ(inb(0x40), 0xf0);
	fake_now = t0 + clk(0x30);
	CHECK_EQ(inb(0x40), 0x7f);
	/* Unlatched, the word reads go live: LSB now, MSB later. */
	CHECK_EQ(inb(0x40), 0xd0);
	CHECK_EQ(inb(0x40), 0x7f);

	/* Read-back of counters 0 and 2, count and status: status first. */
	outb(0x61, PORT61_GATE2);
	outb(0x43, 0x90); /* counter 2, LSB only, mode 0 */
	outb(0x42, 9);
	outb(0x43, 0xc0 | 0x02 | 0x08);
	CHECK_EQ(inb(0x40), PIT_STATUS_OUT | 0x34);
	CHECK_EQ(inb(0x40), 0xd0);
	CHECK_EQ(inb(0x40), 0x7f);
	CHECK_EQ(inb(0x42), 0x10); /* mode 0, LSB, OUT low */
	CHECK_EQ(inb(0x42), 9);
	/* Read-back, count only, counter 1 untouched: reads 0 (never loaded). */
	outb(0x43, 0xd0 | 0x04);
	CHECK_EQ(inb(0x41), 0);
	/* The control port reads as nothing. */
	CHECK_EQ(inb(0x43), 0xff);
	/* A word access reaches two ports: counter 0's LSB and counter 1's. */
	u64 v;
	outb(0x43, 0x00);
	CHECK_EQ(bus_read(&pio, 0x40, 2, &v), 0);
	CHECK_EQ(v & 0xff, 0xd0);
	pit_destroy(pit);
}

TEST(port61)
{
	struct pit8254 *pit = setup();

	fake_now = 0;
	CHECK_EQ(inb(0x61) & ~PORT61_OUT2, 0);
	outb(0x61, 0xff);
	CHECK_EQ(inb(0x61) & PORT61_RW_MASK, 0x0f);
	fake_now = 15085; /* the refresh bit toggles */
	CHECK(inb(0x61) & PORT61_REFRESH);
	fake_now = 2 * 15085;
	CHECK_EQ(inb(0x61) & PORT61_REFRESH, 0);
	CHECK_EQ(inb(0x61) & 0xc0, 0); /* no NMI sources */
	pit_destroy(pit);
}

TEST(long_uptime_no_overflow)
{
	struct pit8254 *pit = setup();
	u64 t0 = 400ULL * 24 * 3600 * 1000000000ULL; /* 400 days */
	u64 next;

	fake_now = t0;
	outb(0x43, 0x34);
	outb(0x40, 0);
	outb(0x40, 0); /* 65536: 18.2 Hz */
	fake_now = t0 + 3600ULL * 1000000000ULL; /* an hour on */
	pit_update(pit, fake_now);
	CHECK_EQ(rises, 1);
	next = pit_next_event_ns(pit);
	/* 3600 s = 4295455200 clocks; 65543 periods end at 65544 * 65536. */
	CHECK_EQ(next, t0 + clk(65544ULL * 65536));
	CHECK_EQ(latch_read(0), (u16)(65536 - 4295455200ULL % 65536));
	pit_destroy(pit);
}

/* A reboot: the counters unprogrammed and port 0x61 clear, as created; the
 * clock, the line and the reprogrammed callback stay wired. */
TEST(reset)
{
	struct pit8254 *pit = setup();
	u64 t0 = fake_now;

	outb(0x43, 0x34); /* counter 0: mode 2, 1193 */
	outb(0x40, 0xa9);
	outb(0x40, 0x04);
	outb(0x43, 0x79); /* counter 1: BCD mode 4, a count half written */
	outb(0x41, 0x12);
	outb(0x61, PORT61_GATE2 | PORT61_SPKR);
	outb(0x43, 0x96); /* counter 2: LSB only, mode 3 */
	outb(0x42, 100);
	outb(0x43, 0xc0 | 0x20 | 0x02); /* status of counter 0 latched, unread */
	pit_update(pit, t0 + clk(1193));
	CHECK_EQ(rises, 1);
	CHECK(pit->irqs > 0);
	reprograms = 0;

	fake_now = t0 + clk(1500);
	pit_reset(pit);
	CHECK(!level);
	CHECK_EQ(rises, 1);
	CHECK_EQ(reprograms, 1); /* the owner learns the event is gone */
	CHECK_EQ(pit->irqs, 0);
	CHECK_EQ(pit_next_event_ns(pit), PIT_NO_EVENT);
	/* Mode 0, LSB then MSB, binary, OUT low, no count: as created. */
	for (unsigned ch = 0; ch < 3; ch++) {
		CHECK_EQ(status(ch), 0x30);
		CHECK_EQ(latch_read(ch), 0);
	}
	CHECK_EQ(inb(0x61) & (PORT61_RW_MASK | PORT61_OUT2), 0);
	fake_now += clk(100000);
	pit_update(pit, fake_now);
	CHECK_EQ(rises, 1);

	/* Programmed again, it counts from the same clock into the same line. */
	outb(0x43, 0x34);
	outb(0x40, 100);
	outb(0x40, 0);
	CHECK_EQ(pit_next_event_ns(pit), fake_now + clk(100));
	pit_update(pit, fake_now + clk(100));
	CHECK_EQ(rises, 2);
	CHECK_EQ(last_gsi, PIT_IRQ);
	CHECK(!level);
	pit_destroy(pit);
}

int main(void)
{
	RUN(mode2_periodic_1khz);
	RUN(mode2_new_count_at_period_end);
	RUN(mode0_once);
	RUN(mode4_linux_oneshot);
	RUN(mode3_square_wave_on_counter2);
	RUN(counter2_calibration_sequence);
	RUN(access_modes_and_bcd);
	RUN(latch_and_readback);
	RUN(port61);
	RUN(long_uptime_no_overflow);
	RUN(reset);
	return unit_done();
}
