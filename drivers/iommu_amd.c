/*
 * AMD-Vi (48882) behind struct iommu_ops: one device table shared by every
 * unit the IVRS lists (65,536 entries, 2 MiB: every possible DeviceID of
 * segment 0, so no function is ever outside it), each entry valid and
 * translating through an empty table with no permission from the start,
 * so a function's DMA is refused and logged until it is attached to a
 * domain. A domain is a DomainID and a four-level I/O page table.
 */
#include "drivers/iommu_amd.h"
#include "drivers/iommu_amd_hw.h"
#include "drivers/hw.h"
#include "drivers/pci.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/spinlock.h"
#include "lib/string.h"

#define DEVTAB_ENTRIES 65536u
#define DEVTAB_PAGES (DEVTAB_ENTRIES * 32 / PAGE_SIZE)
#define MAX_DOMAINS 256 /* DomainIDs we hand out; 0 is the blocked entries' */

struct iommu_domain {
	u16 id;
	struct amd_pt pt;
};

static struct amd_unit units[IVRS_MAX_UNITS];
static unsigned nr_units;
static u64 (*devtab)[4];
static u64 blocked_root; /* an empty level-4 table */
static u8 domain_used[MAX_DOMAINS];
static spinlock_t lock = SPINLOCK_INIT; /* the command buffers, the device table */
static unsigned evt_unit;                /* where fault_next looks first */
static struct pci_func *unit_func[IVRS_MAX_UNITS]; /* each unit's own PCI function */

static u64 pt_alloc(void *ctx) { return page_alloc(1, PAGE_SIZE); }
static void pt_free(void *ctx, u64 pa) { page_free(pa, 1); }
static u64 *pt_ptr(void *ctx, u64 pa) { return (u64 *)(uintptr_t)pa; }
static const struct amd_pt_mem pt_mem = { .alloc = pt_alloc, .free = pt_free, .to_ptr = pt_ptr };

/* Queues cmd on every unit, then waits until each has done all it holds. */
static int broadcast(const u32 *cmds, unsigned n)
{
	int ret = 0;

	for (unsigned i = 0; i < nr_units; i++) {
		for (unsigned c = 0; c < n; c++)
			amd_unit_push(&units[i], cmds + 4 * c);
		ret |= amd_unit_sync(&units[i]);
	}
	return ret ? -ETIMEDOUT : 0;
}

/* 2.2.2: an entry is changed while valid; the DomainID (quadword 1) first,
 * then quadword 0 in one store, then the unit is told to drop its copy and
 * what it cached for the old domain. */
static int dte_set(u16 bdf, u16 domain_id, u64 root, unsigned perm)
{
	u64 dte[4];
	u16 old = devtab[bdf][1] & DTE_DOMAIN_MASK;
	u32 cmds[3 * 4];

	amd_dte_make(dte, domain_id, root, perm);
	__atomic_store_n(&devtab[bdf][1], dte[1], __ATOMIC_RELEASE);
	__atomic_store_n(&devtab[bdf][0], dte[0], __ATOMIC_RELEASE);
	amd_cmd_inval_dte(cmds, bdf);
	amd_cmd_inval_domain(cmds + 4, old);
	amd_cmd_inval_domain(cmds + 8, domain_id);
	return broadcast(cmds, 3);
}

/* The IOMMU's own function: no driver of ours may take it; its MMIO window
 * enabled (the capability's Base Address Low bit 0, 3.1.1 / 48882 Table 4)
 * when a firmware left it off. */
static struct pci_func *claim_function(const struct amd_ivhd *h)
{
	for (struct pci_func *f = pci_first(); f; f = f->next) {
		u32 lo;

		if (PCI_BDF(f->bus, f->dev, f->fn) != h->bdf)
			continue;
		f->claimed = true;
		if (!h->cap_off || h->cap_off > 0xf0)
			return f;
		lo = pci_read32(f, h->cap_off + 4);
		if (!(lo & 1))
			pci_write32(f, h->cap_off + 4, lo | 1);
		return f;
	}
	return NULL;
}

