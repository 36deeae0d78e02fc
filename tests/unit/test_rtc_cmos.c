/*
 * The CMOS RTC against a fake clock: the calendar conversion over leap years,
 * the time registers in BCD and binary, 24- and 12-hour form, setting the
 * time as Linux does, UIP, the update-ended, alarm and periodic interrupts,
 * and the CMOS RAM fields.
 */
#include "unit.h"
#include "devices/rtc_cmos.h"

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

#define NS 1000000000ULL
#define T0 1709210096ULL /* 2024-02-29 12:34:56 UTC, a Thursday */

static u64 fake_now, fake_unix;

static u64 clock_ns(void *ctx)
{
	return fake_now;
}

static u64 unix_seconds(void *ctx)
{
	return fake_unix;
}

static int rises;
static bool level;

static void sink_set(void *ctx, u32 gsi, bool lvl)
{
	CHECK_EQ(gsi, RTC_IRQ);
	CHECK(lvl != level); /* changes only */
	if (lvl)
		rises++;
	level = lvl;
}

static const struct irq_sink sink = { .set = sink_set };
static struct bus pio;

static struct rtc_cmos *setup(void)
{
	struct rtc_cmos *rtc;

	memset(&pio, 0, sizeof(pio));
	fake_now = 5 * NS + 123; /* the VM clock's origin is not the wall clock's */
	fake_unix = T0;
	rises = 0;
	level = false;
	rtc = rtc_cmos_create(clock_ns, unix_seconds, NULL, &sink);
	CHECK(rtc != NULL);
	CHECK_EQ(bus_register(&pio, RTC_BASE, RTC_NR_PORTS, "rtc", &rtc_cmos_ops, rtc), 0);
	return rtc;
}

static u8 cmos_read(u8 idx)
{
	u64 v = 0xdead;

	CHECK_EQ(bus_write(&pio, 0x70, 1, idx), 0);
	CHECK_EQ(bus_read(&pio, 0x71, 1, &v), 0);
	return (u8)v;
}

static void cmos_write(u8 idx, u8 val)
{
	CHECK_EQ(bus_write(&pio, 0x70, 1, idx), 0);
	CHECK_EQ(bus_write(&pio, 0x71, 1, val), 0);
}

/* ---- the calendar ---- */

static const struct {
	u64 t;
	struct rtc_time tm;
} dates[] = {
	{ 0, { 1970, 1, 1, 0, 0, 0, 4 } },
	{ 68169600, { 1972, 2, 29, 0, 0, 0, 2 } },
	{ 951782400, { 2000, 2, 29, 0, 0, 0, 2 } }, /* divisible by 400: a leap year */
	{ 951868800, { 2000, 3, 1, 0, 0, 0, 3 } },
	{ 1000000000, { 2001, 9, 9, 1, 46, 40, 0 } },
	{ 1709164800, { 2024, 2, 29, 0, 0, 0, 4 } },
	{ T0, { 2024, 2, 29, 12, 34, 56, 4 } },
	{ 2147483647, { 2038, 1, 19, 3, 14, 7, 2 } },
	{ 4102444800, { 2100, 1, 1, 0, 0, 0, 5 } },
	{ 4107542400, { 2100, 3, 1, 0, 0, 0, 1 } }, /* 2100 is not a leap year */
	{ 253402300799, { 9999, 12, 31, 23, 59, 59, 5 } },
};

TEST(calendar_known_dates)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dates); i++) {
		struct rtc_time tm;
		u64 t = 0;

		rtc_unix_to_time(dates[i].t, &tm);
		CHECK_EQ(tm.year, dates[i].tm.year);
		CHECK_EQ(tm.month, dates[i].tm.month);
		CHECK_EQ(tm.day, dates[i].tm.day);
		CHECK_EQ(tm.hour, dates[i].tm.hour);
		CHECK_EQ(tm.min, dates[i].tm.min);
		CHECK_EQ(tm.sec, dates[i].tm.sec);
		CHECK_EQ(tm.wday, dates[i].tm.wday);
		CHECK_EQ(rtc_time_to_unix(&dates[i].tm, &t), 0);
		CHECK_EQ(t, dates[i].t);
	}
}

