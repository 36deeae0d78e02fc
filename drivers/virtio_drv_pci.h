/* A modern virtio PCI function's structures (drivers/virtio_drv_pci.c). */
#ifndef DRIVERS_VIRTIO_DRV_PCI_H
#define DRIVERS_VIRTIO_DRV_PCI_H

#include "drivers/pci.h"
#include "drivers/virtio_drv.h"

#define VIRTIO_PCI_VENDOR 0x1af4

/* Fills d's structures from f's capabilities (the device configuration at
 * least device_cfg_min bytes), mapped. 0, or -ENODEV after a line. */
int vdrv_pci_find(struct vdrv *d, struct pci_func *f, u32 device_cfg_min);

#endif
