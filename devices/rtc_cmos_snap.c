/*
 * The MC146818A's snapshot payload (docs/snapshot.md, "rtc_cmos"): the index
 * register, the 128 bytes of CMOS RAM, the clock's base (a Unix second and
 * the VM-clock nanosecond it began at, which a restore continues, so the
 * guest's time of day runs on), the stopped state, register C's flags and
 * the line. The clock function and the irq sink stay the device's own.
 */
#include "devices/rtc_cmos.h"

#include "hv/snapshot.h"
#include "lib/string.h"

#define RTC_SNAP_VERSION 1
/* 9999-12-31 23:59:59 UTC: the latest time the year and century bytes can
 * hold; a base past it is no time the guest could have set. */
#define RTC_SNAP_MAX_SEC 253402300799ULL

int rtc_cmos_save(const struct rtc_cmos *d, struct snap_writer *w)
{
	struct rtc_cmos *rtc = (struct rtc_cmos *)d; /* the lock only */

	spin_lock(&rtc->lock);
	snap_put_u16(w, RTC_SNAP_VERSION);
	snap_put_u8(w, rtc->index);
	snap_put_bool(w, rtc->nmi_disabled);
	snap_put_bytes(w, rtc->ram, CMOS_SIZE);
	snap_put_u64(w, rtc->base_sec);
	snap_put_u64(w, rtc->base_ns);
	snap_put_bool(w, rtc->stopped);
	snap_put_u64(w, rtc->stopped_sec);
	snap_put_u8(w, rtc->flags);
	snap_put_u64(w, rtc->checked_ns);
	snap_put_bool(w, rtc->irq_level);
	snap_put_u64(w, rtc->irqs);
	spin_unlock(&rtc->lock);
	return snap_writer_error(w);
}

int rtc_cmos_load(struct rtc_cmos *d, struct snap_cursor *c)
{
	u8 ram[CMOS_SIZE], index, flags;
	u64 base_sec, base_ns, stopped_sec, checked_ns, irqs;
	bool nmi_disabled, stopped, irq_level;

	if (snap_get_u16(c) != RTC_SNAP_VERSION)
		return -EINVAL;
	index = snap_get_u8(c);
	nmi_disabled = snap_get_bool(c);
	snap_get_bytes(c, ram, sizeof(ram));
	base_sec = snap_get_u64(c);
	base_ns = snap_get_u64(c);
	stopped = snap_get_bool(c);
	stopped_sec = snap_get_u64(c);
	flags = snap_get_u8(c);
	checked_ns = snap_get_u64(c);
	irq_level = snap_get_bool(c);
	irqs = snap_get_u64(c);
	if (!snap_cursor_done(c) || index >= CMOS_SIZE ||
	    (flags & ~(RTC_C_PF | RTC_C_AF | RTC_C_UF)) || base_sec > RTC_SNAP_MAX_SEC ||
	    stopped_sec > RTC_SNAP_MAX_SEC)
		return -EINVAL;
	spin_lock(&d->lock);
	d->index = index;
	d->nmi_disabled = nmi_disabled;
	memcpy(d->ram, ram, sizeof(ram));
	d->base_sec = base_sec;
	d->base_ns = base_ns;
	d->stopped = stopped;
	d->stopped_sec = stopped_sec;
	d->flags = flags;
	d->checked_ns = checked_ns;
	d->irq_level = irq_level;
	d->irqs = irqs;
	spin_unlock(&d->lock);
	return 0;
}