/* Every day from 1970 to 2401 against a plain day-by-day count. */
TEST(calendar_every_day)
{
	static const u8 mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	u64 day = 0;
	unsigned bad = 0;

	for (u32 y = 1970; y <= 2401; y++) {
		bool lp = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		for (u32 m = 1; m <= 12; m++) {
			u32 n = mdays[m - 1] + (m == 2 && lp);

			for (u32 d = 1; d <= n; d++, day++) {
				struct rtc_time tm = { y, (u8)m, (u8)d, 23, 59, 59, 0 }, back;
				u64 t = 0;

				if (rtc_time_to_unix(&tm, &t) || t != day * 86400 + 86399)
					bad++;
				rtc_unix_to_time(day * 86400 + 86399, &back);
				if (back.year != y || back.month != m || back.day != d || back.hour != 23 ||
				    back.min != 59 || back.sec != 59 || back.wday != (day + 4) % 7)
					bad++;
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(day, 157785); /* 432 years, 105 of them leap */
}

TEST(calendar_rejects)
{
	static const struct rtc_time badtm[] = {
		{ 2023, 2, 29, 0, 0, 0, 0 }, { 2100, 2, 29, 0, 0, 0, 0 }, { 2024, 4, 31, 0, 0, 0, 0 },
		{ 2024, 13, 1, 0, 0, 0, 0 }, { 2024, 0, 1, 0, 0, 0, 0 },  { 2024, 1, 0, 0, 0, 0, 0 },
		{ 2024, 1, 1, 24, 0, 0, 0 }, { 2024, 1, 1, 0, 60, 0, 0 }, { 2024, 1, 1, 0, 0, 60, 0 },
		{ 1969, 12, 31, 23, 59, 59, 0 },
	};
	struct rtc_time ok = { 2024, 2, 29, 0, 0, 0, 0 };
	u64 t = 42;

	for (unsigned i = 0; i < ARRAY_SIZE(badtm); i++)
		CHECK_EQ(rtc_time_to_unix(&badtm[i], &t), -EINVAL);
	CHECK_EQ(t, 42);
	CHECK_EQ(rtc_time_to_unix(&ok, &t), 0);
}

/* ---- the registers ---- */

TEST(time_registers_bcd_binary_12h)
{
	struct rtc_cmos *rtc = setup();

	CHECK_EQ(cmos_read(RTC_REG_A), 0x26);
	CHECK_EQ(cmos_read(RTC_REG_B), 0x02);
	CHECK_EQ(cmos_read(RTC_REG_D), RTC_D_VRT);
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x56);
	CHECK_EQ(cmos_read(RTC_MINUTES), 0x34);
	CHECK_EQ(cmos_read(RTC_HOURS), 0x12);
	CHECK_EQ(cmos_read(RTC_DAY_OF_WEEK), 0x05); /* Thursday; Sunday is 1 */
	CHECK_EQ(cmos_read(RTC_DAY_OF_MONTH), 0x29);
	CHECK_EQ(cmos_read(RTC_MONTH), 0x02);
	CHECK_EQ(cmos_read(RTC_YEAR), 0x24);
	CHECK_EQ(cmos_read(RTC_CENTURY), 0x20);

	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	CHECK_EQ(cmos_read(RTC_SECONDS), 56);
	CHECK_EQ(cmos_read(RTC_MINUTES), 34);
	CHECK_EQ(cmos_read(RTC_HOURS), 12);
	CHECK_EQ(cmos_read(RTC_DAY_OF_MONTH), 29);
	CHECK_EQ(cmos_read(RTC_YEAR), 24);
	CHECK_EQ(cmos_read(RTC_CENTURY), 20);

	/* 12-hour: 12:34 is 12 PM; in binary the PM bit is still bit 7. */
	cmos_write(RTC_REG_B, RTC_B_DM_BINARY);
	CHECK_EQ(cmos_read(RTC_HOURS), 0x80 | 12);
	cmos_write(RTC_REG_B, 0);
	CHECK_EQ(cmos_read(RTC_HOURS), 0x92);
	fake_now += 11 * 3600 * NS; /* 23:34:56 */
	CHECK_EQ(cmos_read(RTC_HOURS), 0x91);
	fake_now += 3600 * NS; /* 00:34:56 on Friday, March 1st: 12 AM */
	CHECK_EQ(cmos_read(RTC_HOURS), 0x12);
	CHECK_EQ(cmos_read(RTC_DAY_OF_MONTH), 0x01);
	CHECK_EQ(cmos_read(RTC_MONTH), 0x03);
	CHECK_EQ(cmos_read(RTC_DAY_OF_WEEK), 0x06);
	fake_now += 3600 * NS; /* 1 AM */
	CHECK_EQ(cmos_read(RTC_HOURS), 0x01);
	rtc_cmos_destroy(rtc);
}

TEST(clock_runs_and_uip)
{
	struct rtc_cmos *rtc = setup();
	u64 start = fake_now;

	fake_now = start + 61 * NS + NS / 2;
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x57);
	CHECK_EQ(cmos_read(RTC_MINUTES), 0x35);
	/* UIP: the 244 us before each second's update. */
	fake_now = start + 2 * NS - 244000 - 1;
	CHECK_EQ(cmos_read(RTC_REG_A) & RTC_A_UIP, 0);
	fake_now = start + 2 * NS - 244000;
	CHECK(cmos_read(RTC_REG_A) & RTC_A_UIP);
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x57);
	fake_now = start + 2 * NS;
	CHECK_EQ(cmos_read(RTC_REG_A) & RTC_A_UIP, 0);
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x58);
	/* UIP is read-only. */
	cmos_write(RTC_REG_A, 0xa6);
	CHECK_EQ(cmos_read(RTC_REG_A), 0x26);
	rtc_cmos_destroy(rtc);
}

