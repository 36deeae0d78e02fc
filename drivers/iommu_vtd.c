/*
 * Intel VT-d DMA remapping (Intel VT-d Architecture Specification) behind
 * struct iommu_ops (drivers/iommu.h). Legacy-mode root and context tables
 * (9.1, 9.3) on every unit of the DMAR table; one set of second-level page
 * tables per domain (3.7, 9.8; drivers/iommu_vtd_pt.c), shared by every unit
 * the domain's functions sit behind, with one domain ID on all of them.
 * Interrupt remapping is not used (left as firmware set it; off on QEMU).
 */
#include "drivers/iommu_vtd.h"
#include "drivers/iommu_vtd_pt.h"
#include "drivers/hw.h"
#include "drivers/pci.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/spinlock.h"
#include "lib/string.h"

#define VTD_MAX_DIDS 256 /* domain IDs used at most (CAP.ND: QEMU 7.2 offers 64 Ki) */

struct iommu_domain {
	u16 did;
	unsigned nr_attached;
	u32 units; /* bit i: some function behind unit i is attached */
	struct vtd_pt pt;
};

static struct vtd_dmar dmar;
static struct vtd_unit units[VTD_MAX_UNITS];
static unsigned nr_units;
static unsigned levels;       /* 3 or 4, what every unit supports */
static unsigned nr_dids;
static bool coherent;         /* every unit has ECAP.C */
static bool caching_mode;     /* some unit has CAP.CM: not-present entries are cached too */
static struct iommu_domain *domains[VTD_MAX_DIDS]; /* by domain ID; 0 is never used */
/* Tables, domain IDs and invalidation; fault records have their own lock,
 * taken with interrupts off: fault_next runs from CPU 0's timer tick, which
 * may interrupt a map holding vtd_lock on that same CPU. */
static spinlock_t vtd_lock = SPINLOCK_INIT;
static spinlock_t fault_lock = SPINLOCK_INIT;

static void report(void *ctx, const char *msg) { kprintf("iommu: vt-d: %s\n", msg); }

static u64 alloc_table(void) { return page_alloc(1, PAGE_SIZE); }
static void free_table(u64 pa) { page_free(pa, 1); }
static void flush_table(const void *p, u64 len) { vtd_clflush(p, len); }

/* The PCI-to-PCI bridge bdf's buses (drivers/pci.c's list), for device scopes. */
static bool bridge_buses(void *ctx, u16 bdf, u8 *sec, u8 *sub)
{
	for (struct pci_func *f = pci_first(); f; f = f->next) {
		if (PCI_BDF(f->bus, f->dev, f->fn) != bdf)
			continue;
		if ((f->header_type & 0x7f) != 1)
			return false;
		*sec = pci_read8(f, PCI_SECONDARY_BUS);
		*sub = pci_read8(f, PCI_SECONDARY_BUS + 1);
		return true;
	}
	return false;
}

static void log_rmrrs(void)
{
	for (unsigned i = 0; i < dmar.nr_rmrrs; i++) {
		const struct vtd_rmrr *r = &dmar.rmrr[i];

		/* 8.4: firmware's own DMA (USB legacy keyboards, graphics) goes
		 * there; it is blocked like any other until a domain maps it. */
		kprintf("iommu: vt-d: RMRR [%lx, %lx] for %u device(s), not mapped\n", r->base,
			r->limit, r->nr_scopes);
		for (unsigned j = 0; j < r->nr_scopes; j++)
			kprintf("iommu: vt-d:   RMRR device %02x:%02x.%u%s\n", r->scopes[j].start_bus,
				r->scopes[j].path[0][0], r->scopes[j].path[0][1],
				r->scopes[j].path_len > 1 ? " (behind bridges)" : "");
	}
}

