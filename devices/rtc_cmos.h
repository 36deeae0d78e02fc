/*
 * A virtual MC146818A real-time clock and its CMOS RAM, as on a PC: the
 * index register at port 0x70 (bit 7 masks NMI), the data register at 0x71,
 * the interrupt on ISA IRQ 8.
 *
 * The time of day is the host's wall clock: at creation the device asks
 * unix_seconds() once and runs on from there on the VM's monotonic clock
 * now_ns, its second boundaries counted from that moment. The guest may set
 * it (the offset is the VM's alone). Nothing ticks: the registers are
 * computed when read, and the interrupt flags when the guest looks or when
 * the core calls rtc_update() at the time rtc_next_event_ns() named.
 *
 * Implemented: seconds..year and the century byte (0x32) in BCD or binary
 * and 24- or 12-hour form as register B says, the SET bit and divider reset
 * (the clock stops, the guest writes the time, it runs from there), UIP for
 * the 244 us before each update, update-ended, alarm (with "don't care"
 * values) and periodic interrupts, register C's flags cleared by reading it,
 * register D's valid-RAM bit, 128 bytes of CMOS RAM with the PC's memory
 * size fields. Not implemented: daylight saving (B bit 0), the square-wave
 * output, the time bases other than 32.768 kHz (any divider other than the
 * two reset values runs at the normal rate), the extended bank at 0x72/0x73.
 */
#ifndef DEVICES_RTC_CMOS_H
#define DEVICES_RTC_CMOS_H

#include "hv/bus.h"
#include "hv/irq.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define RTC_BASE 0x70
#define RTC_NR_PORTS 2 /* 0x70 index (write-only), 0x71 data */
#define RTC_IRQ 8
#define RTC_NO_EVENT (~0ULL)
#define CMOS_SIZE 128

#define RTC_INDEX_NMI_DISABLE 0x80

/* Registers by index (MC146818A data sheet, "Address Map"). */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06  /* 1-7, Sunday = 1 */
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09         /* 0-99 */
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
/* The PC/AT's CMOS RAM map. */
#define CMOS_SHUTDOWN_STATUS 0x0f
#define CMOS_BASE_MEM_KB 0x15     /* 2 bytes, little-endian: 640 */
#define CMOS_EXT_MEM_KB 0x17      /* 2 bytes: KiB from 1 MiB, up to 0xffff */
#define CMOS_CHECKSUM 0x2e        /* 2 bytes, big-endian: sum of 0x10-0x2d */
#define CMOS_EXT_MEM_KB_POST 0x30 /* 2 bytes: as 0x17 */
#define RTC_CENTURY 0x32          /* the FADT's CENTURY field names it */
#define CMOS_MEM_ABOVE_16M 0x34   /* 2 bytes: 64 KiB units from 16 MiB to 4 GiB */
#define CMOS_MEM_ABOVE_4G 0x5b    /* 3 bytes: 64 KiB units above 4 GiB */

#define RTC_A_UIP 0x80      /* update in progress (read-only) */
#define RTC_A_DV_MASK 0x70  /* divider: 010 runs at 32.768 kHz, 11x holds it in reset */
#define RTC_A_DV_32K 0x20
#define RTC_A_RS_MASK 0x0f  /* periodic rate select */
#define RTC_B_SET 0x80      /* stop updates: the guest sets the time */
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_B_DSE 0x01
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80
#define RTC_HOUR_PM 0x80         /* 12-hour mode */
#define RTC_ALARM_DONT_CARE 0xc0 /* an alarm byte with both top bits set matches any value */

#define RTC_UIP_NS 244000ULL

/* A calendar time, UTC. */
struct rtc_time {
	u32 year;   /* 1970.. */
	u8 month;   /* 1-12 */
	u8 day;     /* 1-31 */
	u8 hour;    /* 0-23 */
	u8 min, sec;
	u8 wday;    /* 0-6, Sunday = 0; ignored by rtc_time_to_unix() */
};

void rtc_unix_to_time(u64 t, struct rtc_time *tm);
/* -EINVAL when a field is out of range (a day past the month's end, a year
 * before 1970); else 0 with *t set. */
int rtc_time_to_unix(const struct rtc_time *tm, u64 *t);

struct rtc_cmos {
	spinlock_t lock; /* guards everything below */

	u64 (*now_ns)(void *ctx);
	void *clock_ctx;
	struct irq_sink irq;
	u32 irq_line;          /* RTC_IRQ */

	u8 index;
	bool nmi_disabled;     /* index bit 7 as last written */
	u8 ram[CMOS_SIZE];     /* A, B, the alarms, RAM; the time bytes while stopped */

	/* The clock: Unix second base_sec began at base_ns (now_ns clock). */
	u64 base_sec, base_ns;
	bool stopped;          /* B.SET or a divider reset: ram[] holds the time */
	u64 stopped_sec;       /* the time when it stopped */

	u8 flags;              /* register C's PF, AF, UF */
	u64 checked_ns;        /* flags are up to date to here */
	bool irq_level;
	u64 irqs;              /* rises of the line */
};

extern const struct io_ops rtc_cmos_ops; /* RTC_BASE, RTC_NR_PORTS */

/* NULL when out of memory. unix_seconds is called once, now. irq may be NULL;
 * it is copied. Register A is 0x26, B 0x02 (24-hour, BCD), as a BIOS leaves them. */
struct rtc_cmos *rtc_cmos_create(u64 (*now_ns)(void *ctx), u64 (*unix_seconds)(void *ctx),
				 void *clock_ctx, const struct irq_sink *irq);
void rtc_cmos_destroy(struct rtc_cmos *rtc);

/* Snapshot (docs/snapshot.md, "Device payloads"), in rtc_cmos_snap.c: save writes
 * the state into the writer's open section; load reads it back, refusing an
 * impossible value with -EINVAL and the device unchanged. Callbacks, clock and
 * irq sink are not state: a load keeps the device's own. */
struct snap_writer;
struct snap_cursor;
int rtc_cmos_save(const struct rtc_cmos *d, struct snap_writer *w);
int rtc_cmos_load(struct rtc_cmos *d, struct snap_cursor *c);
/* A reboot, as the MC146818A's RESET pin: clears PIE, AIE, UIE, SQWE in B
 * and register C's flags, lowers the line. The time of day runs on and the
 * CMOS RAM (memory sizes included) is kept, battery-backed on a PC; now_ns,
 * the irq sink and the index register stay too. */
void rtc_cmos_reset(struct rtc_cmos *rtc);

/* A CMOS RAM byte as firmware would leave it (index < 128, not a clock register). */
void rtc_cmos_set_byte(struct rtc_cmos *rtc, u8 index, u8 val);
/* The memory size fields (0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5b-0x5d) and the
 * checksum at 0x2e-0x2f, as SeaBIOS and the PC/AT BIOS fill them. */
void rtc_cmos_set_memory(struct rtc_cmos *rtc, u64 ram_below_4g, u64 ram_above_4g);

/* When the line next rises (absolute, now_ns clock), or RTC_NO_EVENT. */
u64 rtc_next_event_ns(struct rtc_cmos *rtc);
/* Brings the interrupt flags up to now and sets the line. */
void rtc_update(struct rtc_cmos *rtc, u64 now);

#endif