static int amd_init(const u8 *table, u32 len)
{
	struct amd_ivrs ivrs;
	struct amd_pt empty;
	const char *why = NULL;
	int ret = amd_ivrs_parse(table, len, &ivrs, &why);

	if (ret) {
		kprintf("iommu: IVRS unusable: %s\n", why);
		return ret;
	}
	devtab = (u64(*)[4])(uintptr_t)page_alloc(DEVTAB_PAGES, PAGE_SIZE);
	if (!devtab || amd_pt_init(&empty, &pt_mem)) {
		kprintf("iommu: no memory for the AMD-Vi device table\n");
		return -ENOMEM;
	}
	blocked_root = empty.root;
	/* Every entry blocked before any unit reads the table. */
	for (u32 bdf = 0; bdf < DEVTAB_ENTRIES; bdf++)
		amd_dte_make(devtab[bdf], 0, blocked_root, 0);
	domain_used[0] = 1;

	for (unsigned i = 0; i < ivrs.nr_units; i++) {
		const struct amd_ivhd *h = &ivrs.units[i];

		if (h->segment) {
			kprintf("iommu: AMD-Vi unit for PCI segment %u ignored (segment 0 only)\n",
				h->segment);
			continue;
		}
		unit_func[nr_units] = claim_function(h);
		ret = amd_unit_start(&units[nr_units], h->mmio_base, (u64)(uintptr_t)devtab,
				     DEVTAB_PAGES);
		if (ret)
			return ret;
		kprintf("iommu: AMD-Vi unit %02x:%02x.%u (IVHD type %02xh), registers at 0x%lx, "
			"EFR 0x%lx, devices %02x:%02x.%u-%02x:%02x.%u\n", h->bdf >> 8,
			(h->bdf >> 3) & 31, h->bdf & 7, h->type, h->mmio_base, units[nr_units].efr,
			h->first_bdf >> 8, (h->first_bdf >> 3) & 31, h->first_bdf & 7,
			h->last_bdf >> 8, (h->last_bdf >> 3) & 31, h->last_bdf & 7);
		nr_units++;
	}
	if (!nr_units)
		return -ENODEV;
	for (unsigned i = 0; i < nr_units; i++)
		amd_unit_enable(&units[i]);
	/* Nothing was cached before IommuEn; a sync shows the command path works. */
	return broadcast(NULL, 0);
}

static struct iommu_domain *amd_domain_new(void)
{
	struct iommu_domain *d = kzalloc(sizeof(*d));
	u64 f;

	if (!d)
		return NULL;
	f = hw_irq_save();
	spin_lock(&lock);
	for (unsigned i = 1; i < MAX_DOMAINS && !d->id; i++)
		if (!domain_used[i]) {
			domain_used[i] = 1;
			d->id = (u16)i;
		}
	spin_unlock(&lock);
	hw_irq_restore(f);
	if (!d->id || amd_pt_init(&d->pt, &pt_mem)) {
		if (d->id)
			__atomic_store_n(&domain_used[d->id], 0, __ATOMIC_RELEASE);
		kfree(d);
		return NULL;
	}
	return d;
}

static void amd_domain_free(struct iommu_domain *d)
{
	u32 cmd[4];
	u64 f = hw_irq_save();

	/* No function uses it; the units may still cache its entries. */
	amd_cmd_inval_domain(cmd, d->id);
	spin_lock(&lock);
	broadcast(cmd, 1);
	spin_unlock(&lock);
	hw_irq_restore(f);
	amd_pt_destroy(&d->pt);
	__atomic_store_n(&domain_used[d->id], 0, __ATOMIC_RELEASE);
	kfree(d);
}

