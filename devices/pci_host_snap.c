/*
 * The PCI host's snapshot payload (docs/snapshot.md, "pci_host"):
 * CONFIG_ADDRESS, the host bridge's configuration space, and the devfns of
 * the registered devices. Those devices are the VM's wiring, not state, and
 * save their own configuration spaces; the list is there so a load into a
 * host wired differently is refused rather than misread.
 */
#include "devices/pci_host.h"

#include "hv/snapshot.h"
#include "lib/string.h"

#define PCI_HOST_SNAP_VERSION 1

int pci_host_save(const struct pci_host *d, struct snap_writer *w)
{
	struct pci_host *h = (struct pci_host *)d; /* the lock only */

	spin_lock(&h->lock);
	snap_put_u16(w, PCI_HOST_SNAP_VERSION);
	snap_put_u32(w, h->address);
	snap_put_bool(w, h->address_ext);
	snap_put_bytes(w, h->bridge.data, PCI_CFG_SIZE);
	snap_put_u8(w, (u8)h->nr_slots);
	for (unsigned i = 0; i < h->nr_slots; i++)
		snap_put_u8(w, h->slots[i].devfn);
	spin_unlock(&h->lock);
	return snap_writer_error(w);
}

int pci_host_load(struct pci_host *d, struct snap_cursor *c)
{
	u8 data[PCI_CFG_SIZE], devfn[PCI_HOST_MAX_DEVS];
	unsigned nr_slots;
	bool address_ext, ok;
	u32 address;

	if (snap_get_u16(c) != PCI_HOST_SNAP_VERSION)
		return -EINVAL;
	address = snap_get_u32(c);
	address_ext = snap_get_bool(c);
	snap_get_bytes(c, data, sizeof(data));
	nr_slots = snap_get_u8(c);
	if (nr_slots > PCI_HOST_MAX_DEVS)
		return -EINVAL;
	snap_get_bytes(c, devfn, nr_slots);
	if (!snap_cursor_done(c) || (address & ~PCI_ADDR_MASK))
		return -EINVAL;

	spin_lock(&d->lock);
	ok = nr_slots == d->nr_slots;
	for (unsigned i = 0; ok && i < nr_slots; i++)
		ok = devfn[i] == d->slots[i].devfn;
	/* Read-only bits (IDs, class, BAR type bits) are the bridge's, not the snapshot's. */
	for (unsigned i = 0; ok && i < PCI_CFG_SIZE; i++) {
		u8 fixed = (u8)~(d->bridge.wmask[i] | d->bridge.w1c[i]);

		ok = ((data[i] ^ d->bridge.data[i]) & fixed) == 0;
	}
	if (ok) {
		d->address = address;
		d->address_ext = address_ext;
		memcpy(d->bridge.data, data, sizeof(data));
	}
	spin_unlock(&d->lock);
	return ok ? 0 : -EINVAL;
}
