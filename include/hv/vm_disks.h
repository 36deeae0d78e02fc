/* A VM's disks: virtio-blk devices on its PCI bus (core/vm_disks.c). */
#ifndef HV_VM_DISKS_H
#define HV_VM_DISKS_H

struct vm;

/* Adds the "virtio-blk" unit to the VM's devices when its configuration has
 * disks (nothing otherwise). 0, or the error of vm_devices_create. */
int vm_disks_init(struct vm *vm);

#endif
