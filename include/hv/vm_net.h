/* A VM's NIC: a virtio-net device on the machine's switch (core/vm_net.c). */
#ifndef HV_VM_NET_H
#define HV_VM_NET_H

#include "hv/types.h"

struct vm;

/* Adds the "virtio-net" unit to the VM's devices when its configuration has
 * net (nothing otherwise). 0, or the error of vm_devices_create. */
int vm_net_init(struct vm *vm);

/* For the monitor's net command: the switch's totals, then one line per
 * port (VM, MAC, frames in and out, drops, spoofs, bad frames), then the
 * MACs it learned and their ports. */
void vm_net_report(void);

/* A VM built for a saved state (restore, incoming migration): its NIC
 * joins the switch now (core/vm_snapshot.c, vm_state_start). 0, or
 * -EEXIST (another VM has its MAC) or -ENOSPC, said on the console. */
int vm_net_join(struct vm *vm);

/* After the VM arrived by migration: its MAC announced on the segment
 * (virtio_net_announce). Nothing when it has no NIC. */
void vm_net_announce(struct vm *vm);

/* The VM's NIC counters, from the guest's side: what it sent (tx) and
 * received (rx) through the switch, and what the switch or the device
 * refused. For GET /vms/NAME. */
struct vm_net_io {
	u64 tx_frames, tx_bytes; /* sent by the guest, taken by the switch */
	u64 rx_frames, rx_bytes; /* delivered into the guest's receive buffers */
	u64 rx_dropped;          /* for the guest, but it had no (big enough) buffer posted */
	u64 tx_refused;          /* sent with another MAC, too short or long, or a bad chain */
};
/* false when the VM has no NIC. */
bool vm_net_io(struct vm *vm, struct vm_net_io *out);

#endif
