/*
 * A VM's devices as a list of units, each with one ops table: the VM
 * creates, resets, saves, loads, ticks and destroys them by walking the
 * list, never by name (in the spirit of kvmtool's device registry and
 * Jailhouse's units). core/device.c walks the list; the tables live with
 * the code that wires each device into a VM (core/vm_platform.c).
 */
#ifndef HV_DEVICE_H
#define HV_DEVICE_H

#include "hv/types.h"

struct vm;
struct snap_writer;
struct snap_cursor;

struct device_ops {
	const char *name; /* short and unique in a VM: the snapshot names its section by it */
	/* Builds the device for vm, registers its port/MMIO ranges and its
	 * interrupt lines; NULL on failure (nothing left registered). */
	void *(*create)(struct vm *vm);
	/* Back to the power-on state (a guest's or the monitor's reset). */
	void (*reset)(void *dev);
	/* The device's state into / out of its snapshot section; load refuses
	 * a state the device could not be in, with -EINVAL, and changes nothing. */
	int (*save)(const void *dev, struct snap_writer *w);
	int (*load)(void *dev, struct snap_cursor *c);
	/* Frees it; its bus ranges go with the VM's buses. */
	void (*destroy)(void *dev);
	/* The VM is paused and its memory is about to be saved: finish, and
	 * start no more, whatever writes guest memory from outside its vCPUs
	 * (requests in flight, frames from other VMs). May be NULL. */
	void (*quiesce)(void *dev);
	/* The scheduler tick, on the VM's clock: raise what is due. May be NULL. */
	void (*tick)(void *dev, u64 now_ns);
	/* When tick next has something to do, on the same clock; ~0: nothing
	 * (the host timer is armed for it: core/sched_timer.c). May be NULL. */
	u64 (*next_event_ns)(void *dev);
};

struct vm_device {
	const struct device_ops *ops;
	void *dev;
};

#define VM_MAX_DEVICES 16

struct vm_devices {
	struct vm_device list[VM_MAX_DEVICES]; /* in creation order */
	unsigned nr;
};

/* Creates each device of table[0..n) in order and adds it to vm->devices.
 * -ENOMEM when a create fails, -ENOSPC when the list is full; the devices
 * created before stay in the list, for vm_devices_destroy (vm_free). */
int vm_devices_create(struct vm *vm, const struct device_ops *const *table, unsigned n);
/* Every device back to power-on, in creation order. */
void vm_devices_reset(struct vm *vm);
/* Every device's timer hook. */
void vm_devices_tick(struct vm *vm, u64 now_ns);
/* The timer hook of every device that has timers (next_event_ns), which
 * raises what is due by now_ns: for an access that must see what the host
 * timer watching them has not raised yet (core/vm_platform.c, the 8259's
 * reads). */
void vm_devices_catch_up(struct vm *vm, u64 now_ns);
/* Every device's quiesce, in creation order (a snapshot, before memory). */
void vm_devices_quiesce(struct vm *vm);
/* Every device freed, last created first; the list is empty after. */
void vm_devices_destroy(struct vm *vm);
/* The device of that name, or NULL. */
struct vm_device *vm_device_find(struct vm *vm, const char *name);

#endif
