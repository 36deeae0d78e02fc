/*
 * virtio-blk devices on the machine's PCI buses (vendor 1AF4h; device
 * 1042h modern, 1001h transitional: virtio 1.2, 4.1.2), through the modern
 * transport only: the vendor capabilities (4.1.4) locate the common,
 * notification and device configuration structures in memory BARs. Each
 * is registered as blockdev "vblk<N>".
 */
#include "drivers/disks.h"
#include "drivers/virtio_blk.h"
#include "drivers/virtio_drv_pci.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/format.h"

#define VIRTIO_BLK_MODERN 0x1042
#define VIRTIO_BLK_TRANSITIONAL 0x1001

static const struct blockdev_ops vblk_ops = { .submit = vblk_submit };

static void probe_one(struct pci_func *f, unsigned n)
{
	struct vblk *v = kzalloc(sizeof(*v));
	struct blockdev *bd = kzalloc(sizeof(*bd));
	int vector;

	if (!v || !bd)
		goto fail;
	fmt_snprintf(bd->name, sizeof(bd->name), "vblk%u", n);
	v->t.name = bd->name;
	if (vdrv_pci_find(&v->t, f, 16))
		goto fail;
	pci_enable(f);
	/* MSI-X on before the queue's vector is set: a device may refuse a
	 * vector while MSI-X is off (4.1.5.1.2). */
	v->msix_entry = 0;
	vector = pci_irq_route(f, v->msix_entry, vblk_irq, v);
	if (vector < 0) {
		kprintf("%s: no MSI-X (%d): not used (interrupts are required)\n", v->t.name, vector);
		goto fail;
	}
	if (vblk_start(v))
		goto fail;
	bd->nr_sectors = v->capacity;
	bd->read_only = v->read_only;
	bd->ops = &vblk_ops;
	bd->priv = v;
	if (blockdev_register(bd)) {
		kprintf("%s: cannot register\n", v->t.name);
		goto fail;
	}
	kprintf("%s: %02x:%02x.%u virtio-blk: %lu MiB (%lu sectors)%s, vector 0x%x (MSI-X entry "
		"%u), queue of %u, %u segments per request%s\n", v->t.name, f->bus, f->dev, f->fn,
		v->capacity >> 11, v->capacity, v->read_only ? ", read-only" : "", vector,
		v->msix_entry, v->q.size, v->seg_max, v->can_flush ? ", flush" : ", no flush");
	return;
fail:
	kfree(bd); /* v stays: the device may still hold its queue */
}

void virtio_blk_pci_probe(void)
{
	struct pci_func *f;
	unsigned n = 0;

	while ((f = pci_claim_id(VIRTIO_PCI_VENDOR, VIRTIO_BLK_MODERN)) ||
	       (f = pci_claim_id(VIRTIO_PCI_VENDOR, VIRTIO_BLK_TRANSITIONAL))) {
		f->owner = "virtio-blk";
		probe_one(f, n++);
	}
}
