/*
 * The UEFI memory map as a Multiboot2 loader hands it over (Multiboot2
 * Specification 2.0, 3.6 "EFI memory map": the firmware's own descriptors,
 * as GetMemoryMap() returned them when the loader exited boot services), and
 * how its memory types read for a kernel that runs after ExitBootServices().
 */
#ifndef ARCH_X86_BOOT_EFI_MEMMAP_H
#define ARCH_X86_BOOT_EFI_MEMMAP_H

#include "hv/types.h"

/* UEFI 2.10, 7.2.3 "EFI_BOOT_SERVICES.GetMemoryMap()": EFI_MEMORY_DESCRIPTOR. */
struct efi_memory_descriptor {
	u32 type;           /* EFI_MEMORY_TYPE */
	u32 pad;
	u64 physical_start; /* 4 KiB aligned */
	u64 virtual_start;
	u64 number_of_pages; /* of EFI_PAGE_SIZE, 4 KiB */
	u64 attribute;      /* EFI_MEMORY_* capabilities */
} __packed;
_Static_assert(sizeof(struct efi_memory_descriptor) == 40, "EFI_MEMORY_DESCRIPTOR");
_Static_assert(offsetof(struct efi_memory_descriptor, physical_start) == 8, "PhysicalStart");
_Static_assert(offsetof(struct efi_memory_descriptor, number_of_pages) == 24, "NumberOfPages");

#define EFI_PAGE_SHIFT 12

/* EFI_MEMORY_TYPE (UEFI 2.10, 7.2.1 "EFI_BOOT_SERVICES.AllocatePages()"). */
#define EFI_RESERVED_MEMORY_TYPE 0
#define EFI_LOADER_CODE 1
#define EFI_LOADER_DATA 2
#define EFI_BOOT_SERVICES_CODE 3
#define EFI_BOOT_SERVICES_DATA 4
#define EFI_RUNTIME_SERVICES_CODE 5
#define EFI_RUNTIME_SERVICES_DATA 6
#define EFI_CONVENTIONAL_MEMORY 7
#define EFI_UNUSABLE_MEMORY 8
#define EFI_ACPI_RECLAIM_MEMORY 9
#define EFI_ACPI_MEMORY_NVS 10
#define EFI_MEMORY_MAPPED_IO 11
#define EFI_MEMORY_MAPPED_IO_PORT_SPACE 12
#define EFI_PAL_CODE 13
#define EFI_PERSISTENT_MEMORY 14
#define EFI_UNACCEPTED_MEMORY_TYPE 15

/* Memory attributes (same section): the ones that decide whether RAM is RAM. */
#define EFI_MEMORY_WB BIT(3)
#define EFI_MEMORY_SP BIT(18) /* specific-purpose memory: not for general use */

/*
 * The Multiboot (E820) type of one descriptor for a kernel running after
 * ExitBootServices(): 1 usable, 2 reserved, 3 ACPI tables, 4 ACPI NVS,
 * 5 unusable.
 */
u32 efi_memory_to_mb_type(const struct efi_memory_descriptor *d);

#endif