static int vtd_init(const u8 *table, u32 len)
{
	unsigned sagaw = 0x1f, dids = VTD_MAX_DIDS, mgaw = 64;
	int err;

	nr_units = 0; /* no unit in use until every one is on */
	caching_mode = false;
	if ((err = vtd_dmar_parse(table, len, &dmar, report, NULL)))
		return err;
	kprintf("iommu: vt-d: %u unit(s), host address width %u, %u RMRR(s)%s\n", dmar.nr_drhds,
		dmar.haw, dmar.nr_rmrrs,
		dmar.flags & VTD_DMAR_INTR_REMAP ? ", interrupt remapping offered (not used)" : "");
	coherent = true;
	for (unsigned i = 0; i < dmar.nr_drhds; i++) {
		struct vtd_unit *u = &units[i];

		if ((err = vtd_unit_probe(u, &dmar.drhd[i], i)))
			return err;
		sagaw &= VTD_CAP_SAGAW(u->cap);
		dids = MIN(dids, 1u << (4 + 2 * VTD_CAP_ND(u->cap)));
		mgaw = MIN(mgaw, VTD_CAP_MGAW(u->cap));
		coherent &= VTD_ECAP_C(u->ecap);
		caching_mode |= VTD_CAP_CM(u->cap);
	}
	/* 3.7, 10.4.2: a 4-level (48-bit) walk where every unit has it, else
	 * 3 levels (39-bit; QEMU's default aw-bits=39 offers only this). */
	if ((sagaw & BIT(2)) && mgaw >= 48)
		levels = 4;
	else if ((sagaw & BIT(1)) && mgaw >= 39)
		levels = 3;
	else {
		kprintf("iommu: vt-d: no page-table depth every unit supports (SAGAW %x, MGAW %u)\n",
			sagaw, mgaw);
		return -ENODEV;
	}
	nr_dids = dids;
	for (unsigned i = 0; i < dmar.nr_drhds; i++)
		if ((err = vtd_unit_enable(&units[i]))) {
			/* As if there were no IOMMU, as the caller will say: the
			 * units already on would otherwise block every device. */
			kprintf("iommu: vt-d unit %u: not enabled (%d); remapping off on all\n", i,
				err);
			for (unsigned j = 0; j < i; j++)
				vtd_unit_disable(&units[j]);
			return err;
		}
	nr_units = dmar.nr_drhds;
	log_rmrrs();
	kprintf("iommu: vt-d: DMA remapping on, %u-level tables, every function blocked\n", levels);
	return 0;
}

static struct iommu_domain *vtd_domain_new(void)
{
	struct iommu_domain *d = kzalloc(sizeof(*d));
	u64 pa_limit = dmar.haw >= 64 ? ~0ULL : 1ULL << dmar.haw;

	if (!d)
		return NULL;
	spin_lock(&vtd_lock);
	/* Domain ID 0 is reserved when CAP.CM is set (10.4.2); never used here. */
	for (unsigned id = 1; id < nr_dids; id++)
		if (!domains[id]) {
			d->did = (u16)id;
			domains[id] = d;
			break;
		}
	spin_unlock(&vtd_lock);
	if (!d->did || vtd_pt_init(&d->pt, levels, pa_limit, alloc_table, free_table,
				   coherent ? NULL : flush_table)) {
		if (d->did)
			domains[d->did] = NULL;
		kfree(d);
		return NULL;
	}
	return d;
}

static void vtd_domain_free(struct iommu_domain *d)
{
	if (!d)
		return;
	if (d->nr_attached) {
		kprintf("iommu: vt-d: domain %u freed with %u function(s) attached: kept\n", d->did,
			d->nr_attached);
		return;
	}
	spin_lock(&vtd_lock);
	domains[d->did] = NULL;
	spin_unlock(&vtd_lock);
	vtd_pt_destroy(&d->pt);
	kfree(d);
}

/* The domain's IOTLB entries, on every unit that may hold them. */
static int flush_domain(struct iommu_domain *d)
{
	int err = 0;

	for (unsigned i = 0; i < nr_units; i++)
		if (d->units & BIT(i)) {
			int e = vtd_unit_flush_iotlb(&units[i], false, d->did);

			err = err ? err : e;
		}
	return err;
}

static int vtd_map(struct iommu_domain *d, u64 iova, u64 pa, u64 size, unsigned perm)
{
	int err;

	spin_lock(&vtd_lock);
	err = vtd_pt_map(&d->pt, iova, pa, size, perm);
	/* 6.1: with caching mode, not-present entries may be cached too. */
	if (!err && caching_mode)
		err = flush_domain(d);
	spin_unlock(&vtd_lock);
	return err;
}

static int vtd_unmap(struct iommu_domain *d, u64 iova, u64 size)
{
	int err;

	spin_lock(&vtd_lock);
	err = vtd_pt_unmap(&d->pt, iova, size);
	if (!err)
		err = flush_domain(d);
	spin_unlock(&vtd_lock);
	return err;
}

