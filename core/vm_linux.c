/*
 * Loading a kernel booted as on a PC: a Linux bzImage (the boot protocol's
 * zero page, e820 map and 64-bit entry: loaders/linux.c) or a Multiboot (v1)
 * kernel (loaders/multiboot_guest.c), each with ACPI tables in the BIOS
 * area. vCPU 0 starts at the kernel's entry; the others wait for the
 * INIT-SIPI-SIPI the kernel sends them.
 */
#include "hv/vm_linux.h"
#include "hv/bootinfo.h"
#include "hv/image_store.h"
#include "hv/console.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "devices/acpi_tables.h"
#include "loaders/linux.h"
#include "loaders/multiboot_guest.h"

#define ACPI_TABLES_GPA 0xe0000ULL /* where a PC BIOS keeps them, inside the reserved area */

/*
 * What a PC gives a kernel it boots: the BIOS area reserved, ACPI tables
 * there (MADT, FADT, DSDT). RAM below 4 GiB ends below the PCI window, the
 * rest lies above 4 GiB (include/hv/gmem_layout.h): the e820 map built from
 * it (loaders/linux.c) tells the kernel so. plat
 * points into static and VM memory; bios is the caller's.
 */
static int pc_platform(struct vm *vm, struct guest_platform *plat)
{
	static const struct guest_mem_range bios = { GUEST_BIOS_AREA_START,
						     GUEST_BIOS_AREA_END - GUEST_BIOS_AREA_START,
						     E820_TYPE_RESERVED };
	struct acpi_platform acpi;
	void *tables;
	int n;

	*plat = (struct guest_platform){ .reserved = &bios, .nr_reserved = 1 };
	acpi_platform_defaults(&acpi, vm->cfg.cpus);
	tables = gmem_map(vm, ACPI_TABLES_GPA, ACPI_TABLES_MAX_SIZE, true);
	n = tables ? acpi_tables_build(tables, ACPI_TABLES_MAX_SIZE, ACPI_TABLES_GPA, &acpi,
				       &plat->acpi_rsdp)
		   : -ENOSPC;
	if (n < 0) {
		kprintf("utsuwa: vm '%s': cannot build its ACPI tables (%d)\n", vm->name, n);
		return n;
	}
	return 0;
}

/* The configuration's initrd= module: NULL if none is configured (*err 0)
 * or it is missing (*err -ENOENT, said). */
static const struct boot_module *initrd_module(struct vm *vm, const struct boot_info *bi, int *err)
{
	const struct boot_module *m;

	*err = 0;
	if (!vm->cfg.initrd[0])
		return NULL;
	m = image_find(bi, vm->cfg.initrd);
	if (!m) {
		kprintf("utsuwa: vm '%s': initrd '%s': no boot module or stored image of that name\n", vm->name,
			vm->cfg.initrd);
		*err = -ENOENT;
	}
	return m;
}

/* What both kinds of kernel need first: the initrd= module (NULL if none)
 * and the PC platform. 0, or an error already said. */
static int pc_prepare(struct vm *vm, const struct boot_info *bi,
		      const struct boot_module **initrd, struct guest_platform *plat)
{
	int err;

	*initrd = initrd_module(vm, bi, &err);
	return err ? err : pc_platform(vm, plat);
}

/* A loader's failure, said with the image's name. */
static int loaded(const struct vm *vm, int err, const char *why)
{
	if (err)
		kprintf("utsuwa: vm '%s': image '%s': %s\n", vm->name, vm->cfg.image, why);
	return err;
}

int vm_load_linux(struct vm *vm, const struct boot_info *bi, const struct boot_module *kernel,
		  struct guest_ctx *ctx, struct vcpu_regs *regs0)
{
	const struct vm_config *c = &vm->cfg;
	const struct boot_module *initrd;
	struct guest_platform plat;
	const char *why = "";
	int err;

	err = pc_prepare(vm, bi, &initrd, &plat);
	if (err)
		return err;
	err = linux_load(vm, (const void *)(uintptr_t)kernel->start, kernel->end - kernel->start,
			 initrd ? (const void *)(uintptr_t)initrd->start : NULL,
			 initrd ? initrd->end - initrd->start : 0,
			 c->cmdline[0] ? c->cmdline : "console=ttyS0", &plat, true, ctx, regs0,
			 &why);
	return loaded(vm, err, why);
}

int vm_load_multiboot(struct vm *vm, const struct boot_info *bi, const struct boot_module *kernel,
		      struct guest_ctx *ctx, struct vcpu_regs *regs0)
{
	const struct vm_config *c = &vm->cfg;
	const struct boot_module *initrd;
	struct multiboot_module mod;
	struct guest_platform plat;
	const char *why = "";
	int err;

	err = pc_prepare(vm, bi, &initrd, &plat);
	if (err)
		return err;
	/* The initrd is the one module; its string is its name, as GRUB's
	 * `module /boot/NAME NAME` would give. */
	if (initrd)
		mod = (struct multiboot_module){ (const void *)(uintptr_t)initrd->start,
						 initrd->end - initrd->start, c->initrd };
	err = multiboot_guest_load(vm, (const void *)(uintptr_t)kernel->start,
				   kernel->end - kernel->start, c->cmdline, initrd ? &mod : NULL,
				   &plat, ctx, regs0, &why);
	return loaded(vm, err, why);
}
