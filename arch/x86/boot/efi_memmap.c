/*
 * UEFI memory types, read after ExitBootServices() (UEFI 2.10, 7.2.1, the
 * tables "Memory Type Usage before/after ExitBootServices()").
 */
#include "arch/x86/boot/efi_memmap.h"

#define MB_USABLE 1
#define MB_RESERVED 2
#define MB_ACPI 3
#define MB_NVS 4
#define MB_BAD 5

u32 efi_memory_to_mb_type(const struct efi_memory_descriptor *d)
{
	switch (d->type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		/*
		 * Free once boot services are gone (the loader's own pages too:
		 * what it handed over, the modules and the info block, is kept
		 * by the callers from the Multiboot2 tags). Only memory that can
		 * be cached write-back and is not set aside for a specific
		 * purpose is ordinary RAM.
		 */
		if ((d->attribute & EFI_MEMORY_SP) || !(d->attribute & EFI_MEMORY_WB))
			return MB_RESERVED;
		return MB_USABLE;
	case EFI_ACPI_RECLAIM_MEMORY:
		return MB_ACPI;
	case EFI_ACPI_MEMORY_NVS:
		return MB_NVS;
	case EFI_UNUSABLE_MEMORY:
		return MB_BAD;
	default:
		/*
		 * Runtime services code and data stay the firmware's for good
		 * (utsuwa never calls them, but SMM and the firmware may use
		 * them); MMIO, PAL code and persistent memory are not RAM for us;
		 * unaccepted memory needs accepting first; an unknown type is
		 * left alone.
		 */
		return MB_RESERVED;
	}
}
