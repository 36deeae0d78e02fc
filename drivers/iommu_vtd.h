/*
 * Inside the VT-d driver (drivers/iommu_vtd*.c): one remapping unit (a DRHD
 * of the DMAR table), brought up and commanded by iommu_vtd_unit.c, used by
 * the ops in iommu_vtd.c. The rest of utsuwa sees only iommu_vtd_ops
 * (drivers/iommu.h).
 */
#ifndef DRIVERS_IOMMU_VTD_H
#define DRIVERS_IOMMU_VTD_H

#include "drivers/iommu.h"
#include "drivers/iommu_vtd_dmar.h"
#include "drivers/iommu_vtd_regs.h"

extern const struct iommu_ops iommu_vtd_ops;

struct vtd_unit {
	unsigned index;            /* in the DMAR's DRHD order */
	volatile u8 *regs;
	u64 reg_base;
	u16 segment;
	u64 cap, ecap;
	unsigned iotlb_off;        /* ECAP.IRO */
	unsigned frcd_off, nr_frcd; /* CAP.FRO, CAP.NFR */
	unsigned next_frcd;        /* where fault_next looks first */
	struct vtd_root_entry *root;          /* 4 KiB, one entry per bus */
	struct vtd_context_entry *ctx[256];   /* per bus, made at the first attach */
};

/* Maps the registers, reads CAP/ECAP; no state changed. -ENODEV, -ENOMEM. */
int vtd_unit_probe(struct vtd_unit *u, const struct vtd_drhd *drhd, unsigned index);
/* Translation off if firmware left it on, root table set, caches flushed,
 * fault interrupts masked, translation on (everything blocked). */
int vtd_unit_enable(struct vtd_unit *u);
/* Translation off again (an init that failed on a later unit). */
void vtd_unit_disable(struct vtd_unit *u);
/* Context-cache invalidation (10.4.7): global, or device-selective for (bdf, did). */
int vtd_unit_flush_context(struct vtd_unit *u, bool global, u16 bdf, u16 did);
/* IOTLB invalidation (10.4.8.1): global, or domain-selective for did; drains DMA first. */
int vtd_unit_flush_iotlb(struct vtd_unit *u, bool global, u16 did);
/* Makes the unit's root and context entries visible to it (clflush when ECAP.C = 0). */
void vtd_unit_sync(const struct vtd_unit *u, const void *p, u64 len);
/* The next fault the unit recorded, cleared; false when none. */
bool vtd_unit_fault(struct vtd_unit *u, struct iommu_fault *f);

/*
 * The DMAR as parsed, once init succeeded (else NULL): its RMRRs (8.4) are
 * regions firmware keeps DMAing to (legacy USB, graphics); the driver maps
 * none of them, so the common layer may identity-map them into the host
 * domain and attach their devices, or leave them blocked.
 */
const struct vtd_dmar *iommu_vtd_dmar(void);

/* The CLFLUSH line size in bytes (vtd_unit_probe reads it). */
extern u64 vtd_clflush_line;
/* Writes [p, p + len) back to memory from the CPU's caches. */
void vtd_clflush(const void *p, u64 len);

/*
 * Brings VT-d up from the DMAR at boot and shows what the ops do on this
 * machine (log lines "iommu: vt-d exercise: ..."), RAM [0, ram_end) in a
 * host domain: for tests before the common layer (core/iommu.c) calls the
 * ops itself (drivers/iommu_vtd_exercise.c). Returns init's result.
 */
int iommu_vtd_exercise(u64 ram_end);
/* The exercise's host domain, NULL before it. */
struct iommu_domain *iommu_vtd_exercise_host(void);
/* Logs up to 16 faults fault_next returns. */
void iommu_vtd_exercise_faults(void);

#endif
