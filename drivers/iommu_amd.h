/*
 * AMD-Vi internals (drivers/iommu_amd*.c), shared by its small files and the
 * host tests. Layouts: AMD I/O Virtualization Technology (IOMMU)
 * Specification, document 48882 (rev. 3.x); sections cited where used.
 */
#ifndef DRIVERS_IOMMU_AMD_H
#define DRIVERS_IOMMU_AMD_H

#include "hv/types.h"
#include "drivers/iommu.h"

/* ---- IVRS (48882, 5.2 "IVRS: I/O Virtualization Reporting Structure") ---- */

#define IVRS_MAX_UNITS 4

/* One IOMMU an IVHD block describes (5.2.2.2, Tables 93-95). */
struct amd_ivhd {
	u8 type;       /* 10h, 11h or 40h */
	u16 bdf;       /* the IOMMU's own PCI function (IVHD DeviceID) */
	u16 cap_off;   /* its capability block in that function's configuration space */
	u64 mmio_base; /* its registers (IOMMU Base Address) */
	u16 segment;   /* PCI segment group */
	u16 first_bdf, last_bdf; /* the lowest and highest DeviceID its entries name */
	u32 nr_entries;          /* device entries read */
};

struct amd_ivrs {
	u32 ivinfo;       /* IVinfo (5.2.1, Table 91): bits 14:8 VA size, 21:15 PA size */
	unsigned nr_units;
	struct amd_ivhd units[IVRS_MAX_UNITS];
};

/*
 * Parses the IVRS (the whole table, header included; its checksum is the
 * caller's). When a system lists a unit in several IVHD types (10h and 11h/40h
 * for one IOMMU, 5.2.2.1), the entries of the highest type this parser
 * knows are kept. 0 with *out filled, or -EINVAL with why (a static string).
 */
int amd_ivrs_parse(const u8 *t, u32 len, struct amd_ivrs *out, const char **why);

/* ---- I/O page tables (48882, 2.2.3 "I/O Page Tables for Host Translations") ---- */

#define AMD_PTE_PR BIT(0)            /* present */
#define AMD_PTE_NEXT_SHIFT 9         /* Next Level, bits 11:9 (0: this entry maps a page) */
#define AMD_PTE_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
#define AMD_PTE_IR BIT(61)           /* read permission */
#define AMD_PTE_IW BIT(62)           /* write permission */
#define AMD_PT_LEVELS 4              /* DTE Mode 4: a 48-bit I/O virtual address */
/*
 * What an entry without a mapping holds: PR = 0, so the IOMMU ignores the
 * rest (2.2.3) and refuses the access with an IO_PAGE_FAULT. Not 0: QEMU
 * 7.2's walk ends silently on an all-zero entry and logs no event, so a
 * refused DMA would go unreported there.
 */
#define AMD_PTE_ABSENT (1ull << AMD_PTE_NEXT_SHIFT)

/* Page-table pages come from here: zeroed, 4 KiB aligned, reachable at
 * to_ptr(pa). The hypervisor's is page_alloc over the identity map; the unit
 * tests give a recording fake. */
struct amd_pt_mem {
	u64 (*alloc)(void *ctx);
	void (*free)(void *ctx, u64 pa);
	u64 *(*to_ptr)(void *ctx, u64 pa);
	void *ctx;
};

struct amd_pt {
	u64 root;   /* level-4 table, physical */
	const struct amd_pt_mem *mem;
};

int amd_pt_init(struct amd_pt *pt, const struct amd_pt_mem *mem);
/* Maps [iova, iova + size) to [pa, ...) with 4 KiB leaves; an entry already
 * there is replaced. -EINVAL (unaligned, beyond 48 bits), -ENOMEM (what was
 * mapped before the failure stays mapped). */
int amd_pt_map(struct amd_pt *pt, u64 iova, u64 pa, u64 size, unsigned perm);
/* Clears the leaves of [iova, iova + size); tables stay. */
void amd_pt_unmap(struct amd_pt *pt, u64 iova, u64 size);
/* What a device at iova reaches: 1 with *pa and *perm, 0 when not mapped. */
int amd_pt_lookup(const struct amd_pt *pt, u64 iova, u64 *pa, unsigned *perm);
/* Frees every table page. */
void amd_pt_destroy(struct amd_pt *pt);

/* ---- Device table entry (48882, 2.2.2.1, Figure 7 / Table 7) ---- */

#define DTE_V BIT(0)
#define DTE_TV BIT(1)
#define DTE_MODE_SHIFT 9        /* bits 11:9: paging levels, 0 = no translation */
#define DTE_IR BIT(61)
#define DTE_IW BIT(62)
/* In the second quadword: DomainID, bits 79:64 */
#define DTE_DOMAIN_MASK 0xffffull

/* The first two quadwords of a DTE for a device in a domain with page table
 * root `root`, or blocked (root 0 = a table with nothing in it, no
 * permission: every access is refused and logged). */
void amd_dte_make(u64 dte[4], u16 domain_id, u64 root, unsigned perm);

/* ---- Command buffer entries (48882, 2.4 "Commands") ---- */

#define CMD_COMPLETION_WAIT 0x1
#define CMD_INVALIDATE_DEVTAB_ENTRY 0x2
#define CMD_INVALIDATE_IOMMU_PAGES 0x3

void amd_cmd_completion_wait(u32 cmd[4], u64 store_pa, u64 data);
void amd_cmd_inval_dte(u32 cmd[4], u16 bdf);
/* Every page of domain_id, page-directory entries included. */
void amd_cmd_inval_domain(u32 cmd[4], u16 domain_id);

/* ---- Event log entries (48882, 2.5 "Event Logging") ---- */

#define EVT_ILLEGAL_DEV_TABLE_ENTRY 0x1
#define EVT_IO_PAGE_FAULT 0x2
#define EVT_DEV_TAB_HW_ERROR 0x3
#define EVT_PAGE_TAB_HW_ERROR 0x4
#define EVT_ILLEGAL_COMMAND_ERROR 0x5
#define EVT_COMMAND_HW_ERROR 0x6

/* One 16-byte entry as a fault. Returns 1 for a fault of a device (IO page
 * fault, device-table or page-table error), 0 for anything else (still
 * described in f->what). */
int amd_event_decode(const u32 ev[4], struct iommu_fault *f);

/* Every unit's registers and event log, for the monitor's iommu command. */
void amd_iommu_dump(void);

#endif