/* drivers/rtc/rtc-mc146818-lib.c's mc146818_set_time(): SET, divider reset, write, restore. */
TEST(set_time_as_linux)
{
	struct rtc_cmos *rtc = setup();
	u8 b = cmos_read(RTC_REG_B), a = cmos_read(RTC_REG_A);

	cmos_write(RTC_REG_B, b | RTC_B_SET);
	cmos_write(RTC_REG_A, a | 0x70);
	fake_now += 5 * NS; /* stopped: no updates, no UIP */
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x56);
	cmos_write(RTC_YEAR, 0x30);
	cmos_write(RTC_MONTH, 0x06);
	cmos_write(RTC_DAY_OF_MONTH, 0x15);
	cmos_write(RTC_HOURS, 0x08);
	cmos_write(RTC_MINUTES, 0x00);
	cmos_write(RTC_SECONDS, 0x00);
	cmos_write(RTC_CENTURY, 0x20);
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x00);
	fake_now += 3 * NS;
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x00);
	CHECK_EQ(cmos_read(RTC_REG_A) & RTC_A_UIP, 0);
	cmos_write(RTC_REG_B, b);
	cmos_write(RTC_REG_A, a);
	fake_now += 2 * NS + 1;
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x02);
	CHECK_EQ(cmos_read(RTC_MINUTES), 0x00);
	CHECK_EQ(cmos_read(RTC_HOURS), 0x08);
	CHECK_EQ(cmos_read(RTC_DAY_OF_WEEK), 0x07); /* 2030-06-15 is a Saturday */
	CHECK_EQ(rtc->base_sec, 1907740800);

	/* A byte written while running moves the clock, keeping its phase. */
	u64 phase = (fake_now - rtc->base_ns) % NS;
	cmos_write(RTC_MINUTES, 0x45);
	CHECK_EQ(cmos_read(RTC_MINUTES), 0x45);
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x02);
	CHECK_EQ((fake_now - rtc->base_ns) % NS, phase);
	/* A value that is no time (minute 0x61) is not kept. */
	cmos_write(RTC_MINUTES, 0x61);
	CHECK_EQ(cmos_read(RTC_MINUTES), 0x45);
	/* Stopped with a bad value: runs on from where it stopped. */
	cmos_write(RTC_REG_B, b | RTC_B_SET);
	cmos_write(RTC_MONTH, 0x13);
	cmos_write(RTC_REG_B, b);
	CHECK_EQ(cmos_read(RTC_MONTH), 0x06);
	CHECK_EQ(cmos_read(RTC_MINUTES), 0x45);
	rtc_cmos_destroy(rtc);
}

