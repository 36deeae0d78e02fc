/* A passed-through PCI function's virtual configuration space, MSI and
 * MSI-X (devices/pci_passthru.h). */
#include "devices/pci_passthru.h"

#include "lib/string.h"

#define PAGE_4K 0x1000ULL
#define CAP_WALK_MAX 48 /* (256 - 64) / 4: a list longer than this loops */

/* MSI capability registers (PCI 3.0, 6.8.1.3-6.8.1.6). */
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA_32 8
#define MSI_DATA_64 12
/* MSI-X capability and table (6.8.2.3-6.8.2.9). */
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_ENTRY_SIZE 16
#define CAP_KEEP_MAX 16 /* MSI, MSI-X and vendor-specific ones, in the list's order */

static u32 vread(const struct pci_passthru *pt, unsigned reg, unsigned size)
{
	return pci_config_read(&pt->cfg, (u8)reg, (u8)size);
}

static u32 rread(const struct pci_passthru *pt, unsigned reg, unsigned size)
{
	return pt->host->cfg_read(pt->ctx, (u8)reg, (u8)size);
}

/* ---- building the view ---- */

static void keep_msi(struct pci_passthru *pt, u8 at)
{
	struct pci_config *c = &pt->cfg;
	u16 ctrl = (u16)rread(pt, at + MSI_CTRL, 2);
	bool is64 = ctrl & PT_MSI_CTRL_64BIT;

	pt->msi_cap = at;
	/* One message, no per-vector mask: Multiple Message Capable 0 and the
	 * PVM bit clear (6.8.1.3), so the guest uses only what we emulate. */
	pci_config_put(c, at, 1, PT_CAP_ID_MSI);
	pci_config_put(c, at + MSI_CTRL, 2, ctrl & PT_MSI_CTRL_64BIT);
	pci_config_put_wmask(c, at + MSI_CTRL, 2, PT_MSI_CTRL_ENABLE);
	pci_config_put_wmask(c, at + MSI_ADDR_LO, 4, 0xfffffffc);
	if (is64)
		pci_config_put_wmask(c, at + MSI_ADDR_HI, 4, 0xffffffff);
	pci_config_put_wmask(c, at + (is64 ? MSI_DATA_64 : MSI_DATA_32), 2, 0xffff);
}

static void keep_msix(struct pci_passthru *pt, u8 at)
{
	struct pci_config *c = &pt->cfg;
	u16 size = (u16)((rread(pt, at + MSIX_CTRL, 2) & 0x7ff) + 1);
	u32 table = rread(pt, at + MSIX_TABLE, 4), pba = rread(pt, at + MSIX_PBA, 4);

	/* Table and PBA must lie in a memory BAR we offer (6.8.2.4-6.8.2.5). */
	if ((table & 7) != (pba & 7) || (table & 7) >= PCI_NR_BARS || !pt->bar[table & 7].size)
		return;
	pt->msix_cap = at;
	pt->real_vectors = size;
	pt->nr_vectors = MIN(size, (u16)PT_MAX_VECTORS);
	pt->msix_bir = table & 7;
	pt->msix_table = table & ~7u;
	pt->msix_pba = pba & ~7u;
	pci_config_put(c, at, 1, PT_CAP_ID_MSIX);
	pci_config_put(c, at + MSIX_CTRL, 2, pt->nr_vectors - 1u);
	pci_config_put_wmask(c, at + MSIX_CTRL, 2, PT_MSIX_CTRL_ENABLE | PT_MSIX_CTRL_MASKALL);
	pci_config_put(c, at + MSIX_TABLE, 4, table);
	pci_config_put(c, at + MSIX_PBA, 4, pba);
}

/* A vendor-specific capability (PCI 3.0, 6.7: ID 09h, its length in byte
 * 2), copied read-only: a virtio 1.x device describes where its registers
 * are in its BARs this way (virtio 1.2, 4.1.4), by BAR number and offset,
 * so the copy holds no host address. Writes to it are dropped (the virtio
 * PCI configuration access window, which drivers do not need, then reads
 * what was there). Returns false for a length that does not fit. */
