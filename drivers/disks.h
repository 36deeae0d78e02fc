/*
 * The machine's disks, found at boot (core/disks.c runs these in order):
 * each probe registers a blockdev per disk it can drive.
 */
#ifndef DRIVERS_DISKS_H
#define DRIVERS_DISKS_H

void nvme_pci_probe(void);       /* drivers/nvme_pci.c: "nvme0", ... */
void virtio_blk_pci_probe(void); /* drivers/virtio_blk_pci.c: "vblk0", ... */

#endif
