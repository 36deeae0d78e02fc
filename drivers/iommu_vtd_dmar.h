/*
 * The ACPI DMAR table (Intel VT-d Architecture Specification, chapter 8
 * "BIOS Considerations"), parsed into what the VT-d driver needs: the
 * remapping hardware units (DRHD, 8.3) with their device scopes (8.3.1),
 * and the reserved memory regions (RMRR, 8.4) firmware still DMAs to.
 * Host-testable; trusts no length it has not checked against the table.
 */
#ifndef DRIVERS_IOMMU_VTD_DMAR_H
#define DRIVERS_IOMMU_VTD_DMAR_H

#include "hv/types.h"

#define VTD_MAX_UNITS 8
#define VTD_MAX_RMRRS 8
#define VTD_UNIT_SCOPES 16 /* device scopes kept per DRHD */
#define VTD_RMRR_SCOPES 4
#define VTD_SCOPE_PATH 8   /* (device, function) hops kept per scope */

/* Device scope types (8.3.1, table "Device Scope Entry Types"). */
#define VTD_SCOPE_ENDPOINT 1 /* a PCI endpoint */
#define VTD_SCOPE_BRIDGE 2   /* a PCI sub-hierarchy: the bridge and all below it */
#define VTD_SCOPE_IOAPIC 3
#define VTD_SCOPE_HPET 4
#define VTD_SCOPE_ACPI 5     /* an ACPI namespace device */

struct vtd_scope {
	u8 type;
	u8 enum_id;   /* IOAPIC ID, HPET number, ACPI device number */
	u8 start_bus;
	u8 path_len;  /* 1..VTD_SCOPE_PATH hops */
	u8 path[VTD_SCOPE_PATH][2]; /* [i][0] device, [i][1] function */
};

struct vtd_drhd {
	u64 reg_base;     /* the unit's registers, physical, 4 KiB aligned */
	u16 segment;
	bool include_all; /* INCLUDE_PCI_ALL: every function of the segment no other unit lists */
	u8 reg_pages_log2; /* Size field: 2^N pages of registers (0 on older tables) */
	unsigned nr_scopes;
	struct vtd_scope scopes[VTD_UNIT_SCOPES];
};

struct vtd_rmrr {
	u16 segment;
	u64 base, limit; /* [base, limit], limit inclusive; 4 KiB pages */
	unsigned nr_scopes;
	struct vtd_scope scopes[VTD_RMRR_SCOPES];
};

struct vtd_dmar {
	u8 haw;   /* host address width: DMA addresses below 2^haw */
	u8 flags; /* bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT, bit 2 DMA_CTRL_PLATFORM_OPT_IN */
	unsigned nr_drhds;
	struct vtd_drhd drhd[VTD_MAX_UNITS];
	unsigned nr_rmrrs;
	struct vtd_rmrr rmrr[VTD_MAX_RMRRS];
	unsigned nr_other; /* ATSR, RHSA, ANDD, SATC, ...: skipped */
};
#define VTD_DMAR_INTR_REMAP BIT(0)
#define VTD_DMAR_X2APIC_OPT_OUT BIT(1)
#define VTD_DMAR_DMA_CTRL_OPT_IN BIT(2)

typedef void (*vtd_report_fn)(void *ctx, const char *msg);

/*
 * Parses the DMAR table at table (len bytes as mapped; its header's length
 * must fit in them). The checksum is the caller's (the common layer checks
 * it). Returns 0 with *out filled, or a negative errno after one report:
 * -EINVAL for a malformed table (a length that does not fit, a zero
 * length, a misaligned register base, an RMRR whose limit is below its
 * base, no DRHD at all), -ENOSPC for more units than VTD_MAX_UNITS (a unit
 * left out would leave its devices' DMA unchecked). RMRRs beyond
 * VTD_MAX_RMRRS and scopes beyond the per-structure limits are reported and
 * dropped. report may be NULL.
 */
int vtd_dmar_parse(const u8 *table, u32 len, struct vtd_dmar *out, vtd_report_fn report,
		   void *ctx);

/*
 * Reads a PCI-to-PCI bridge's secondary and subordinate bus numbers
 * (configuration offsets 0x19, 0x1a), false when bdf is no bridge. Lets a
 * scope's path (8.3.1: start bus, then one (device, function) per bridge
 * crossed) be followed on the live bus.
 */
typedef bool (*vtd_bridge_fn)(void *ctx, u16 bdf, u8 *secondary, u8 *subordinate);

/* Whether scope s names function bdf (endpoint) or a bridge above it (sub-hierarchy). */
bool vtd_scope_covers(const struct vtd_scope *s, u16 bdf, vtd_bridge_fn bridge, void *ctx);

/*
 * The unit that remaps function bdf of segment seg (8.3: a unit whose scopes
 * name it; else the segment's INCLUDE_PCI_ALL unit): its index in d->drhd,
 * or -1 when none does (then its DMA is not remapped at all).
 */
int vtd_dmar_unit_for(const struct vtd_dmar *d, u16 seg, u16 bdf, vtd_bridge_fn bridge,
		      void *ctx);

#endif