static bool keep_vendor(struct pci_passthru *pt, u8 at)
{
	u8 len = (u8)rread(pt, at + 2, 1);

	if (len < 3 || at + len > 0x100)
		return false;
	for (unsigned i = 0; i < len; i++)
		pci_config_put(&pt->cfg, at + i, 1, rread(pt, at + i, 1));
	return true;
}

/* Walks the real list (6.7) and links the kept capabilities in its order. */
static void build_caps(struct pci_passthru *pt)
{
	u8 kept[CAP_KEEP_MAX], nr = 0, at = 0;

	if (rread(pt, PCI_STATUS, 2) & PT_STATUS_CAP_LIST)
		at = (u8)(rread(pt, PCI_CAPABILITY_LIST, 1) & 0xfc);
	for (unsigned n = 0; at >= 0x40 && n < CAP_WALK_MAX; n++) {
		u8 id = (u8)rread(pt, at, 1);

		if (id == PT_CAP_ID_MSI && !pt->msi_cap) {
			keep_msi(pt, at);
			kept[nr++] = at;
		} else if (id == PT_CAP_ID_MSIX && !pt->msix_cap) {
			keep_msix(pt, at);
			if (pt->msix_cap)
				kept[nr++] = at;
		} else if (id == PT_CAP_ID_VNDR && nr < CAP_KEEP_MAX - 2 && keep_vendor(pt, at)) {
			kept[nr++] = at;
		}
		at = (u8)(rread(pt, at + 1, 1) & 0xfc);
	}
	/* With MSI-X the guest gets MSI-X alone: one real mechanism is routed
	 * (pci_irq_route prefers MSI-X), so the guest must use that one. */
	if (pt->msix_cap && pt->msi_cap) {
		unsigned len = vread(pt, pt->msi_cap + MSI_CTRL, 2) & PT_MSI_CTRL_64BIT ? 14 : 10;
		unsigned j = 0;

		memset(&pt->cfg.data[pt->msi_cap], 0, len);
		memset(&pt->cfg.wmask[pt->msi_cap], 0, len);
		for (unsigned i = 0; i < nr; i++)
			if (kept[i] != pt->msi_cap)
				kept[j++] = kept[i];
		nr = (u8)j;
		pt->msi_cap = 0;
	}
	if (pt->msi_cap && !pt->msix_cap)
		pt->nr_vectors = 1;
	if (!nr)
		return;
	pci_config_put(&pt->cfg, PCI_STATUS, 2, PT_STATUS_CAP_LIST);
	pci_config_put(&pt->cfg, PCI_CAPABILITY_LIST, 1, kept[0]);
	for (unsigned i = 0; i < nr; i++)
		pci_config_put(&pt->cfg, kept[i] + 1, 1, i + 1 < nr ? kept[i + 1] : 0);
}

/* The header (6.1): what reset restores. Lock held or not yet shared. */
static void build_view(struct pci_passthru *pt)
{
	struct pci_config *c = &pt->cfg;
	u32 id = rread(pt, PCI_VENDOR_ID, 4), cr = rread(pt, PCI_REVISION_ID, 4);

	pt->msi_cap = pt->msix_cap = 0;
	pt->nr_vectors = 0;
	pci_config_init(c, (u16)id, (u16)(id >> 16), cr >> 8, (u8)cr);
	pci_config_put(c, PCI_SUBSYSTEM_VENDOR_ID, 4, rread(pt, PCI_SUBSYSTEM_VENDOR_ID, 4));
	pci_config_put_wmask(c, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
					   PT_COMMAND_INTX_DISABLE);
	pci_config_put_wmask(c, PCI_INTERRUPT_LINE, 1, 0xff);
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pt_bar *b = &pt->bar[i];

		if (!b->size)
			continue;
		pci_config_set_bar(c, i, b->size, b->flags);
		pci_config_put(c, PCI_BAR0 + 4 * i, 4, (u32)b->place | b->flags);
		if (b->flags & PCI_BAR_MEM64)
			pci_config_put(c, PCI_BAR0 + 4 * i + 4, 4, (u32)(b->place >> 32));
	}
	build_caps(pt);
	for (unsigned i = 0; i < PT_MAX_VECTORS; i++)
		pt->msix[i] = (typeof(pt->msix[i])){ .ctrl = PT_MSIX_ENTRY_MASKED };
	pt->pending = 0;
}

