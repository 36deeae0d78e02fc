/* A VM's NIC: a virtio-net device on the machine's switch (core/vm_net.c). */
#ifndef HV_VM_NET_H
#define HV_VM_NET_H

struct vm;

/* Adds the "virtio-net" unit to the VM's devices when its configuration has
 * net (nothing otherwise). 0, or the error of vm_devices_create. */
int vm_net_init(struct vm *vm);

/* For the monitor's net command: the switch's totals, then one line per
 * port (VM, MAC, frames in and out, drops, spoofs, bad frames). */
void vm_net_report(void);

#endif
