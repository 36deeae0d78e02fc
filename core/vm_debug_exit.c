/*
 * exitport=on (docs/config.md): QEMU's isa-debug-exit convention for test
 * kernels, which end QEMU by writing to port 0xf4. Here a write of 1, 2 or
 * 4 bytes to ports 0xf4-0xf7 ends that VM, with the value written
 * (zero-extended) as its exit code, what expect= compares; QEMU would exit
 * with (value << 1) | 1 instead. Off by default: a guest that did not ask
 * for it must not end on a stray OUT (random code does that: crashme).
 * Reads give all ones, as of a port nobody claims.
 */
#include "hv/vm_debug_exit.h"
#include "hv/bus.h"
#include "hv/console.h"
#include "hv/device.h"
#include "hv/vm.h"

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_PORTS 4

static int debug_exit_read(void *dev, u64 offset, u8 size, u64 *val)
{
	*val = ~0ULL;
	return 0;
}

static int debug_exit_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct vm *vm = dev;

	kprintf("utsuwa: vm %s: wrote %lu to port 0x%lx (exitport=on)\n", vm->name,
		(unsigned long)val, (unsigned long)(DEBUG_EXIT_PORT + offset));
	vm_end(vm, VM_ENDED, (int)(u32)val);
	return 0;
}

static const struct io_ops debug_exit_ops = { debug_exit_read, debug_exit_write };

static void *debug_exit_create(struct vm *vm)
{
	if (bus_register(&vm->pio, DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, "debug-exit", &debug_exit_ops,
			 vm))
		return NULL;
	return vm;
}

/* Its range goes with the VM's port bus; it holds nothing else. */
static void debug_exit_destroy(void *dev)
{
}

static const struct device_ops debug_exit_dev = {
	.name = "debug-exit",
	.create = debug_exit_create,
	.destroy = debug_exit_destroy,
};

int vm_debug_exit_init(struct vm *vm)
{
	const struct device_ops *const table[] = { &debug_exit_dev };

	if (!vm->cfg.exitport)
		return 0;
	return vm_devices_create(vm, table, 1);
}