/* ---- following the guest's writes ---- */

/* The real command register: memory space and bus master as the guest's,
 * I/O off, INTx# off (we use MSI), the rest as the function has it. */
static void forward_command(struct pci_passthru *pt)
{
	u16 v = (u16)vread(pt, PCI_COMMAND, 2), r = (u16)rread(pt, PCI_COMMAND, 2);

	r &= (u16)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	r |= (v & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) | PT_COMMAND_INTX_DISABLE;
	pt->host->cfg_write(pt->ctx, PCI_COMMAND, 2, r);
}

/* Each BAR decodes where the guest put it while memory space is on. A BAR
 * the guest has not placed (0), or is sizing (all ones: past the window),
 * decodes nowhere; the owner refuses an address over RAM. */
static void remap(struct pci_passthru *pt)
{
	bool mem = vread(pt, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;

	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		struct pt_bar *b = &pt->bar[i];
		u64 base = pci_config_bar(&pt->cfg, i), want;

		if (!b->size)
			continue;
		want = mem && base && base + b->size > base && base + b->size <= (1ULL << 48) ?
			       base : 0;
		if (want == b->mapped)
			continue;
		pt->host->bar_moved(pt->ctx, i, b->mapped, want);
		b->mapped = want;
	}
}

static bool msix_on(const struct pci_passthru *pt)
{
	return pt->msix_cap && (vread(pt, pt->msix_cap + MSIX_CTRL, 2) & PT_MSIX_CTRL_ENABLE);
}

static bool msi_on(const struct pci_passthru *pt)
{
	return pt->msi_cap && (vread(pt, pt->msi_cap + MSI_CTRL, 2) & PT_MSI_CTRL_ENABLE);
}

/* The guest's message for entry, if it may be sent now. Lock held. */
static bool message(const struct pci_passthru *pt, unsigned entry, u64 *addr, u32 *data)
{
	if (msix_on(pt)) {
		if (entry >= pt->nr_vectors ||
		    (vread(pt, pt->msix_cap + MSIX_CTRL, 2) & PT_MSIX_CTRL_MASKALL) ||
		    (pt->msix[entry].ctrl & PT_MSIX_ENTRY_MASKED))
			return false;
		*addr = (u64)pt->msix[entry].addr_hi << 32 | pt->msix[entry].addr_lo;
		*data = pt->msix[entry].data;
		return true;
	}
	if (msi_on(pt) && !entry) {
		bool is64 = vread(pt, pt->msi_cap + MSI_CTRL, 2) & PT_MSI_CTRL_64BIT;

		*addr = vread(pt, pt->msi_cap + MSI_ADDR_LO, 4);
		if (is64)
			*addr |= (u64)vread(pt, pt->msi_cap + MSI_ADDR_HI, 4) << 32;
		*data = vread(pt, pt->msi_cap + (is64 ? MSI_DATA_64 : MSI_DATA_32), 2);
		return true;
	}
	return false;
}

/* Sends every pending message an unmask released (6.8.2.9). */
static void flush_pending(struct pci_passthru *pt)
{
	for (unsigned e = 0; e < PT_MAX_VECTORS; e++) {
		u64 addr = 0;
		u32 data = 0;
		bool go = false;

		spin_lock(&pt->lock);
		if ((pt->pending & BIT(e)) && message(pt, e, &addr, &data)) {
			pt->pending &= ~(u32)BIT(e);
			go = true;
		}
		spin_unlock(&pt->lock);
		if (go)
			pt->host->send(pt->ctx, addr, data);
	}
}