/* The context table for bus on unit u, made (and its root entry set) if needed. */
static struct vtd_context_entry *context_table(struct vtd_unit *u, u8 bus, bool *made)
{
	u64 pa;

	*made = false;
	if (u->ctx[bus])
		return u->ctx[bus];
	pa = page_alloc(1, PAGE_SIZE);
	if (!pa)
		return NULL;
	u->ctx[bus] = (struct vtd_context_entry *)(uintptr_t)pa;
	vtd_unit_sync(u, u->ctx[bus], PAGE_SIZE);
	u->root[bus].hi = 0;
	__atomic_store_n(&u->root[bus].lo, pa | VTD_ROOT_P, __ATOMIC_RELEASE);
	vtd_unit_sync(u, &u->root[bus], sizeof(u->root[bus]));
	*made = true;
	return u->ctx[bus];
}

static int vtd_attach(struct iommu_domain *d, u16 bdf)
{
	int idx = vtd_dmar_unit_for(&dmar, 0, bdf, bridge_buses, NULL);
	struct vtd_context_entry *ctx, *e;
	struct vtd_unit *u;
	bool made;
	int err = 0;

	if (idx < 0) {
		kprintf("iommu: vt-d: %02x:%02x.%u is behind no remapping unit\n", bdf >> 8,
			(bdf >> 3) & 0x1f, bdf & 7);
		return -ENODEV;
	}
	u = &units[idx];
	spin_lock(&vtd_lock);
	if (!d && !u->ctx[bdf >> 8])
		goto out; /* never attached: blocked already */
	ctx = context_table(u, (u8)(bdf >> 8), &made);
	if (!ctx) {
		err = -ENOMEM;
		goto out;
	}
	e = &ctx[bdf & 0xff];
	if (e->lo & VTD_CTX_P) {
		/* Through not present: the unit must never see half an entry
		 * (9.3 is 128 bits, written as two quadwords). Then whatever it
		 * cached for the old domain goes (6.5.3.3 device-selective). */
		u16 old = VTD_CTX_DID_OF(e->hi);

		__atomic_store_n(&e->lo, 0, __ATOMIC_RELEASE);
		vtd_unit_sync(u, e, sizeof(*e));
		err = vtd_unit_flush_context(u, false, bdf, old);
		if (!err)
			err = vtd_unit_flush_iotlb(u, false, old);
		if (domains[old] && domains[old]->nr_attached)
			domains[old]->nr_attached--;
		if (err)
			goto out;
	}
	if (d) {
		e->hi = VTD_CTX_AW(levels) | VTD_CTX_DID(d->did);
		__atomic_store_n(&e->lo, (d->pt.root & ~0xfffULL) | VTD_CTX_TT_SL | VTD_CTX_P,
				 __ATOMIC_RELEASE);
		vtd_unit_sync(u, e, sizeof(*e));
		d->nr_attached++;
		d->units |= BIT(idx);
		/* Not present to present needs no flush unless the unit caches
		 * not-present entries (CAP.CM); a new root entry is flushed globally. */
		if (made || caching_mode)
			err = vtd_unit_flush_context(u, made, bdf, d->did);
		if (!err && caching_mode)
			err = vtd_unit_flush_iotlb(u, false, d->did);
	}
out:
	spin_unlock(&vtd_lock);
	return err;
}

static int vtd_fault_next(struct iommu_fault *f)
{
	u64 flags = hw_irq_save();
	int got = 0;

	spin_lock(&fault_lock);
	for (unsigned i = 0; i < nr_units && !got; i++)
		got = vtd_unit_fault(&units[i], f);
	spin_unlock(&fault_lock);
	hw_irq_restore(flags);
	return got;
}

const struct vtd_dmar *iommu_vtd_dmar(void)
{
	return nr_units ? &dmar : NULL;
}

const struct iommu_ops iommu_vtd_ops = {
	.name = "VT-d",
	.init = vtd_init,
	.domain_new = vtd_domain_new,
	.domain_free = vtd_domain_free,
	.map = vtd_map,
	.unmap = vtd_unmap,
	.attach = vtd_attach,
	.fault_next = vtd_fault_next,
};
