/* A VM's disks: virtio-blk devices on its PCI bus (core/vm_disks.c). */
#ifndef HV_VM_DISKS_H
#define HV_VM_DISKS_H

#include "devices/virtio_blk.h"

struct vm;

/* Adds the "virtio-blk" unit to the VM's devices when its configuration has
 * disks (nothing otherwise). 0, or the error of vm_devices_create. */
int vm_disks_init(struct vm *vm);

/* Before another host opens the VM's disks on shared storage (a migration's
 * switch-over): each machine-disk partition the VM writes is flushed to
 * stable storage, waiting here (interrupts on, CPU 0). Call with the VM
 * quiesced (nothing in flight). 0, or the error, *which naming the disk. */
int vm_disks_flush(struct vm *vm, const char **which);

/* One disk's counters for GET /vms/NAME (devices/virtio_blk.h). */
struct vm_disk_io {
	const char *spec; /* the disk= entry: "module:NAME" or "gpt:LABEL" */
	bool ro;
	struct virtio_blk_stats st;
};
/* The VM's disks' counters into out[0..max), in disk= order; how many. */
unsigned vm_disks_io(struct vm *vm, struct vm_disk_io *out, unsigned max);

#endif
