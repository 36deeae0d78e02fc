/*
 * virtio-blk devices on the machine's PCI buses (vendor 1AF4h; device
 * 1042h modern, 1001h transitional: virtio 1.2, 4.1.2), through the modern
 * transport only: the vendor capabilities (4.1.4) locate the common,
 * notification and device configuration structures in memory BARs. Each
 * is registered as blockdev "vblk<N>".
 */
#include "drivers/disks.h"
#include "drivers/pci.h"
#include "drivers/virtio_blk.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/format.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_BLK_MODERN 0x1042
#define VIRTIO_BLK_TRANSITIONAL 0x1001

/* struct virtio_pci_cap (4.1.4): cfg_type at 3, bar at 4, offset at 8,
 * length at 12; the notify capability adds its multiplier at 16. */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULT 16
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_DEVICE 4

static const struct blockdev_ops vblk_ops = { .submit = vblk_submit };

/* The structure of type cfg_type, mapped, at least min bytes; NULL if none.
 * The first capability of a type is the preferred one (4.1.4). */
static volatile u8 *find_cfg(struct pci_func *f, u8 cfg_type, u32 min, u8 *cap_out)
{
	for (u8 cap = pci_find_cap(f, PCI_CAP_ID_VNDR, 0); cap;
	     cap = pci_find_cap(f, PCI_CAP_ID_VNDR, cap)) {
		u8 bar = pci_read8(f, cap + CAP_BAR);
		u32 off = pci_read32(f, cap + CAP_OFFSET), len = pci_read32(f, cap + CAP_LENGTH);
		volatile u8 *base;

		if (pci_read8(f, cap + CAP_CFG_TYPE) != cfg_type || bar >= PCI_NR_BARS)
			continue;
		if (len < min || (u64)off + len > f->bar[bar].size)
			continue;
		base = pci_map_bar(f, bar);
		if (!base)
			continue;
		*cap_out = cap;
		return base + off;
	}
	return NULL;
}

static void probe_one(struct pci_func *f, unsigned n)
{
	struct vblk *v = kzalloc(sizeof(*v));
	struct blockdev *bd = kzalloc(sizeof(*bd));
	u8 cap = 0, notify_cap = 0;
	int vector;

	if (!v || !bd)
		goto fail;
	fmt_snprintf(bd->name, sizeof(bd->name), "vblk%u", n);
	v->name = bd->name;
	v->common = find_cfg(f, CFG_COMMON, 0x38, &cap);
	v->notify_base = find_cfg(f, CFG_NOTIFY, 2, &notify_cap);
	v->device = find_cfg(f, CFG_DEVICE, 16, &cap);
	if (!v->common || !v->notify_base || !v->device) {
		kprintf("%s: %02x:%02x.%u has no modern virtio structures: not used\n", v->name,
			f->bus, f->dev, f->fn);
		goto fail;
	}
	v->notify_multiplier = pci_read32(f, notify_cap + CAP_NOTIFY_MULT);
	pci_enable(f);
	/* MSI-X on before the queue's vector is set: a device may refuse a
	 * vector while MSI-X is off (4.1.5.1.2). */
	v->msix_entry = 0;
	vector = pci_irq_route(f, v->msix_entry, vblk_irq, v);
	if (vector < 0) {
		kprintf("%s: no MSI-X (%d): not used (interrupts are required)\n", v->name, vector);
		goto fail;
	}
	if (vblk_start(v))
		goto fail;
	bd->nr_sectors = v->capacity;
	bd->read_only = v->read_only;
	bd->ops = &vblk_ops;
	bd->priv = v;
	if (blockdev_register(bd)) {
		kprintf("%s: cannot register\n", v->name);
		goto fail;
	}
	kprintf("%s: %02x:%02x.%u virtio-blk: %lu MiB (%lu sectors)%s, vector 0x%x (MSI-X entry "
		"%u), queue of %u, %u segments per request%s\n", v->name, f->bus, f->dev, f->fn,
		v->capacity >> 11, v->capacity, v->read_only ? ", read-only" : "", vector,
		v->msix_entry, v->size, v->seg_max, v->can_flush ? ", flush" : ", no flush");
	return;
fail:
	kfree(bd); /* v stays: the device may still hold its queue */
}

void virtio_blk_pci_probe(void)
{
	struct pci_func *f;
	unsigned n = 0;

	while ((f = pci_claim_id(VIRTIO_VENDOR, VIRTIO_BLK_MODERN)) ||
	       (f = pci_claim_id(VIRTIO_VENDOR, VIRTIO_BLK_TRANSITIONAL)))
		probe_one(f, n++);
}
