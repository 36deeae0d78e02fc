/*
 * Intel 82574L NICs on the machine's PCI buses (8086:10D3; QEMU's -device
 * e1000e): BAR 0 holds the registers (128 KiB of memory space: datasheet
 * chapter 9, PCI configuration), interrupts by MSI-X (its table in BAR 3)
 * or MSI. And 82540EMs (8086:100E; QEMU's -device e1000, Bochs's e1000:):
 * BAR 0 the same 128 KiB (8254x SDM 4.1), legacy INTx only, which is not
 * routed: the card is polled from CPU 0's tick (drivers/e1000e.c). Each card
 * becomes a struct nic, "e1000e<N>", handed to core/uplink.c.
 */
#include "drivers/e1000e.h"
#include "drivers/pci.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/format.h"

#define INTEL_VENDOR 0x8086
#define E1000E_82574L 0x10d3
#define E1000_82540EM 0x100e
#define E1000E_BAR0_SIZE 0x20000

/* An 82540EM: no vector to route; the uplink polls it (nic.tick). */
static void probe_82540(struct pci_func *f, unsigned n)
{
	struct e1000e *e = kzalloc(sizeof(*e));
	const u8 *m;

	if (!e) {
		kprintf("e1000e%u: out of memory\n", n);
		return;
	}
	fmt_snprintf(e->nic.name, sizeof(e->nic.name), "e1000e%u", n);
	e->name = e->nic.name;
	e->model = E1000E_82540;
	e->regs = pci_map_bar(f, 0);
	if (!e->regs || f->bar[0].size < E1000E_BAR0_SIZE) {
		kprintf("%s: %02x:%02x.%u: BAR 0 is not a usable memory BAR\n", e->name, f->bus,
			f->dev, f->fn);
		kfree(e);
		return;
	}
	pci_enable(f);
	if (e1000e_start(e))
		return; /* e stays: the card may still hold its rings' addresses */
	m = e->nic.mac;
	kprintf("%s: %02x:%02x.%u 82540EM: MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s, "
		"polled (no MSI), RX ring of %u, TX ring of %u\n", e->name, f->bus, f->dev, f->fn,
		m[0], m[1], m[2], m[3], m[4], m[5], e->link_up ? "up" : "down", E1000E_RX_RING,
		E1000E_TX_RING);
	nic_register(&e->nic);
}

static void probe_one(struct pci_func *f, unsigned n)
{
	struct e1000e *e = kzalloc(sizeof(*e));
	bool msix = pci_find_cap(f, PCI_CAP_ID_MSIX, 0);
	const u8 *m;
	int vector = -1;

	if (!e) {
		kprintf("e1000e%u: out of memory\n", n);
		return;
	}
	fmt_snprintf(e->nic.name, sizeof(e->nic.name), "e1000e%u", n);
	e->name = e->nic.name;
	e->regs = pci_map_bar(f, 0);
	if (!e->regs || f->bar[0].size < E1000E_BAR0_SIZE) {
		kprintf("%s: %02x:%02x.%u: BAR 0 is not a usable memory BAR\n", e->name, f->bus,
			f->dev, f->fn);
		goto fail;
	}
	pci_enable(f);
	/* The vector is routed before the card is started; e1000e_irq ignores
	 * it until then, and the card sends nothing before IMS is written. */
	e->msix_entry = 0;
	vector = pci_irq_route(f, e->msix_entry, e1000e_irq, e);
	if (vector < 0) {
		kprintf("%s: no MSI-X or MSI (%d): not used (interrupts are required)\n", e->name,
			vector);
		goto fail;
	}
	if (e1000e_start(e))
		goto fail; /* e stays: the vector still names it */
	m = e->nic.mac;
	kprintf("%s: %02x:%02x.%u e1000e: MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s, vector "
		"0x%x (%s), RX ring of %u, TX ring of %u\n", e->name, f->bus, f->dev, f->fn, m[0],
		m[1], m[2], m[3], m[4], m[5], e->link_up ? "up" : "down", vector,
		msix ? "MSI-X entry 0" : "MSI", E1000E_RX_RING, E1000E_TX_RING);
	nic_register(&e->nic);
	return;
fail:
	if (vector < 0)
		kfree(e);
}

void e1000e_pci_probe(void)
{
	struct pci_func *f;
	unsigned n = 0;

	while ((f = pci_claim_id(INTEL_VENDOR, E1000E_82574L))) {
		f->owner = "e1000e";
		probe_one(f, n++);
	}
	while ((f = pci_claim_id(INTEL_VENDOR, E1000_82540EM))) {
		f->owner = "e1000e";
		probe_82540(f, n++);
	}
}
