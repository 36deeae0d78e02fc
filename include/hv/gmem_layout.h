/*
 * Where a VM's RAM lies in its guest-physical space: as on a PC, RAM fills
 * [0, 3 GiB) at most; the last GiB below 4 GiB is the hole that holds the
 * PCI window [0xc0000000, 0xfeb00000) (devices/acpi_tables.c), the test
 * device, the I/O APIC (0xfec00000) and the local APIC (0xfee00000); the
 * rest of the RAM starts at 4 GiB. A VM of 4 GiB thus has RAM at
 * [0, 0xc0000000) and [0x100000000, 0x140000000).
 *
 * Every guest of utsuwa gets this layout, Linux and test kernels alike:
 * whoever reads the map sees the same RAM: the e820 map a PC's firmware
 * reports (ACPI 6.5, 15.1 "INT 15H, E820H - Query System Address Map"),
 * which Linux takes from boot_params.e820_table (boot protocol,
 * Documentation/arch/x86/zero-page.rst), the Multiboot memory map built
 * from it (Multiboot 0.6.96, 3.3), and the CMOS memory bytes (RAM above
 * 16 MiB at 0x34-0x35 counts only what lies below the hole, RAM above
 * 4 GiB is at 0x5b-0x5d). The DSDT describes only the PCI window, never RAM.
 */
#ifndef HV_GMEM_LAYOUT_H
#define HV_GMEM_LAYOUT_H

#include "hv/types.h"

#define GMEM_HOLE_START 0xc0000000ULL  /* where RAM below 4 GiB ends at most */
#define GMEM_HIGH_START 0x100000000ULL /* where the rest of RAM starts */

struct gmem_layout {
	u64 low;  /* RAM at [0, low) */
	u64 high; /* RAM at [GMEM_HIGH_START, GMEM_HIGH_START + high); 0: none */
};

/* The layout of mem bytes of RAM. */
static inline struct gmem_layout gmem_layout_of(u64 mem)
{
	if (mem <= GMEM_HOLE_START)
		return (struct gmem_layout){ .low = mem, .high = 0 };
	return (struct gmem_layout){ .low = GMEM_HOLE_START, .high = mem - GMEM_HOLE_START };
}

/* One past the highest guest-physical byte of RAM. */
static inline u64 gmem_layout_end(struct gmem_layout l)
{
	return l.high ? GMEM_HIGH_START + l.high : l.low;
}

/*
 * Bytes of RAM from gpa to the end of its range (the one below the hole or
 * the one above 4 GiB); 0 when gpa is not RAM. Snapshots and migration
 * size their 2 MiB pieces with it.
 */
static inline u64 gmem_layout_ram_after(struct gmem_layout l, u64 gpa)
{
	if (gpa < l.low)
		return l.low - gpa;
	if (gpa >= GMEM_HIGH_START && gpa - GMEM_HIGH_START < l.high)
		return GMEM_HIGH_START + l.high - gpa;
	return 0;
}

#endif
