/* exitport=on: port 0xf4 ends the VM with the value written (core/vm_debug_exit.c). */
#ifndef HV_VM_DEBUG_EXIT_H
#define HV_VM_DEBUG_EXIT_H

struct vm;

/* Adds the "debug-exit" unit when the configuration asks for it (nothing
 * otherwise). 0, or the error of vm_devices_create. */
int vm_debug_exit_init(struct vm *vm);

#endif
