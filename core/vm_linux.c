/*
 * Loading a Linux guest (a bzImage boot module): ACPI tables in the BIOS
 * area, the boot protocol's zero page, e820 map and 64-bit entry
 * (loaders/linux.c). vCPU 0 starts at the kernel's entry; the others wait
 * for the INIT-SIPI-SIPI the kernel sends them.
 */
#include "hv/vm_linux.h"
#include "hv/bootinfo.h"
#include "hv/console.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "devices/acpi_tables.h"
#include "loaders/linux.h"

#define ACPI_TABLES_GPA 0xe0000ULL /* where a PC BIOS keeps them, inside the reserved area */
#define PCI_MMIO_START 0xc0000000ULL /* the DSDT's PCI window starts here: RAM ends below */

int vm_load_linux(struct vm *vm, const struct boot_info *bi, const struct boot_module *kernel,
		  struct guest_ctx *ctx, struct vcpu_regs *regs0)
{
	const struct vm_config *c = &vm->cfg;
	const struct boot_module *initrd = NULL;
	static const struct guest_mem_range bios = { GUEST_BIOS_AREA_START,
						     GUEST_BIOS_AREA_END - GUEST_BIOS_AREA_START,
						     E820_TYPE_RESERVED };
	struct guest_platform plat = { .reserved = &bios, .nr_reserved = 1 };
	struct acpi_platform acpi;
	const char *why = "";
	void *tables;
	int n, err;

	if (c->mem > PCI_MMIO_START) {
		kprintf("config: vm '%s': field 'mem': a Linux guest has at most 3 GiB (the PCI "
			"window starts at 0xc0000000)\n", vm->name);
		return -EINVAL;
	}
	if (c->initrd[0]) {
		initrd = bootinfo_find_module(bi, c->initrd);
		if (!initrd) {
			kprintf("utsuwa: vm '%s': initrd '%s': no boot module of that name\n",
				vm->name, c->initrd);
			return -ENOENT;
		}
	}
	acpi_platform_defaults(&acpi, c->cpus);
	tables = gmem_map(vm, ACPI_TABLES_GPA, ACPI_TABLES_MAX_SIZE, true);
	n = tables ? acpi_tables_build(tables, ACPI_TABLES_MAX_SIZE, ACPI_TABLES_GPA, &acpi,
				       &plat.acpi_rsdp)
		   : -ENOSPC;
	if (n < 0) {
		kprintf("utsuwa: vm '%s': cannot build its ACPI tables (%d)\n", vm->name, n);
		return n;
	}
	err = linux_load(vm, (const void *)(uintptr_t)kernel->start, kernel->end - kernel->start,
			 initrd ? (const void *)(uintptr_t)initrd->start : NULL,
			 initrd ? initrd->end - initrd->start : 0,
			 c->cmdline[0] ? c->cmdline : "console=ttyS0", &plat, true, ctx, regs0,
			 &why);
	if (err)
		kprintf("utsuwa: vm '%s': image '%s': %s\n", vm->name, c->image, why);
	return err;
}
