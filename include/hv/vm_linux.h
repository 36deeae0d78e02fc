/* Kernels booted as on a PC: Linux and Multiboot (core/vm_linux.c). */
#ifndef HV_VM_LINUX_H
#define HV_VM_LINUX_H

#include "hv/guest_ctx.h"

struct vm;
struct boot_info;
struct boot_module;
struct vcpu_regs;

/* ACPI tables, the kernel and its initrd into the VM's memory; ctx and
 * regs0 for vCPU 0 at the kernel's 64-bit entry. Prints why on failure. */
int vm_load_linux(struct vm *vm, const struct boot_info *bi, const struct boot_module *kernel,
		  struct guest_ctx *ctx, struct vcpu_regs *regs0);

/* ACPI tables, the Multiboot kernel and its module (the initrd= file, if
 * any, with its name as the module's string) into the VM's memory; ctx and
 * regs0 for vCPU 0 at the kernel's 32-bit entry. Prints why on failure. */
int vm_load_multiboot(struct vm *vm, const struct boot_info *bi, const struct boot_module *kernel,
		      struct guest_ctx *ctx, struct vcpu_regs *regs0);

#endif