TEST(update_ended_interrupt)
{
	struct rtc_cmos *rtc = setup();
	u64 start = fake_now, next;

	CHECK_EQ(rtc_next_event_ns(rtc), RTC_NO_EVENT);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	next = rtc_next_event_ns(rtc);
	CHECK_EQ(next, start + NS);
	rtc_update(rtc, next - 1);
	CHECK_EQ(rises, 0);
	rtc_update(rtc, next);
	CHECK_EQ(rises, 1);
	CHECK(level);
	CHECK_EQ(rtc_next_event_ns(rtc), RTC_NO_EVENT); /* up until C is read */
	/* PF follows the rate in A (1024 Hz) whether or not PIE is set. */
	CHECK_EQ(cmos_read(RTC_REG_C), RTC_C_IRQF | RTC_C_UF | RTC_C_PF);
	CHECK(!level);
	CHECK_EQ(cmos_read(RTC_REG_C), 0);
	CHECK_EQ(rtc_next_event_ns(rtc), start + 2 * NS);
	/* Flags are set without the enable, and do not raise the line. */
	cmos_write(RTC_REG_B, RTC_B_24H);
	fake_now = start + 3 * NS;
	CHECK_EQ(cmos_read(RTC_REG_C), RTC_C_UF | RTC_C_PF);
	CHECK_EQ(rises, 1);
	/* Enabling with the flag set raises the line at once. */
	fake_now = start + 4 * NS;
	rtc_update(rtc, fake_now);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	CHECK(level);
	CHECK_EQ(rises, 2);
	/* SET clears UIE. */
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
	CHECK_EQ(cmos_read(RTC_REG_B), RTC_B_24H | RTC_B_SET);
	CHECK(!level);
	rtc_cmos_destroy(rtc);
}

