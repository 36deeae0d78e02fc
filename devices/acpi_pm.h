/*
 * The ACPI fixed hardware registers a FADT points at (ACPI 6.5, 4.8 "ACPI
 * Hardware Features"), in one range of I/O ports:
 *
 *   base+0  PM1a_EVT_BLK: PM1_STS (2 bytes), PM1_EN (2 bytes)   4.8.3.1
 *   base+4  PM1a_CNT_BLK: PM1_CNT (2 bytes)                     4.8.3.2
 *   base+8  PM_TMR_BLK:   PM_TMR (4 bytes, read-only)           4.8.3.3
 *
 * The PM timer counts at 3.579545 MHz from the VM's clock and is 32 bits
 * wide (the FADT says TMR_VAL_EXT); TMR_STS is set each time its bit 31
 * changes. SCI_EN reads 1 and cannot be cleared: there is no SMI_CMD, so the
 * OS finds the machine in ACPI mode already. Writing SLP_EN with SLP_TYP = 5
 * (the _S5 package of the DSDT: ACPI_PM_SLP_TYP_S5) powers off through a
 * callback; other sleep types are not implemented and do nothing. The power
 * button is a fixed feature: acpi_pm_power_button() presses it, and an OS
 * that enabled PWRBTN_EN gets an SCI and shuts down.
 *
 * The reset register is a separate one-byte range, acpi_pm_rcr_ops: the
 * PIIX/ICH Reset Control Register at port 0xcf9, reached through the PCI
 * host (pci_host_set_cf9), which the FADT names as RESET_REG with RESET_VALUE
 * 0x06. Writing a value with bit 2 (RST_CPU) set resets through a callback.
 *
 * The SCI is a level, active-high line (the MADT's override for IRQ 9):
 * high while SCI_EN and an enabled status bit are both set.
 * Not implemented: PM1b blocks, PM2_CNT, GPE blocks (the FADT has none),
 * BM_STS, GBL_STS (no firmware to release the global lock), sleep states
 * other than S5 (S1-S4: SLP_EN with another type is ignored).
 */
#ifndef DEVICES_ACPI_PM_H
#define DEVICES_ACPI_PM_H

#include "hv/bus.h"
#include "hv/irq.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define ACPI_PM_BASE 0x600
#define ACPI_PM_NR_PORTS 12
#define ACPI_PM1_STS 0x00 /* offsets in the range */
#define ACPI_PM1_EN 0x02
#define ACPI_PM1_CNT 0x04
#define ACPI_PM_TMR 0x08
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_LEN 4

#define ACPI_PM_TMR_HZ 3579545ULL
#define ACPI_PM_NO_EVENT (~0ULL)
#define ACPI_SCI_IRQ 9
#define ACPI_PM_SLP_TYP_S5 5

#define ACPI_RESET_PORT 0xcf9
#define ACPI_RESET_VALUE 0x06 /* SYS_RST | RST_CPU: a hard reset */

/* PM1_STS and PM1_EN (ACPI 6.5, tables 4.16 and 4.17). */
#define ACPI_PM1_TMR_STS BIT(0)
#define ACPI_PM1_BM_STS BIT(4)
#define ACPI_PM1_GBL_STS BIT(5)
#define ACPI_PM1_PWRBTN_STS BIT(8)
#define ACPI_PM1_SLPBTN_STS BIT(9)
#define ACPI_PM1_RTC_STS BIT(10)
#define ACPI_PM1_PCIEXP_WAKE_STS BIT(14)
#define ACPI_PM1_WAK_STS BIT(15)
#define ACPI_PM1_TMR_EN BIT(0)
#define ACPI_PM1_GBL_EN BIT(5)
#define ACPI_PM1_PWRBTN_EN BIT(8)
#define ACPI_PM1_SLPBTN_EN BIT(9)
#define ACPI_PM1_RTC_EN BIT(10)
#define ACPI_PM1_PCIEXP_WAKE_DIS BIT(14)
#define ACPI_PM1_EN_MASK 0x4721
/* PM1_CNT (table 4.18). */
#define ACPI_PM1_SCI_EN BIT(0)
#define ACPI_PM1_BM_RLD BIT(1)
#define ACPI_PM1_GBL_RLS BIT(2)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK (7u << 10)
#define ACPI_PM1_SLP_EN BIT(13)

/* The Reset Control Register (PIIX4 data sheet, RC). */
#define ACPI_RCR_SYS_RST 0x02
#define ACPI_RCR_RST_CPU 0x04
#define ACPI_RCR_FULL_RST 0x08

struct acpi_pm_ops {
	u64 (*now_ns)(void *ctx);    /* the VM's monotonic clock; required */
	void (*poweroff)(void *ctx); /* SLP_EN with S5; may be NULL */
	void (*reset)(void *ctx);    /* the reset register; may be NULL */
	void *ctx;
};

struct acpi_pm {
	spinlock_t lock; /* guards everything below; not held across poweroff/reset */
	struct acpi_pm_ops ops;
	struct irq_sink irq;
	u32 sci_irq;          /* ACPI_SCI_IRQ */

	u16 sts, en, cnt;     /* PM1_CNT without SLP_EN (write-only) */
	u64 base_ns;          /* the timer read 0 here */
	u64 tmr_checked;      /* timer ticks seen: TMR_STS is up to date to here */
	bool sci_level;
	u8 rcr;               /* SYS_RST and FULL_RST as written */
};

extern const struct io_ops acpi_pm_ops;     /* ACPI_PM_BASE, ACPI_PM_NR_PORTS */
extern const struct io_ops acpi_pm_rcr_ops; /* one byte: port 0xcf9, via pci_host */

/* NULL when out of memory or without ops->now_ns. ops and irq (may be NULL) are copied. */
struct acpi_pm *acpi_pm_create(const struct acpi_pm_ops *ops, const struct irq_sink *irq);
void acpi_pm_destroy(struct acpi_pm *pm);

/* Snapshot (docs/snapshot.md, "Device payloads"), in acpi_pm_snap.c: save writes
 * the state into the writer's open section; load reads it back, refusing an
 * impossible value with -EINVAL and the device unchanged. Callbacks, clock and
 * irq sink are not state: a load keeps the device's own. */
struct snap_writer;
struct snap_cursor;
int acpi_pm_save(const struct acpi_pm *d, struct snap_writer *w);
int acpi_pm_load(struct acpi_pm *d, struct snap_cursor *c);
/* A reboot: PM1_STS, PM1_EN and the reset register cleared (there are no GPE
 * blocks), PM1_CNT as created (SCI_EN set: no SMI_CMD to switch modes), the
 * SCI lowered. The PM timer keeps counting from the same base, as the VM's
 * clock it follows does not restart; ops and the irq sink are the owner's. */
void acpi_pm_reset(struct acpi_pm *pm);

/* Presses the power button (sets PWRBTN_STS). */
void acpi_pm_power_button(struct acpi_pm *pm);
/* When TMR_STS next sets with TMR_EN on (an SCI), or ACPI_PM_NO_EVENT. */
u64 acpi_pm_next_event_ns(struct acpi_pm *pm);
void acpi_pm_update(struct acpi_pm *pm, u64 now);

#endif
