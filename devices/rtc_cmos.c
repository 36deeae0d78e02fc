/*
 * The MC146818A RTC and CMOS RAM (devices/rtc_cmos.h), after the Motorola
 * MC146818A data sheet and the IBM PC/AT CMOS map.
 *
 * The clock is "Unix second base_sec began at base_ns"; the time registers
 * are generated from it on each read, in the format register B asks for.
 * While updates are stopped (B.SET, or A's divider in reset) the registers
 * live in ram[] and the guest writes them; when updates resume the clock
 * restarts from what they hold.
 */
#include "devices/rtc_cmos.h"

#include "hv/mm.h"

#define NSEC_PER_SEC 1000000000ULL
#define SECS_PER_DAY 86400ULL
#define RTC_HZ 32768ULL /* the time base */

/* ---- the calendar (proleptic Gregorian, days counted from 1970-01-01) ---- */

/* Howard Hinnant's days_from_civil: March-based years make February last. */
static u64 days_from_civil(u32 y, u32 m, u32 d)
{
	u32 era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (u64)era * 146097 + doe - 719468;
}

static bool leap(u32 y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static u32 month_days(u32 y, u32 m)
{
	static const u8 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

void rtc_unix_to_time(u64 t, struct rtc_time *tm)
{
	u64 z = t / SECS_PER_DAY + 719468, era = z / 146097;
	u32 tod = (u32)(t % SECS_PER_DAY), doe = (u32)(z - era * 146097);
	u32 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	u32 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	u32 mp = (5 * doy + 2) / 153;

	tm->day = (u8)(doy - (153 * mp + 2) / 5 + 1);
	tm->month = (u8)(mp < 10 ? mp + 3 : mp - 9);
	tm->year = (u32)(era * 400 + yoe + (tm->month <= 2));
	tm->hour = (u8)(tod / 3600);
	tm->min = (u8)(tod / 60 % 60);
	tm->sec = (u8)(tod % 60);
	tm->wday = (u8)((t / SECS_PER_DAY + 4) % 7); /* 1970-01-01 was a Thursday */
}

int rtc_time_to_unix(const struct rtc_time *tm, u64 *t)
{
	if (tm->year < 1970 || tm->year > 999999 || tm->month < 1 || tm->month > 12 ||
	    tm->day < 1 || tm->day > month_days(tm->year, tm->month) || tm->hour > 23 ||
	    tm->min > 59 || tm->sec > 59)
		return -EINVAL;
	*t = days_from_civil(tm->year, tm->month, tm->day) * SECS_PER_DAY + tm->hour * 3600u +
	     tm->min * 60u + tm->sec;
	return 0;
}

/* ---- register formats ---- */

static bool binary(const struct rtc_cmos *rtc)
{
	return rtc->ram[RTC_REG_B] & RTC_B_DM_BINARY;
}

static u8 enc(const struct rtc_cmos *rtc, u32 v)
{
	return (u8)(binary(rtc) ? v : (v / 10 % 10) << 4 | v % 10);
}

/* A register value back to binary; -EINVAL for a digit over 9. */
static int dec(const struct rtc_cmos *rtc, u8 v, u32 *out)
{
	if (binary(rtc)) {
		*out = v;
		return 0;
	}
	if ((v & 0xf) > 9 || v >> 4 > 9)
		return -EINVAL;
	*out = (v >> 4) * 10u + (v & 0xf);
	return 0;
}

static u8 enc_hour(const struct rtc_cmos *rtc, u32 h)
{
	if (rtc->ram[RTC_REG_B] & RTC_B_24H)
		return enc(rtc, h);
	return enc(rtc, h % 12 ? h % 12 : 12) | (h >= 12 ? RTC_HOUR_PM : 0);
}

static int dec_hour(const struct rtc_cmos *rtc, u8 v, u32 *h)
{
	u32 h12;

	if (rtc->ram[RTC_REG_B] & RTC_B_24H)
		return dec(rtc, v, h);
	if (dec(rtc, v & ~RTC_HOUR_PM, &h12) || h12 < 1 || h12 > 12)
		return -EINVAL;
	*h = h12 % 12 + (v & RTC_HOUR_PM ? 12 : 0);
	return 0;
}

static bool clock_reg(u8 idx)
{
	return idx == RTC_SECONDS || idx == RTC_MINUTES || idx == RTC_HOURS ||
	       (idx >= RTC_DAY_OF_WEEK && idx <= RTC_YEAR) || idx == RTC_CENTURY;
}

static void put_clock_regs(struct rtc_cmos *rtc, u64 sec)
{
	struct rtc_time tm;

	rtc_unix_to_time(sec, &tm);
	rtc->ram[RTC_SECONDS] = enc(rtc, tm.sec);
	rtc->ram[RTC_MINUTES] = enc(rtc, tm.min);
	rtc->ram[RTC_HOURS] = enc_hour(rtc, tm.hour);
	rtc->ram[RTC_DAY_OF_WEEK] = enc(rtc, tm.wday + 1u);
	rtc->ram[RTC_DAY_OF_MONTH] = enc(rtc, tm.day);
	rtc->ram[RTC_MONTH] = enc(rtc, tm.month);
	rtc->ram[RTC_YEAR] = enc(rtc, tm.year % 100);
	rtc->ram[RTC_CENTURY] = enc(rtc, tm.year / 100 % 100);
}

/* The time the registers hold (the day of week is not checked, as on the chip). */
static int get_clock_regs(const struct rtc_cmos *rtc, u64 *sec)
{
	struct rtc_time tm = { 0 };
	u32 s, m, h, d, mo, y, c;

	if (dec(rtc, rtc->ram[RTC_SECONDS], &s) || dec(rtc, rtc->ram[RTC_MINUTES], &m) ||
	    dec_hour(rtc, rtc->ram[RTC_HOURS], &h) || dec(rtc, rtc->ram[RTC_DAY_OF_MONTH], &d) ||
	    dec(rtc, rtc->ram[RTC_MONTH], &mo) || dec(rtc, rtc->ram[RTC_YEAR], &y) ||
	    dec(rtc, rtc->ram[RTC_CENTURY], &c) || y > 99 || c > 99)
		return -EINVAL;
	tm.year = c * 100 + y;
	tm.month = (u8)MIN(mo, 0xffu);
	tm.day = (u8)MIN(d, 0xffu);
	tm.hour = (u8)h;
	tm.min = (u8)MIN(m, 0xffu);
	tm.sec = (u8)MIN(s, 0xffu);
	return rtc_time_to_unix(&tm, sec);
}

/* ---- the clock ---- */

static u64 ns_to_ticks(u64 ns, u64 hz)
{
	return ns / NSEC_PER_SEC * hz + ns % NSEC_PER_SEC * hz / NSEC_PER_SEC;
}

static u64 ticks_to_ns(u64 ticks, u64 hz)
{
	return ticks / hz * NSEC_PER_SEC + (ticks % hz * NSEC_PER_SEC + hz - 1) / hz;
}

static u64 wall_sec(const struct rtc_cmos *rtc, u64 now)
{
	if (rtc->stopped)
		return rtc->stopped_sec;
	return rtc->base_sec + (now > rtc->base_ns ? (now - rtc->base_ns) / NSEC_PER_SEC : 0);
}

static u64 sec_start_ns(const struct rtc_cmos *rtc, u64 sec)
{
	return rtc->base_ns + (sec - rtc->base_sec) * NSEC_PER_SEC;
}

static bool divider_reset(const struct rtc_cmos *rtc)
{
	return (rtc->ram[RTC_REG_A] & RTC_A_DV_MASK) >= 0x60;
}

static bool should_stop(const struct rtc_cmos *rtc)
{
	return (rtc->ram[RTC_REG_B] & RTC_B_SET) || divider_reset(rtc);
}

/* UIP is set for the 244 us before each update (data sheet, "Update Cycle"). */
static bool uip(const struct rtc_cmos *rtc, u64 now)
{
	u64 phase;

	if (rtc->stopped)
		return false;
	phase = (now > rtc->base_ns ? now - rtc->base_ns : 0) % NSEC_PER_SEC;
	return NSEC_PER_SEC - phase <= RTC_UIP_NS;
}

/* The periodic interrupt's period in 32.768 kHz ticks; 0: off (A.RS = 0). */
static u64 periodic_ticks(const struct rtc_cmos *rtc)
{
	u32 rs = rtc->ram[RTC_REG_A] & RTC_A_RS_MASK;

	if (!rs || divider_reset(rtc))
		return 0;
	if (rs <= 2)
		rs += 7; /* rates 1 and 2 repeat 8 and 9 (256 and 128 Hz) */
	return 1ULL << (rs - 1);
}

/* Which periodic period t falls in, counted from base_ns. */
static u64 period_index(const struct rtc_cmos *rtc, u64 t, u64 period)
{
	return ns_to_ticks(t > rtc->base_ns ? t - rtc->base_ns : 0, RTC_HZ) / period;
}

/* An alarm byte: true with *v = RTC_ALARM_ANY, or a value; false: never matches. */
#define RTC_ALARM_ANY 0xffffffffu
static bool alarm_field(const struct rtc_cmos *rtc, u8 idx, u32 limit, u32 *v)
{
	u8 raw = rtc->ram[idx];

	if ((raw & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE) {
		*v = RTC_ALARM_ANY;
		return true;
	}
	if (idx == RTC_HOURS_ALARM ? dec_hour(rtc, raw, v) : dec(rtc, raw, v))
		return false;
	return *v < limit;
}

/*
 * The first second after `after` whose time of day matches the alarm bytes,
 * or ~0 when none within a day. Comparing decoded values is the chip's byte
 * compare for the bytes it can ever match.
 */
static u64 alarm_next(const struct rtc_cmos *rtc, u64 after)
{
	u32 ha, ma, sa;
	u64 s = after + 1, end = after + 1 + SECS_PER_DAY;

	if (!alarm_field(rtc, RTC_HOURS_ALARM, 24, &ha) ||
	    !alarm_field(rtc, RTC_MINUTES_ALARM, 60, &ma) ||
	    !alarm_field(rtc, RTC_SECONDS_ALARM, 60, &sa))
		return ~0ULL;
	while (s < end) {
		u32 tod = (u32)(s % SECS_PER_DAY), h = tod / 3600, m = tod / 60 % 60, sec = tod % 60;

		if (ha != RTC_ALARM_ANY && h != ha)
			s += (u64)((ha + 24 - h) % 24) * 3600 - tod % 3600;
		else if (ma != RTC_ALARM_ANY && m != ma)
			s += ma > m ? (ma - m) * 60 - sec : 3600 - tod % 3600;
		else if (sa != RTC_ALARM_ANY && sec != sa)
			s += sa > sec ? sa - sec : 60 - sec;
		else
			return s;
	}
	return ~0ULL;
}

static void set_line(struct rtc_cmos *rtc)
{
	u8 b = rtc->ram[RTC_REG_B];
	bool level = ((rtc->flags & RTC_C_PF) && (b & RTC_B_PIE)) ||
		     ((rtc->flags & RTC_C_AF) && (b & RTC_B_AIE)) ||
		     ((rtc->flags & RTC_C_UF) && (b & RTC_B_UIE));

	if (level == rtc->irq_level)
		return;
	rtc->irq_level = level;
	if (level)
		rtc->irqs++;
	irq_set(&rtc->irq, rtc->irq_line, level);
}

/* Sets register C's flags for what happened between checked_ns and now. */
static void advance(struct rtc_cmos *rtc, u64 now)
{
	u64 s0, s1, period = periodic_ticks(rtc);

	if (now > rtc->checked_ns) {
		if (!rtc->stopped) {
			s0 = wall_sec(rtc, rtc->checked_ns);
			s1 = wall_sec(rtc, now);
			if (s1 > s0) {
				rtc->flags |= RTC_C_UF;
				if (alarm_next(rtc, s0) <= s1)
					rtc->flags |= RTC_C_AF;
			}
		}
		if (period && period_index(rtc, now, period) > period_index(rtc, rtc->checked_ns, period))
			rtc->flags |= RTC_C_PF;
		rtc->checked_ns = now;
	}
	set_line(rtc);
}

/* Stops or restarts updates after A or B changed. */
static void sync_running(struct rtc_cmos *rtc, u64 now)
{
	bool stop = should_stop(rtc);
	u64 sec;

	if (stop == rtc->stopped)
		return;
	if (stop) {
		put_clock_regs(rtc, wall_sec(rtc, now));
		rtc->stopped_sec = wall_sec(rtc, now);
		rtc->stopped = true;
		return;
	}
	/* The clock runs on from what the guest wrote (or from where it stopped). */
	if (get_clock_regs(rtc, &sec))
		sec = rtc->stopped_sec;
	rtc->base_sec = sec;
	rtc->base_ns = now;
	rtc->stopped = false;
}

static u8 read_reg(struct rtc_cmos *rtc, u8 idx, u64 now)
{
	u8 v;

	switch (idx) {
	case RTC_REG_A:
		return (rtc->ram[RTC_REG_A] & ~RTC_A_UIP) | (uip(rtc, now) ? RTC_A_UIP : 0);
	case RTC_REG_C:
		v = rtc->flags | (rtc->irq_level ? RTC_C_IRQF : 0);
		rtc->flags = 0;
		set_line(rtc);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		if (clock_reg(idx) && !rtc->stopped)
			put_clock_regs(rtc, wall_sec(rtc, now));
		return rtc->ram[idx];
	}
}

static void write_reg(struct rtc_cmos *rtc, u8 idx, u8 v, u64 now)
{
	u64 sec;

	switch (idx) {
	case RTC_REG_A:
		rtc->ram[RTC_REG_A] = v & ~RTC_A_UIP;
		sync_running(rtc, now);
		break;
	case RTC_REG_B:
		if (v & RTC_B_SET)
			v &= ~RTC_B_UIE; /* SET going high clears UIE (data sheet, register B) */
		rtc->ram[RTC_REG_B] = v;
		sync_running(rtc, now);
		set_line(rtc);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		if (!clock_reg(idx) || rtc->stopped) {
			rtc->ram[idx] = v;
			break;
		}
		/* Written while running: the clock goes on from the new time, in
		 * the same phase. A value that is no time is not kept. */
		put_clock_regs(rtc, wall_sec(rtc, now));
		rtc->ram[idx] = v;
		if (get_clock_regs(rtc, &sec) == 0) {
			rtc->base_ns = now - (now - rtc->base_ns) % NSEC_PER_SEC;
			rtc->base_sec = sec;
		}
		break;
	}
}

static u64 now_of(struct rtc_cmos *rtc)
{
	return rtc->now_ns(rtc->clock_ctx);
}

static int rtc_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct rtc_cmos *rtc = dev;
	u64 now;
	u8 v = 0xff; /* the index register is write-only */

	if (size != 1 || offset >= RTC_NR_PORTS) {
		*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
		return 0;
	}
	spin_lock(&rtc->lock);
	if (offset == 1) {
		now = now_of(rtc);
		advance(rtc, now);
		v = read_reg(rtc, rtc->index, now);
	}
	spin_unlock(&rtc->lock);
	*val = v;
	return 0;
}

static int rtc_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct rtc_cmos *rtc = dev;
	u64 now;

	if (size != 1 || offset >= RTC_NR_PORTS)
		return 0;
	spin_lock(&rtc->lock);
	if (offset == 0) {
		rtc->index = (u8)val & (CMOS_SIZE - 1);
		rtc->nmi_disabled = val & RTC_INDEX_NMI_DISABLE;
	} else {
		now = now_of(rtc);
		advance(rtc, now);
		write_reg(rtc, rtc->index, (u8)val, now);
	}
	spin_unlock(&rtc->lock);
	return 0;
}

const struct io_ops rtc_cmos_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

struct rtc_cmos *rtc_cmos_create(u64 (*now_ns)(void *ctx), u64 (*unix_seconds)(void *ctx),
				 void *clock_ctx, const struct irq_sink *irq)
{
	struct rtc_cmos *rtc;

	if (!now_ns || !unix_seconds)
		return NULL;
	rtc = kzalloc(sizeof(*rtc));
	if (!rtc)
		return NULL;
	rtc->now_ns = now_ns;
	rtc->clock_ctx = clock_ctx;
	if (irq)
		rtc->irq = *irq;
	rtc->irq_line = RTC_IRQ;
	rtc->ram[RTC_REG_A] = RTC_A_DV_32K | 0x06; /* 1024 Hz periodic rate selected, not enabled */
	rtc->ram[RTC_REG_B] = RTC_B_24H;
	rtc->base_sec = unix_seconds(clock_ctx);
	rtc->base_ns = now_ns(clock_ctx);
	rtc->checked_ns = rtc->base_ns;
	put_clock_regs(rtc, rtc->base_sec);
	return rtc;
}

void rtc_cmos_destroy(struct rtc_cmos *rtc)
{
	kfree(rtc);
}

/*
 * The RESET pin (data sheet, "RESET"): PIE, AIE, UIE and SQWE clear in
 * register B, IRQF, PF, AF and UF in register C, and IRQ goes high-impedance
 * (the line falls). The clock, the calendar, the rest of B (SET, DM, 24/12)
 * and the RAM are not affected: the PC's RTC runs on its battery.
 */
void rtc_cmos_reset(struct rtc_cmos *rtc)
{
	u64 now;

	spin_lock(&rtc->lock);
	now = now_of(rtc);
	/* Flags for what happened before the reset are cleared, not set later. */
	rtc->checked_ns = MAX(rtc->checked_ns, now);
	rtc->ram[RTC_REG_B] &= (u8)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	rtc->flags = 0;
	set_line(rtc);
	spin_unlock(&rtc->lock);
}

void rtc_cmos_set_byte(struct rtc_cmos *rtc, u8 index, u8 val)
{
	if (index >= CMOS_SIZE || index <= RTC_REG_D || clock_reg(index))
		return;
	spin_lock(&rtc->lock);
	rtc->ram[index] = val;
	spin_unlock(&rtc->lock);
}

static void put16(struct rtc_cmos *rtc, u8 idx, u32 v)
{
	rtc->ram[idx] = (u8)v;
	rtc->ram[idx + 1] = (u8)(v >> 8);
}

void rtc_cmos_set_memory(struct rtc_cmos *rtc, u64 ram_below_4g, u64 ram_above_4g)
{
	u64 ext = ram_below_4g > (1ULL << 20) ? (ram_below_4g - (1ULL << 20)) >> 10 : 0;
	u64 above16 = ram_below_4g > (16ULL << 20) ? (ram_below_4g - (16ULL << 20)) >> 16 : 0;
	u64 above4g = MIN(ram_above_4g >> 16, 0xffffffULL);
	u32 sum = 0;

	spin_lock(&rtc->lock);
	put16(rtc, CMOS_BASE_MEM_KB, 640);
	put16(rtc, CMOS_EXT_MEM_KB, (u32)MIN(ext, 0xffffULL));
	put16(rtc, CMOS_EXT_MEM_KB_POST, (u32)MIN(ext, 0xffffULL));
	put16(rtc, CMOS_MEM_ABOVE_16M, (u32)MIN(above16, 0xffffULL));
	rtc->ram[CMOS_MEM_ABOVE_4G] = (u8)above4g;
	rtc->ram[CMOS_MEM_ABOVE_4G + 1] = (u8)(above4g >> 8);
	rtc->ram[CMOS_MEM_ABOVE_4G + 2] = (u8)(above4g >> 16);
	/* The AT checksum covers 0x10-0x2d and is stored high byte first. */
	for (unsigned i = 0x10; i < CMOS_CHECKSUM; i++)
		sum += rtc->ram[i];
	rtc->ram[CMOS_CHECKSUM] = (u8)(sum >> 8);
	rtc->ram[CMOS_CHECKSUM + 1] = (u8)sum;
	spin_unlock(&rtc->lock);
}

u64 rtc_next_event_ns(struct rtc_cmos *rtc)
{
	u64 t = RTC_NO_EVENT, s, a, period, k;
	u8 b;

	spin_lock(&rtc->lock);
	b = rtc->ram[RTC_REG_B];
	if (rtc->irq_level)
		goto out; /* the line is up until register C is read */
	if (!rtc->stopped) {
		s = wall_sec(rtc, rtc->checked_ns);
		if ((b & RTC_B_UIE) && !(rtc->flags & RTC_C_UF))
			t = sec_start_ns(rtc, s + 1);
		if ((b & RTC_B_AIE) && !(rtc->flags & RTC_C_AF)) {
			a = alarm_next(rtc, s);
			if (a != ~0ULL)
				t = MIN(t, sec_start_ns(rtc, a));
		}
	}
	period = periodic_ticks(rtc);
	if ((b & RTC_B_PIE) && period && !(rtc->flags & RTC_C_PF)) {
		k = period_index(rtc, rtc->checked_ns, period) + 1;
		t = MIN(t, rtc->base_ns + ticks_to_ns(k * period, RTC_HZ));
	}
out:
	spin_unlock(&rtc->lock);
	return t;
}

void rtc_update(struct rtc_cmos *rtc, u64 now)
{
	spin_lock(&rtc->lock);
	advance(rtc, now);
	spin_unlock(&rtc->lock);
}