void pci_passthru_irq(struct pci_passthru *pt, unsigned entry)
{
	u64 addr = 0;
	u32 data = 0;
	bool go;

	if (entry >= PT_MAX_VECTORS)
		return;
	spin_lock(&pt->lock);
	go = message(pt, entry, &addr, &data);
	/* Masked MSI-X: pending (6.8.2.10). MSI and MSI-X off: the function
	 * would have used INTx#, which the guest does not have: dropped. */
	if (!go && msix_on(pt) && entry < pt->nr_vectors)
		pt->pending |= BIT(entry);
	spin_unlock(&pt->lock);
	if (go)
		pt->host->send(pt->ctx, addr, data);
}

static u32 cfg_read(void *dev, u8 reg, u8 size)
{
	struct pci_passthru *pt = dev;
	u32 v;

	spin_lock(&pt->lock);
	v = pci_config_read(&pt->cfg, reg, size);
	spin_unlock(&pt->lock);
	return v;
}

static bool overlaps(u8 reg, u8 size, unsigned at, unsigned len)
{
	return at && reg < at + len && reg + size > at;
}

static void cfg_write(void *dev, u8 reg, u8 size, u32 val)
{
	struct pci_passthru *pt = dev;
	bool ctrl;

	spin_lock(&pt->lock);
	pci_config_write(&pt->cfg, reg, size, val); /* only the bits of wmask */
	if (overlaps(reg, size, PCI_COMMAND, 2))
		forward_command(pt);
	if (overlaps(reg, size, PCI_COMMAND, 2) || overlaps(reg, size, PCI_BAR0, 4 * PCI_NR_BARS))
		remap(pt);
	ctrl = overlaps(reg, size, pt->msix_cap + MSIX_CTRL, 2) ||
	       overlaps(reg, size, pt->msi_cap + MSI_CTRL, 2);
	spin_unlock(&pt->lock);
	if (ctrl)
		flush_pending(pt);
}

const struct pci_dev_ops pci_passthru_cfg_ops = {
	.read = cfg_read,
	.write = cfg_write,
};

/* ---- the MSI-X table and PBA ---- */

static u64 page_down(u64 x)
{
	return x & ~(PAGE_4K - 1);
}

static u64 page_up(u64 x)
{
	return (x + PAGE_4K - 1) & ~(PAGE_4K - 1);
}

bool pci_passthru_trap_range(const struct pci_passthru *pt, unsigned bar, u64 *off, u64 *len)
{
	u64 lo, hi;

	if (bar >= PCI_NR_BARS || !pt->bar[bar].size)
		return false;
	if (pt->bar[bar].size < PAGE_4K) {
		*off = 0;
		*len = pt->bar[bar].size;
		return true;
	}
	if (!pt->msix_cap || bar != pt->msix_bir)
		return false;
	/* Table and PBA (one bit per real entry, 6.8.2.10), page-rounded. */
	lo = MIN(pt->msix_table, pt->msix_pba);
	hi = MAX(pt->msix_table + (u64)MSIX_ENTRY_SIZE * pt->real_vectors,
		 pt->msix_pba + (pt->real_vectors + 63) / 64 * 8);
	*off = page_down(lo);
	*len = MIN(page_up(hi), pt->bar[bar].size) - *off;
	return true;
}

static bool in_table(const struct pci_passthru *pt, unsigned bar, u64 off, u8 size)
{
	return pt->msix_cap && bar == pt->msix_bir && off >= pt->msix_table &&
	       off + size <= pt->msix_table + (u64)MSIX_ENTRY_SIZE * pt->nr_vectors;
}

static bool in_pba(const struct pci_passthru *pt, unsigned bar, u64 off, u8 size)
{
	return pt->msix_cap && bar == pt->msix_bir && off >= pt->msix_pba &&
	       off + size <= pt->msix_pba + 8;
}

/* Anywhere in the real table (more entries than offered, or the PBA's
 * bytes past the 8 we emulate): never the device's to see written. */
static bool in_real_table(const struct pci_passthru *pt, unsigned bar, u64 off)
{
	return pt->msix_cap && bar == pt->msix_bir &&
	       ((off >= pt->msix_table &&
		 off < pt->msix_table + (u64)MSIX_ENTRY_SIZE * pt->real_vectors) ||
		(off >= pt->msix_pba && off < pt->msix_pba + (pt->real_vectors + 63) / 64 * 8));
}

