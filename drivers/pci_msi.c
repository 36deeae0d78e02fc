/*
 * What a driver does with its PCI function once found (drivers/pci.h): map
 * a memory BAR, turn on decoding and bus mastering, and route MSI-X (PCI
 * 3.0, 6.8.2) or MSI (6.8.1) to a host vector on the boot CPU.
 */
#include "drivers/pci.h"
#include "drivers/iommu.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/percpu.h"
#include "hv/platform.h"
#include "asm/idmap.h"

/* MSI-X capability (PCI 3.0, 6.8.2.3-6.8.2.5) and table entry (6.8.2.6-9). */
#define MSIX_CTRL 2
#define MSIX_CTRL_SIZE_MASK 0x7ff /* table size - 1 */
#define MSIX_CTRL_FUNC_MASK BIT(14)
#define MSIX_CTRL_ENABLE BIT(15)
#define MSIX_TABLE 4 /* BIR in bits 2:0, offset in 31:3 */
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA 8
#define MSIX_ENTRY_CTRL 12
#define MSIX_ENTRY_MASKED BIT(0)

/* MSI capability (6.8.1.3-6.8.1.6). */
#define MSI_CTRL 2
#define MSI_CTRL_ENABLE BIT(0)
#define MSI_CTRL_MME_MASK (7 << 4) /* multiple message enable: 0 = one */
#define MSI_CTRL_64BIT BIT(7)
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA_32 8
#define MSI_DATA_64 12

/*
 * The message: physical destination mode, fixed delivery, edge (SDM vol. 3A,
 * 11.11.1-11.11.2): address 0xFEE00000 with the APIC ID in bits 19:12,
 * data the vector.
 */
#define MSI_ADDR_BASE 0xfee00000u

static u32 msi_address(void)
{
	return MSI_ADDR_BASE | (percpu_area[0].apic_id & 0xff) << 12;
}

volatile void *pci_map_bar(struct pci_func *f, unsigned n)
{
	struct pci_bar *b = n < PCI_NR_BARS ? &f->bar[n] : NULL;

	if (!b || !b->size || b->io || !b->base)
		return NULL;
	/* Registers with side effects must not be cached or combined. A BAR
	 * above the map is mapped first (64-bit BARs a firmware put high). */
	if (b->base + b->size > idmap_limit() && idmap_extend(b->base + b->size)) {
		kprintf("pci: %02x:%02x.%u: BAR %u at %lx cannot be mapped\n", f->bus, f->dev,
			f->fn, n, b->base);
		return NULL;
	}
	if (idmap_set_uncached(b->base, b->size))
		return NULL;
	return (volatile void *)(uintptr_t)b->base;
}

void pci_enable(struct pci_func *f)
{
	u16 cmd = pci_read16(f, PCI_COMMAND);

	/* Into the host domain before it may master the bus: it reaches the
	 * buffers its driver grants (drivers/iommu.h). */
	iommu_attach_host(PCI_BDF(f->bus, f->dev, f->fn));

	pci_write16(f, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
					    PCI_COMMAND_INTX_DISABLE);
}

static int route_msix(struct pci_func *f, u8 cap, unsigned entry, u8 vector)
{
	u16 ctrl = pci_read16(f, cap + MSIX_CTRL);
	u32 table = pci_read32(f, cap + MSIX_TABLE);
	unsigned bir = table & 7;
	volatile u8 *base, *e;

	if (entry > (ctrl & MSIX_CTRL_SIZE_MASK))
		return -ERANGE;
	base = bir < PCI_NR_BARS ? pci_map_bar(f, bir) : NULL;
	if (!base || (table & ~7u) + (entry + 1) * MSIX_ENTRY_SIZE > f->bar[bir].size)
		return -ENODEV;
	/* Enabled with the whole function masked while the entry is written
	 * (6.8.2.3: entries are written with the vector masked). */
	pci_write16(f, cap + MSIX_CTRL, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_FUNC_MASK);
	e = base + (table & ~7u) + entry * MSIX_ENTRY_SIZE;
	mmio_write32(e + MSIX_ENTRY_CTRL, MSIX_ENTRY_MASKED);
	mmio_write32(e + MSIX_ENTRY_ADDR_LO, msi_address());
	mmio_write32(e + MSIX_ENTRY_ADDR_HI, 0);
	mmio_write32(e + MSIX_ENTRY_DATA, vector);
	mmio_write32(e + MSIX_ENTRY_CTRL, 0);
	pci_write16(f, cap + MSIX_CTRL, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FUNC_MASK);
	return 0;
}

static int route_msi(struct pci_func *f, u8 cap, unsigned entry, u8 vector)
{
	u16 ctrl = pci_read16(f, cap + MSI_CTRL);

	if (entry)
		return -ERANGE; /* one message: we ask for no more */
	pci_write32(f, cap + MSI_ADDR_LO, msi_address());
	if (ctrl & MSI_CTRL_64BIT) {
		pci_write32(f, cap + MSI_ADDR_HI, 0);
		pci_write16(f, cap + MSI_DATA_64, vector);
	} else {
		pci_write16(f, cap + MSI_DATA_32, vector);
	}
	pci_write16(f, cap + MSI_CTRL, (ctrl & ~MSI_CTRL_MME_MASK) | MSI_CTRL_ENABLE);
	return 0;
}

int pci_irq_reroute(struct pci_func *f, unsigned entry, u8 vector)
{
	u8 msix = pci_find_cap(f, PCI_CAP_ID_MSIX, 0);
	u8 msi = msix ? 0 : pci_find_cap(f, PCI_CAP_ID_MSI, 0);

	if (!msix && !msi)
		return -ENODEV;
	return msix ? route_msix(f, msix, entry, vector) : route_msi(f, msi, entry, vector);
}

int pci_irq_route(struct pci_func *f, unsigned entry, void (*fn)(void *ctx), void *ctx)
{
	u8 msix = pci_find_cap(f, PCI_CAP_ID_MSIX, 0);
	u8 msi = msix ? 0 : pci_find_cap(f, PCI_CAP_ID_MSI, 0);
	int vector, ret;

	if (!msix && !msi)
		return -ENODEV;
	vector = irq_alloc_vector();
	if (vector < 0)
		return vector;
	/* The handler is in place before the device can send. */
	irq_register((u8)vector, fn, ctx);
	ret = msix ? route_msix(f, msix, entry, (u8)vector) : route_msi(f, msi, entry, (u8)vector);
	if (ret) {
		irq_register((u8)vector, NULL, NULL);
		return ret;
	}
	return vector;
}
