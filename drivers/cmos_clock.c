/*
 * Reads the MC146818-compatible RTC at ports 0x70/0x71: waits for the end of
 * an update cycle (status A bit 7, UIP), reads the time registers twice until
 * they agree, and converts from BCD unless status B bit 2 says binary.
 */
#include "drivers/cmos_clock.h"
#include "devices/rtc_cmos.h"
#include "asm/io.h"

static u8 cmos_read(u8 index)
{
	outb(0x70, index); /* NMI stays enabled: bit 7 clear */
	return inb(0x71);
}

static void read_time(struct rtc_time *t, bool binary, bool h24)
{
	u8 raw[7];
	static const u8 regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };

	for (int i = 0; i < 7; i++) {
		u8 b = cmos_read(regs[i]);
		u8 pm = i == 2 && !h24 ? b & 0x80 : 0;

		b &= i == 2 ? 0x7f : 0xff;
		raw[i] = binary ? b : (u8)((b >> 4) * 10 + (b & 0xf));
		if (i == 2 && !h24)
			raw[i] = (u8)(raw[i] % 12 + (pm ? 12 : 0));
	}
	t->sec = raw[0];
	t->min = raw[1];
	t->hour = raw[2];
	t->day = raw[3];
	t->month = raw[4];
	/* The century register (0x32) is not standard: trust it only if sane. */
	t->year = (raw[6] >= 19 && raw[6] <= 21 ? raw[6] * 100 : 2000) + raw[5];
}

u64 cmos_clock_read_unix(void)
{
	u8 b = cmos_read(0x0b);
	bool binary = b & 0x04, h24 = b & 0x02;
	struct rtc_time t1, t2;
	u64 unix_time = 0;

	for (int tries = 0; tries < 5; tries++) {
		for (int spin = 0; spin < 100000 && (cmos_read(0x0a) & 0x80); spin++)
			;
		read_time(&t1, binary, h24);
		read_time(&t2, binary, h24);
		if (t1.sec == t2.sec && t1.min == t2.min && t1.hour == t2.hour &&
		    t1.day == t2.day && t1.month == t2.month && t1.year == t2.year)
			break;
	}
	if (rtc_time_to_unix(&t2, &unix_time))
		return 0;
	return unix_time;
}
