/*
 * NVMe controllers on the machine's PCI buses (class 01h, subclass 08h,
 * programming interface 02h: NVM Express, PCI Code and ID Assignment 1.11,
 * and NVMe 1.4, 2.1): each gets its registers (BAR0, 64-bit, 2.1.10),
 * bus mastering, an MSI-X vector for its I/O completion queue, and is
 * registered as blockdev "nvme<N>".
 */
#include "drivers/disks.h"
#include "drivers/nvme.h"
#include "drivers/pci.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/format.h"

#define MSIX_CTRL_SIZE_MASK 0x7ff

static const struct blockdev_ops nvme_ops = { .submit = nvme_submit };

/* The admin queue owns MSI-X entry 0 (NVMe 1.4, 3.1.1: its interrupts go to
 * vector 0); we poll it at start, so the I/O queue takes entry 1 when
 * there is one and entry 0 stays masked. */
static u16 io_irq_entry(struct pci_func *f)
{
	u8 cap = pci_find_cap(f, PCI_CAP_ID_MSIX, 0);

	return cap && (pci_read16(f, cap + 2) & MSIX_CTRL_SIZE_MASK) >= 1 ? 1 : 0;
}

static void probe_one(struct pci_func *f, unsigned n)
{
	struct nvme_ctrl *c = kzalloc(sizeof(*c));
	struct blockdev *bd = kzalloc(sizeof(*bd));
	int vector, ret;

	if (!c || !bd)
		goto fail;
	fmt_snprintf(bd->name, sizeof(bd->name), "nvme%u", n);
	c->name = bd->name;
	c->regs = pci_map_bar(f, 0);
	if (!c->regs) {
		kprintf("%s: %02x:%02x.%u: BAR 0 is not a usable memory BAR\n", c->name, f->bus,
			f->dev, f->fn);
		goto fail;
	}
	pci_enable(f);
	c->irq_entry = io_irq_entry(f);
	/* Before start: a controller refuses an I/O queue with an interrupt
	 * vector other than 0 while MSI-X is off (NVMe 1.4, 5.3: Invalid
	 * Interrupt Vector). The handler ignores calls until the queue exists. */
	vector = pci_irq_route(f, c->irq_entry, nvme_irq, c);
	if (vector < 0) {
		kprintf("%s: no MSI-X or MSI (%d): not used (interrupts are required)\n", c->name,
			vector);
		goto fail;
	}
	if (nvme_start(c))
		goto fail;
	bd->nr_sectors = c->nr_lbas;
	bd->ops = &nvme_ops;
	bd->priv = c;
	ret = blockdev_register(bd);
	if (ret) {
		kprintf("%s: cannot register (%d)\n", c->name, ret);
		goto fail; /* the controller stays idle: nothing submits to it */
	}
	kprintf("%s: %02x:%02x.%u \"%s\" serial \"%s\", namespace %u: %lu MiB (%lu sectors), "
		"vector 0x%x (MSI-X entry %u), %u commands in flight, %u KiB per command%s\n",
		c->name, f->bus, f->dev, f->fn, c->model, c->serial, c->nsid, c->nr_lbas >> 11,
		c->nr_lbas, vector, c->irq_entry, c->nr_slots, c->max_xfer >> 10,
		c->volatile_cache ? ", volatile write cache" : "");
	return;
fail:
	/* What the controller was given stays allocated: it may still own it. */
	kfree(bd);
}

void nvme_pci_probe(void)
{
	struct pci_func *f;
	unsigned n = 0;

	while ((f = pci_claim_class(0x01, 0x08, 0x02))) {
		f->owner = "nvme";
		probe_one(f, n++);
	}
}