TEST(alarm_interrupt)
{
	struct rtc_cmos *rtc = setup();
	u64 start = fake_now;

	cmos_write(RTC_SECONDS_ALARM, 0x00);
	cmos_write(RTC_MINUTES_ALARM, 0x35);
	cmos_write(RTC_HOURS_ALARM, RTC_ALARM_DONT_CARE);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	CHECK_EQ(rtc_next_event_ns(rtc), start + 4 * NS); /* 12:35:00 */
	rtc_update(rtc, start + 4 * NS);
	CHECK(level);
	CHECK_EQ(cmos_read(RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF | RTC_C_PF);
	/* Next: 13:35:00, an hour on. */
	CHECK_EQ(rtc_next_event_ns(rtc), start + (4 + 3600) * NS);
	/* Every second of every minute (all don't care). */
	cmos_write(RTC_SECONDS_ALARM, 0xff);
	cmos_write(RTC_MINUTES_ALARM, 0xc0);
	CHECK_EQ(rtc_next_event_ns(rtc), start + 5 * NS);
	/* 13:00:30 in 12-hour BCD form: 1 PM. */
	cmos_write(RTC_REG_B, RTC_B_AIE);
	cmos_write(RTC_HOURS_ALARM, 0x81);
	cmos_write(RTC_MINUTES_ALARM, 0x00);
	cmos_write(RTC_SECONDS_ALARM, 0x30);
	CHECK_EQ(rtc_next_event_ns(rtc), start + (4 + 25 * 60 + 30) * NS);
	/* A byte that can never match: no alarm. */
	cmos_write(RTC_SECONDS_ALARM, 0x60);
	CHECK_EQ(rtc_next_event_ns(rtc), RTC_NO_EVENT);
	rtc_cmos_destroy(rtc);
}

TEST(periodic_interrupt)
{
	struct rtc_cmos *rtc = setup();
	u64 start = fake_now;

	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE); /* A = 0x26: 1024 Hz */
	CHECK_EQ(rtc_next_event_ns(rtc), start + 976563); /* 976562.5 ns */
	rtc_update(rtc, start + 976562);
	CHECK_EQ(rises, 0);
	rtc_update(rtc, start + 976563);
	CHECK_EQ(rises, 1);
	CHECK_EQ(cmos_read(RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
	CHECK_EQ(rtc_next_event_ns(rtc), start + 1953125);
	/* Rate 15: 2 Hz. Rate 0: off. */
	cmos_write(RTC_REG_A, 0x2f);
	CHECK_EQ(rtc_next_event_ns(rtc), start + NS / 2);
	cmos_write(RTC_REG_A, 0x20);
	CHECK_EQ(rtc_next_event_ns(rtc), RTC_NO_EVENT);
	rtc_cmos_destroy(rtc);
}

TEST(cmos_ram)
{
	struct rtc_cmos *rtc = setup();
	u64 v;
	u32 sum = 0;

	/* The index port reads nothing; its bit 7 masks NMI and is not part of the index. */
	CHECK_EQ(bus_read(&pio, 0x70, 1, &v), 0);
	CHECK_EQ(v, 0xff);
	cmos_write(0x80 | CMOS_SHUTDOWN_STATUS, 0x0a);
	CHECK(rtc->nmi_disabled);
	CHECK_EQ(cmos_read(CMOS_SHUTDOWN_STATUS), 0x0a);
	CHECK(!rtc->nmi_disabled);
	cmos_write(0x7f, 0x5a);
	CHECK_EQ(cmos_read(0x7f), 0x5a);
	/* C and D ignore writes. */
	cmos_write(RTC_REG_D, 0);
	CHECK_EQ(cmos_read(RTC_REG_D), RTC_D_VRT);

	rtc_cmos_set_memory(rtc, 256ULL << 20, 0);
	CHECK_EQ(cmos_read(0x15), 0x80);
	CHECK_EQ(cmos_read(0x16), 0x02); /* 640 KiB */
	CHECK_EQ(cmos_read(0x17), 0xff);
	CHECK_EQ(cmos_read(0x18), 0xff); /* 255 MiB in KiB, capped */
	CHECK_EQ(cmos_read(0x30), 0xff);
	CHECK_EQ(cmos_read(0x31), 0xff);
	CHECK_EQ(cmos_read(0x34), 0x00);
	CHECK_EQ(cmos_read(0x35), 0x0f); /* 240 MiB / 64 KiB = 0x0f00 */
	CHECK_EQ(cmos_read(0x5b), 0);
	for (unsigned i = 0x10; i < 0x2e; i++)
		sum += cmos_read((u8)i);
	CHECK_EQ(cmos_read(0x2e) << 8 | cmos_read(0x2f), sum);

	rtc_cmos_set_memory(rtc, 0xc0000000ULL, 3ULL << 30);
	CHECK_EQ(cmos_read(0x17) | cmos_read(0x18) << 8, 0xffff);
	CHECK_EQ(cmos_read(0x34) | cmos_read(0x35) << 8, (0xc0000000 - (16 << 20)) >> 16);
	CHECK_EQ(cmos_read(0x5b), 0x00);
	CHECK_EQ(cmos_read(0x5c), 0xc0);
	CHECK_EQ(cmos_read(0x5d), 0x00);
	rtc_cmos_set_memory(rtc, 8ULL << 20, 0);
	CHECK_EQ(cmos_read(0x17) | cmos_read(0x18) << 8, 7 * 1024);
	CHECK_EQ(cmos_read(0x34) | cmos_read(0x35) << 8, 0);
	/* The clock registers are not RAM. */
	rtc_cmos_set_byte(rtc, RTC_SECONDS, 0x99);
	CHECK_EQ(cmos_read(RTC_SECONDS), 0x56);
	rtc_cmos_destroy(rtc);
}

/* A reboot, as the RESET pin: the interrupt enables in B and the flags in C
 * clear and the line falls; the time runs on, the RAM and the rest of A and B
 * stay. */
TEST(reset)
{
	struct rtc_cmos *rtc = setup();
	u64 start = fake_now;
	u8 b = RTC_B_24H | RTC_B_DM_BINARY;

	rtc_cmos_set_memory(rtc, 256ULL << 20, 0);
	cmos_write(0x40, 0x5a);
	cmos_write(RTC_REG_A, RTC_A_DV_32K | 0x0f); /* 2 Hz */
	cmos_write(RTC_SECONDS_ALARM, RTC_ALARM_DONT_CARE);
	cmos_write(RTC_MINUTES_ALARM, RTC_ALARM_DONT_CARE);
	cmos_write(RTC_HOURS_ALARM, RTC_ALARM_DONT_CARE);
	cmos_write(RTC_REG_B, b | RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	rtc_update(rtc, start + NS);
	CHECK(level);
	CHECK_EQ(rises, 1);

	fake_now = start + 3 * NS + NS / 4; /* more updates, unseen before the reset */
	rtc_cmos_reset(rtc);
	CHECK(!level);
	CHECK_EQ(cmos_read(RTC_REG_B), b);
	CHECK_EQ(cmos_read(RTC_REG_C), 0);
	CHECK_EQ(cmos_read(RTC_REG_A) & ~RTC_A_UIP, RTC_A_DV_32K | 0x0f);
	CHECK_EQ(cmos_read(RTC_SECONDS), T0 % 60 + 3); /* the clock ran on */
	CHECK_EQ(cmos_read(RTC_MINUTES), T0 / 60 % 60);
	CHECK_EQ(cmos_read(0x40), 0x5a);
	CHECK_EQ(cmos_read(0x15) | cmos_read(0x16) << 8, 640);
	CHECK_EQ(cmos_read(0x17) | cmos_read(0x18) << 8, 0xffff);
	CHECK_EQ(rtc_next_event_ns(rtc), RTC_NO_EVENT);
	rtc_update(rtc, start + 10 * NS);
	CHECK(!level);
	CHECK_EQ(rises, 1);

	/* The flags go on without the enables; enabling one raises the same line. */
	CHECK_EQ(cmos_read(RTC_REG_C), RTC_C_UF | RTC_C_AF | RTC_C_PF);
	cmos_write(RTC_REG_B, b | RTC_B_UIE);
	CHECK_EQ(rtc_next_event_ns(rtc), start + 11 * NS);
	rtc_update(rtc, start + 11 * NS);
	CHECK(level);
	CHECK_EQ(rises, 2);
	rtc_cmos_destroy(rtc);
}

int main(void)
{
	RUN(calendar_known_dates);
	RUN(calendar_every_day);
	RUN(calendar_rejects);
	RUN(time_registers_bcd_binary_12h);
	RUN(clock_runs_and_uip);
	RUN(set_time_as_linux);
	RUN(update_ended_interrupt);
	RUN(alarm_interrupt);
	RUN(periodic_interrupt);
	RUN(cmos_ram);
	RUN(reset);
	return unit_done();
}
