/*
 * Where a modern virtio PCI function keeps its structures (virtio 1.2,
 * 4.1.4): vendor-specific capabilities naming a BAR, an offset and a
 * length for the common, notification and device configuration. The
 * first capability of a type is the preferred one (4.1.4).
 */
#include "drivers/virtio_drv_pci.h"
#include "hv/console.h"

/* struct virtio_pci_cap (4.1.4): cfg_type at 3, bar at 4, offset at 8,
 * length at 12; the notify capability adds its multiplier at 16 (4.1.4.4). */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULT 16
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_DEVICE 4

/* The structure of type cfg_type, mapped, at least min bytes; NULL if none. */
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

int vdrv_pci_find(struct vdrv *d, struct pci_func *f, u32 device_cfg_min)
{
	u8 cap = 0, notify_cap = 0;

	d->common = find_cfg(f, CFG_COMMON, 0x38, &cap);
	d->notify_base = find_cfg(f, CFG_NOTIFY, 2, &notify_cap);
	d->device = find_cfg(f, CFG_DEVICE, device_cfg_min, &cap);
	if (!d->common || !d->notify_base || !d->device) {
		kprintf("%s: %02x:%02x.%u has no modern virtio structures: not used\n", d->name,
			f->bus, f->dev, f->fn);
		return -ENODEV;
	}
	d->notify_multiplier = pci_read32(f, notify_cap + CAP_NOTIFY_MULT);
	return 0;
}
