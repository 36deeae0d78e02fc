#include "drivers/disks.h"
void virtio_blk_pci_probe(void) {}