static int flush_domain(struct iommu_domain *d)
{
	u32 cmd[4];

	amd_cmd_inval_domain(cmd, d->id);
	return broadcast(cmd, 1);
}

static int amd_map(struct iommu_domain *d, u64 iova, u64 pa, u64 size, unsigned perm)
{
	u64 f = hw_irq_save();
	int ret;

	spin_lock(&lock);
	ret = amd_pt_map(&d->pt, iova, pa, size, perm);
	/* An entry may have been replaced: the unit must not keep the old one. */
	if (!ret)
		ret = flush_domain(d);
	spin_unlock(&lock);
	hw_irq_restore(f);
	return ret;
}

static int amd_unmap(struct iommu_domain *d, u64 iova, u64 size)
{
	u64 f = hw_irq_save();
	int ret;

	spin_lock(&lock);
	amd_pt_unmap(&d->pt, iova, size);
	ret = flush_domain(d);
	spin_unlock(&lock);
	hw_irq_restore(f);
	return ret;
}

static int amd_attach(struct iommu_domain *d, u16 bdf)
{
	u64 f = hw_irq_save();
	int ret;

	spin_lock(&lock);
	ret = d ? dte_set(bdf, d->id, d->pt.root, IOMMU_READ | IOMMU_WRITE)
		: dte_set(bdf, 0, blocked_root, 0);
	spin_unlock(&lock);
	hw_irq_restore(f);
	return ret;
}

/*
 * A unit that refuses a DMA also sets Signaled Target Abort in its own
 * function's status register (PCI 3.0, 6.2.3). QEMU 7.2's amd-iommu does
 * that and nothing else: its event log stays empty (docs/iommu.md). From a
 * unit that has never logged an event, the bit is the only report there
 * is; from one that has, the events said it all and the bit is just cleared.
 */
static bool unit_signalled_abort(unsigned i, struct iommu_fault *fault)
{
	struct pci_func *f = unit_func[i];

	if (!f || !(pci_read16(f, PCI_STATUS) & PCI_STATUS_SIG_TARGET_ABORT))
		return false;
	pci_write16(f, PCI_STATUS, PCI_STATUS_SIG_TARGET_ABORT); /* write 1 to clear */
	if (units[i].tail_moves)
		return false;
	*fault = (struct iommu_fault){
		.bdf = PCI_BDF(f->bus, f->dev, f->fn),
		.what = "the IOMMU refused a DMA and logged no event",
		.source_unknown = true,
	};
	return true;
}

static int amd_fault_next(struct iommu_fault *fault)
{
	u32 ev[4];

	/* CPU 0's tick alone reads the logs. */
	for (unsigned n = 0; n < nr_units; n++, evt_unit = (evt_unit + 1) % nr_units) {
		struct amd_unit *u = &units[evt_unit];

		if (u->overflows) {
			kprintf("iommu: AMD-Vi event log overflowed; events were lost\n");
			u->overflows = 0;
		}
		while (amd_unit_event(u, ev)) {
			if (amd_event_decode(ev, fault))
				return 1;
			kprintf("iommu: AMD-Vi event %s: %08x %08x %08x %08x\n", fault->what, ev[0],
				ev[1], ev[2], ev[3]);
		}
		if (unit_signalled_abort(evt_unit, fault))
			return 1;
	}
	return 0;
}

void amd_iommu_dump(void)
{
	for (unsigned i = 0; i < nr_units; i++) {
		amd_unit_dump(&units[i]);
		if (unit_func[i])
			kprintf("iommu: unit %u PCI status 0x%x\n", i,
				pci_read16(unit_func[i], PCI_STATUS));
	}
}

const struct iommu_ops iommu_amd_ops = {
	.name = "AMD-Vi",
	.init = amd_init,
	.domain_new = amd_domain_new,
	.domain_free = amd_domain_free,
	.map = amd_map,
	.unmap = amd_unmap,
	.attach = amd_attach,
	.fault_next = amd_fault_next,
};
