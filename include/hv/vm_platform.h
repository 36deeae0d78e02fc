/* A VM's PC platform devices (core/vm_platform.c). */
#ifndef HV_VM_PLATFORM_H
#define HV_VM_PLATFORM_H

struct vm;

/* PIC, PIT, RTC, PCI host bridge and ACPI PM on the VM's port bus; the
 * UART's interrupt on ISA IRQ 4. Needs the UART and the I/O APIC first. */
int vm_platform_init(struct vm *vm);
/* Back to the reset state: the devices above, the UART, the test device and
 * the I/O APIC (the vCPUs' local APICs are reset with them). */
void vm_platform_reset(struct vm *vm);
/* Timers that are due raise their interrupt lines (the scheduler tick). */
void vm_platform_tick(struct vm *vm);

#endif