u64 pci_passthru_trap_read(struct pci_passthru *pt, unsigned bar, u64 off, u8 size)
{
	u64 v = 0;

	if (bar >= PCI_NR_BARS || !size || size > 8)
		return 0;
	spin_lock(&pt->lock);
	if (in_table(pt, bar, off, size)) {
		/* Dword or aligned qword accesses (6.8.2.9); bytes read 0. */
		u64 o = off - pt->msix_table;
		const u32 *e = &pt->msix[o / MSIX_ENTRY_SIZE].addr_lo;

		if (size == 4 && !(o & 3))
			v = e[(o & 15) / 4];
		else if (size == 8 && !(o & 7))
			v = e[(o & 15) / 4] | (u64)e[(o & 15) / 4 + 1] << 32;
	} else if (in_pba(pt, bar, off, size)) {
		v = ((u64)pt->pending >> ((off - pt->msix_pba) * 8)) &
		    (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
	} else if (in_real_table(pt, bar, off)) {
		v = 0; /* the real entries past those offered: zeros */
	} else {
		spin_unlock(&pt->lock);
		return pt->host->bar_read(pt->ctx, bar, off, size);
	}
	spin_unlock(&pt->lock);
	return v;
}

void pci_passthru_trap_write(struct pci_passthru *pt, unsigned bar, u64 off, u8 size, u64 val)
{
	bool unmask = false;

	if (bar >= PCI_NR_BARS || !size || size > 8)
		return;
	spin_lock(&pt->lock);
	if (in_table(pt, bar, off, size)) {
		u64 o = off - pt->msix_table;
		u32 *e = &pt->msix[o / MSIX_ENTRY_SIZE].addr_lo;
		unsigned w = (unsigned)(o & 15) / 4;

		if (size == 4 && !(o & 3)) {
			e[w] = (u32)val;
		} else if (size == 8 && !(o & 7)) {
			e[w] = (u32)val;
			e[w + 1] = (u32)(val >> 32);
		}
		/* Only the Mask bit of Vector Control is defined (6.8.2.9). */
		pt->msix[o / MSIX_ENTRY_SIZE].ctrl &= PT_MSIX_ENTRY_MASKED;
		unmask = !(pt->msix[o / MSIX_ENTRY_SIZE].ctrl & PT_MSIX_ENTRY_MASKED);
	} else if (in_pba(pt, bar, off, size) || in_real_table(pt, bar, off)) {
		/* The PBA is read-only; the real table is utsuwa's alone. */
	} else {
		spin_unlock(&pt->lock);
		pt->host->bar_write(pt->ctx, bar, off, size, val);
		return;
	}
	spin_unlock(&pt->lock);
	if (unmask)
		flush_pending(pt);
}

/* ---- life ---- */

int pci_passthru_init(struct pci_passthru *pt, const struct pt_host_ops *host, void *ctx,
		      const struct pt_bar bars[PCI_NR_BARS])
{
	memset(pt, 0, sizeof(*pt));
	pt->host = host;
	pt->ctx = ctx;
	if ((rread(pt, PCI_HEADER_TYPE, 1) & 0x7f) != 0)
		return -ENODEV;
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		pt->bar[i] = bars[i];
		pt->bar[i].mapped = 0;
		pt->bar[i].flags &= PCI_BAR_MEM64 | PCI_BAR_PREFETCH;
	}
	pci_passthru_reset(pt);
	return 0;
}

void pci_passthru_reset(struct pci_passthru *pt)
{
	spin_lock(&pt->lock);
	build_view(pt);
	/* Firmware's work: memory decoding on at the places chosen. */
	pci_config_put(&pt->cfg, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	forward_command(pt);
	remap(pt);
	spin_unlock(&pt->lock);
}

void pci_passthru_unmap(struct pci_passthru *pt)
{
	spin_lock(&pt->lock);
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		if (pt->bar[i].mapped) {
			pt->host->bar_moved(pt->ctx, i, pt->bar[i].mapped, 0);
			pt->bar[i].mapped = 0;
		}
	spin_unlock(&pt->lock);
}
