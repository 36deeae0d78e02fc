/* Walking a VM's device list (include/hv/device.h). */
#include "hv/device.h"
#include "hv/vm.h"
#include "lib/string.h"

int vm_devices_create(struct vm *vm, const struct device_ops *const *table, unsigned n)
{
	struct vm_devices *d = &vm->devices;

	for (unsigned i = 0; i < n; i++) {
		void *dev;

		if (d->nr == VM_MAX_DEVICES)
			return -ENOSPC;
		dev = table[i]->create(vm);
		if (!dev)
			return -ENOMEM;
		d->list[d->nr++] = (struct vm_device){ .ops = table[i], .dev = dev };
	}
	return 0;
}

void vm_devices_reset(struct vm *vm)
{
	for (unsigned i = 0; i < vm->devices.nr; i++)
		if (vm->devices.list[i].ops->reset)
			vm->devices.list[i].ops->reset(vm->devices.list[i].dev);
}

void vm_devices_tick(struct vm *vm, u64 now_ns)
{
	for (unsigned i = 0; i < vm->devices.nr; i++)
		if (vm->devices.list[i].ops->tick)
			vm->devices.list[i].ops->tick(vm->devices.list[i].dev, now_ns);
}

void vm_devices_catch_up(struct vm *vm, u64 now_ns)
{
	for (unsigned i = 0; i < vm->devices.nr; i++) {
		const struct vm_device *d = &vm->devices.list[i];

		/* A timer's tick raises only what is due (core/vm_platform.c). */
		if (d->ops->next_event_ns && d->ops->tick)
			d->ops->tick(d->dev, now_ns);
	}
}

void vm_devices_quiesce(struct vm *vm)
{
	for (unsigned i = 0; i < vm->devices.nr; i++)
		if (vm->devices.list[i].ops->quiesce)
			vm->devices.list[i].ops->quiesce(vm->devices.list[i].dev);
}

void vm_devices_destroy(struct vm *vm)
{
	while (vm->devices.nr) {
		struct vm_device *d = &vm->devices.list[--vm->devices.nr];

		d->ops->destroy(d->dev);
		*d = (struct vm_device){ 0 };
	}
}

struct vm_device *vm_device_find(struct vm *vm, const char *name)
{
	for (unsigned i = 0; i < vm->devices.nr; i++)
		if (!strcmp(vm->devices.list[i].ops->name, name))
			return &vm->devices.list[i];
	return NULL;
}
