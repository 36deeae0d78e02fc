/*
 * virtio-net devices on the machine's PCI buses (vendor 1AF4h; device
 * 1041h modern, 1000h transitional: virtio 1.2, 4.1.2), through the modern
 * transport only (drivers/virtio_drv_pci.c). Each becomes a NIC "vnet<N>"
 * (drivers/nic.h); the first NIC of any kind is the uplink.
 */
#include "drivers/virtio_drv_pci.h"
#include "drivers/virtio_net.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/format.h"

#define VIRTIO_NET_MODERN 0x1041
#define VIRTIO_NET_TRANSITIONAL 0x1000

static void probe_one(struct pci_func *f, unsigned n)
{
	struct vnic *v = kzalloc(sizeof(*v));
	const u8 *m;
	int vector;

	if (!v)
		return;
	fmt_snprintf(v->nic.name, sizeof(v->nic.name), "vnet%u", n);
	v->t.name = v->nic.name;
	if (vdrv_pci_find(&v->t, f, ETH_ALEN))
		return;
	pci_enable(f);
	/* MSI-X on before the queue's vector is set (4.1.5.1.2). */
	v->msix_entry = 0;
	vector = pci_irq_route(f, v->msix_entry, vnic_irq, v);
	if (vector < 0) {
		kprintf("%s: no MSI-X (%d): not used (interrupts are required)\n", v->t.name, vector);
		return;
	}
	if (vnic_start(v))
		return; /* v stays: the device may still hold its queues */
	m = v->nic.mac;
	kprintf("%s: %02x:%02x.%u virtio-net: MAC %02x:%02x:%02x:%02x:%02x:%02x, vector 0x%x "
		"(MSI-X entry %u), receive queue of %u, transmit queue of %u\n", v->t.name, f->bus,
		f->dev, f->fn, m[0], m[1], m[2], m[3], m[4], m[5], vector, v->msix_entry, v->rx.size,
		v->tx.size);
	nic_register(&v->nic);
}

void virtio_net_pci_probe(void)
{
	struct pci_func *f;
	unsigned n = 0;

	while ((f = pci_claim_id(VIRTIO_PCI_VENDOR, VIRTIO_NET_MODERN)) ||
	       (f = pci_claim_id(VIRTIO_PCI_VENDOR, VIRTIO_NET_TRANSITIONAL))) {
		f->owner = "virtio-net";
		probe_one(f, n++);
	}
}
