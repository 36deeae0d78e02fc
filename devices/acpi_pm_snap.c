/*
 * The ACPI PM registers' snapshot payload (docs/snapshot.md, "acpi_pm"):
 * PM1 status, enable and control, the PM timer's base on the VM's clock
 * (which a restore continues, so the timer reads on), the SCI level and the
 * reset register. The clock, poweroff and reset callbacks and the irq sink
 * stay the device's own.
 */
#include "devices/acpi_pm.h"

#include "hv/snapshot.h"

#define ACPI_PM_SNAP_VERSION 1
#define ACPI_PM1_STS_BITS (ACPI_PM1_TMR_STS | ACPI_PM1_BM_STS | ACPI_PM1_GBL_STS | \
			   ACPI_PM1_PWRBTN_STS | ACPI_PM1_SLPBTN_STS | ACPI_PM1_RTC_STS | \
			   ACPI_PM1_PCIEXP_WAKE_STS | ACPI_PM1_WAK_STS)
#define ACPI_PM1_CNT_BITS (ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)

int acpi_pm_save(const struct acpi_pm *d, struct snap_writer *w)
{
	struct acpi_pm *pm = (struct acpi_pm *)d; /* the lock only */

	spin_lock(&pm->lock);
	snap_put_u16(w, ACPI_PM_SNAP_VERSION);
	snap_put_u16(w, pm->sts);
	snap_put_u16(w, pm->en);
	snap_put_u16(w, pm->cnt);
	snap_put_u64(w, pm->base_ns);
	snap_put_u64(w, pm->tmr_checked);
	snap_put_bool(w, pm->sci_level);
	snap_put_u8(w, pm->rcr);
	spin_unlock(&pm->lock);
	return snap_writer_error(w);
}

int acpi_pm_load(struct acpi_pm *d, struct snap_cursor *c)
{
	u16 sts, en, cnt;
	u64 base_ns, tmr_checked;
	bool sci_level;
	u8 rcr;

	if (snap_get_u16(c) != ACPI_PM_SNAP_VERSION)
		return -EINVAL;
	sts = snap_get_u16(c);
	en = snap_get_u16(c);
	cnt = snap_get_u16(c);
	base_ns = snap_get_u64(c);
	tmr_checked = snap_get_u64(c);
	sci_level = snap_get_bool(c);
	rcr = snap_get_u8(c);
	/* SCI_EN cannot be cleared (there is no SMI_CMD); SLP_EN is write-only. */
	if (!snap_cursor_done(c) || (sts & ~ACPI_PM1_STS_BITS) || (en & ~ACPI_PM1_EN_MASK) ||
	    (cnt & ~ACPI_PM1_CNT_BITS) || !(cnt & ACPI_PM1_SCI_EN) ||
	    (rcr & ~(ACPI_RCR_SYS_RST | ACPI_RCR_FULL_RST)))
		return -EINVAL;
	spin_lock(&d->lock);
	d->sts = sts;
	d->en = en;
	d->cnt = cnt;
	d->base_ns = base_ns;
	d->tmr_checked = tmr_checked;
	d->sci_level = sci_level;
	d->rcr = rcr;
	spin_unlock(&d->lock);
	return 0;
}
