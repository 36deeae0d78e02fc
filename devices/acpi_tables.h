/*
 * The ACPI tables a guest finds (ACPI 6.4, chapter 5 "ACPI Software
 * Programming Model"), built into a buffer that will sit at a given
 * guest-physical address:
 *
 *   RSDP  revision 2, pointing at the XSDT and, below 4 GiB, an RSDT (5.2.5)
 *   XSDT  and RSDT: the FADT and the MADT (5.2.8, 5.2.7)
 *   FADT  revision 6.4: PM1a event/control and PM timer blocks (acpi_pm),
 *         SCI on IRQ 9, RESET_REG (port 0xcf9, value 6), no SMI_CMD (the OS
 *         finds ACPI enabled), 32-bit PM timer, the RTC century index (5.2.9)
 *   FACS  (5.2.10), for the global lock; no waking vector (no S3)
 *   MADT  one enabled Processor Local APIC per vCPU (APIC ID = UID = index),
 *         one I/O APIC, overrides IRQ 0 -> GSI 2 and the SCI (level,
 *         active high), LINT1 as NMI, PCAT_COMPAT (5.2.12)
 *   DSDT  hand-assembled AML (chapter 20): \_S5 = Package {5, 5, 0, 0}, and
 *         when pci_root is set \_SB.PCI0, a PNP0A03 root bridge with its bus
 *         and I/O ranges and the MMIO window in _CRS, and a _PRT wiring each
 *         slot's INTA#-INTD# to a GSI of 16-23 (devices/pci_intx.h; 5.2.11.1,
 *         6.2.13)
 *
 * All checksums are filled in. Nothing here knows about guest memory: the
 * caller copies the buffer (or builds it in place) at gpa.
 */
#ifndef DEVICES_ACPI_TABLES_H
#define DEVICES_ACPI_TABLES_H

#include "hv/types.h"

/* Enough for every table with 255 vCPUs (about 5.8 KiB; the _PRT is 1.6). */
#define ACPI_TABLES_MAX_SIZE 8192

#define ACPI_LAPIC_ADDR 0xfee00000u
#define ACPI_IOAPIC_ADDR 0xfec00000u
#define ACPI_RTC_CENTURY 0x32

/* FADT IAPC_BOOT_ARCH (5.2.9.3, table 5.11). */
#define ACPI_IAPC_LEGACY_DEVICES BIT(0)
#define ACPI_IAPC_8042 BIT(1)
#define ACPI_IAPC_VGA_NOT_PRESENT BIT(2)
#define ACPI_IAPC_MSI_NOT_SUPPORTED BIT(3)
#define ACPI_IAPC_PCIE_ASPM_CONTROLS BIT(4)
#define ACPI_IAPC_CMOS_RTC_NOT_PRESENT BIT(5)

/* FADT flags (5.2.9, table 5.10). */
#define ACPI_FADT_WBINVD BIT(0)
#define ACPI_FADT_PROC_C1 BIT(2)
#define ACPI_FADT_PWR_BUTTON BIT(4) /* set: the power button is not a fixed feature */
#define ACPI_FADT_SLP_BUTTON BIT(5) /* set: no fixed-feature sleep button */
#define ACPI_FADT_FIX_RTC BIT(6)    /* set: no RTC wake status in PM1 */
#define ACPI_FADT_TMR_VAL_EXT BIT(8)
#define ACPI_FADT_RESET_REG_SUP BIT(10)

struct acpi_platform {
	u32 nr_cpus;          /* 1-255 */
	u32 lapic_addr;       /* ACPI_LAPIC_ADDR */
	u8 ioapic_id;         /* must match the IOAPIC device's ID register */
	u32 ioapic_addr;      /* ACPI_IOAPIC_ADDR */
	u32 ioapic_gsi_base;  /* 0 */
	u16 pm1a_evt_port;    /* acpi_pm: PM1_STS/PM1_EN, 4 bytes */
	u16 pm1a_cnt_port;    /* PM1_CNT, 2 bytes */
	u16 pm_tmr_port;      /* PM_TMR, 4 bytes */
	u8 sci_irq;           /* ISA IRQ = GSI of the SCI, 9 */
	u16 reset_port;       /* 0xcf9 */
	u8 reset_value;       /* 0x06 */
	u8 rtc_century;       /* CMOS index of the century byte, 0x32 */
	u16 iapc_boot_arch;   /* ACPI_IAPC_* */
	bool pci_root;        /* describe \_SB.PCI0 (Linux scans PCI only through it) */
	u32 pci_mmio_base;    /* its 32-bit MMIO window; size 0: none */
	u32 pci_mmio_size;
};

/*
 * The platform utsuwa's devices make: the ports of devices/acpi_pm.h, the
 * reset register at 0xcf9, the century at CMOS 0x32, legacy devices without
 * an 8042 or VGA, PCI0 with the MMIO window [0xc0000000, 0xfeb00000) (guest
 * RAM below 4 GiB must end by 0xc0000000), IOAPIC ID = nr_cpus.
 */
void acpi_platform_defaults(struct acpi_platform *p, u32 nr_cpus);

/*
 * Builds the tables into buf (size bytes), which the guest will see at gpa
 * (16-byte aligned; 64 keeps the FACS next to the RSDP). Returns the bytes
 * used, -EINVAL for a bad platform or gpa, -ENOSPC when buf is too small.
 * *rsdp_gpa is the RSDP's address: buf's start, i.e. gpa. Put it where the
 * OS looks (0xe0000-0xfffff, and boot_params.acpi_rsdp_addr).
 */
int acpi_tables_build(void *buf, size_t size, u64 gpa, const struct acpi_platform *p,
		      u64 *rsdp_gpa);

#endif
