/*
 * The ACPI tables the hypervisor reads at boot (ACPI 6.5, 5.2): the RSDP,
 * the XSDT (or RSDT), and the MADT's interrupt controllers. A host-testable
 * parser: it reads physical memory through a phys_view and trusts nothing it
 * has not checksummed and bounds-checked.
 */
#ifndef ARCH_X86_ACPI_H
#define ARCH_X86_ACPI_H

#include "hv/config.h"
#include "hv/types.h"
#include "arch/x86/phys_view.h"

#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_ISOS 16

struct acpi_ioapic {
	u32 id;
	u32 addr;     /* its MMIO registers, physical */
	u32 gsi_base; /* the first global system interrupt it serves */
};

/* An Interrupt Source Override: ISA IRQ source arrives at gsi (MPS INTI flags). */
struct acpi_iso {
	u8 source;
	u32 gsi;
	u16 flags;
};

struct acpi_info {
	u64 rsdp_pa;        /* 0 when the loader's copy was used */
	u64 root_pa;        /* the XSDT or RSDT */
	bool root_is_xsdt;

	u64 lapic_addr;     /* the MADT's, or its type 5 override */
	bool pcat_compat;   /* MADT flags bit 0: there are 8259s to mask */
	u32 nr_cpus;        /* enabled local APICs, in MADT order */
	u32 apic_ids[MAX_CPUS];
	u32 nr_cpus_dropped; /* enabled ones beyond MAX_CPUS */
	unsigned nr_ioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned nr_isos;
	struct acpi_iso isos[ACPI_MAX_ISOS];
};

/* Receives one line (no newline) per problem or notable fact. */
typedef void (*acpi_report_fn)(void *ctx, const char *msg);

/*
 * Finds the RSDP: the loader's copy rsdp_copy (36 bytes, may be NULL) when
 * its checksums hold, else, when scan_bios, a scan of the EBDA's first KiB
 * and of 0xE0000-0xFFFFF (ACPI 6.5, 5.2.5.1). A UEFI machine has no BIOS
 * areas to scan: there the RSDP comes from the EFI configuration table, which
 * the loader copies into its tag (ACPI 6.5, 5.2.5.2). Then the XSDT (the RSDT when there is
 * no valid XSDT) and the MADT. Returns 0 with info filled, or a negative
 * errno after reporting why; info->nr_cpus is then 0.
 */
int acpi_parse(const struct phys_view *view, const u8 *rsdp_copy, bool scan_bios,
	       struct acpi_info *info, acpi_report_fn report, void *ctx);

/*
 * The physical address of the first table with signature sig listed in the
 * root table of info, with a valid checksum; 0 when there is none.
 */
u64 acpi_find_table(const struct phys_view *view, const struct acpi_info *info,
		    const char sig[4], acpi_report_fn report, void *ctx);

/*
 * The same table mapped: a pointer to all of it (length *len, header
 * included), checksummed and bounds-checked, or NULL when there is none.
 */
const u8 *acpi_get_table(const struct phys_view *view, const struct acpi_info *info,
			 const char sig[4], u32 *len, acpi_report_fn report, void *ctx);

/* The tables, as found at boot (arch/x86/setup.c fills it). */
extern struct acpi_info boot_acpi;

#endif
