/*
 * Inside the VT-d driver (drivers/iommu_vtd*.c): one remapping unit (a DRHD
 * of the DMAR table), brought up and commanded by iommu_vtd_unit.c, used by
 * the ops in iommu_vtd.c. The rest of utsuwa sees only iommu_vtd_ops
 * (drivers/iommu.h).
 */
#ifndef DRIVERS_IOMMU_VTD_H
#define DRIVERS_IOMMU_VTD_H

#include "drivers/hw.h"
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
	/* Queued invalidation, when ECAP.QI: 256 descriptors of 16 bytes. */
	u64 *iq;
	unsigned iq_tail;          /* the next free descriptor */
	volatile u32 *iq_status;   /* what invalidation wait descriptors write */
	u32 iq_seq;
};

#define VTD_WAIT_US 100000 /* every wait for a unit: 100 ms; real units take microseconds */

static inline u32 vtd_rd32(const struct vtd_unit *u, unsigned off) { return mmio_read32(u->regs + off); }
static inline void vtd_wr32(struct vtd_unit *u, unsigned off, u32 v) { mmio_write32(u->regs + off, v); }

/* 64-bit registers as two 32-bit accesses, low first: 10.4 allows it, and
 * the command registers act on the write of their high half. */
static inline u64 vtd_rd64(const struct vtd_unit *u, unsigned off)
{
	u64 lo = vtd_rd32(u, off);

	return lo | (u64)vtd_rd32(u, off + 4) << 32;
}

static inline void vtd_wr64(struct vtd_unit *u, unsigned off, u64 v)
{
	vtd_wr32(u, off, (u32)v);
	vtd_wr32(u, off + 4, (u32)(v >> 32));
}

/* Waits until (register & mask) == want; -ETIMEDOUT after VTD_WAIT_US, logged. */
int vtd_wait32(struct vtd_unit *u, unsigned off, u32 mask, u32 want, const char *what);
/* 10.4.4: one command bit changed, the enables already on kept on. */
void vtd_gcmd(struct vtd_unit *u, u32 bit, bool on);

/* Queued invalidation (drivers/iommu_vtd_qi.c, 6.5.2): the queue made and
 * GCMD.QIE on; then one descriptor at a time, waited for. */
int vtd_qi_enable(struct vtd_unit *u);
int vtd_qi_submit(struct vtd_unit *u, u64 lo, u64 hi);

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


#endif
