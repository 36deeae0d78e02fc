/* What the boot loader told us, in one form for Multiboot v1 and Multiboot2. */
#ifndef HV_BOOTINFO_H
#define HV_BOOTINFO_H

#include "hv/types.h"

#define BOOT_MAX_MMAP 128
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 2048
#define BOOT_MODNAME_MAX 128

#define MEM_USABLE 1 /* Multiboot memory type 1: available RAM */

struct mem_range {
	u64 base, len;
	u32 type; /* Multiboot/E820 type; MEM_USABLE is free RAM */
};

struct boot_module {
	u64 start, end;             /* physical, end exclusive */
	char cmdline[BOOT_MODNAME_MAX]; /* the loader's string for the module */
};

/*
 * The framebuffer the loader set up (Multiboot2 2.0, 3.6 "Framebuffer
 * info", tag 8), for the log on the screen (drivers/fbcon.c).
 */
#define BOOT_FB_INDEXED 0
#define BOOT_FB_RGB 1
#define BOOT_FB_EGA_TEXT 2

struct boot_fb {
	bool present;
	u8 type;            /* BOOT_FB_* */
	u8 bpp;             /* bits per pixel; 16 for EGA text */
	u64 addr;           /* physical */
	u32 pitch;          /* bytes per line of pixels, or per text row */
	u32 width, height;  /* pixels, or characters for EGA text */
	u8 red_pos, red_size, green_pos, green_size, blue_pos, blue_size; /* RGB only */
};

/* Where bi->mmap came from. */
enum boot_mmap_source {
	BOOT_MMAP_NONE,
	BOOT_MMAP_MB1,     /* Multiboot v1 mmap_* fields */
	BOOT_MMAP_MB2,     /* Multiboot2 memory map tag (type 6) */
	BOOT_MMAP_EFI,     /* Multiboot2 EFI memory map tag (type 17), converted */
	BOOT_MMAP_MEMINFO, /* built from mem_lower/mem_upper */
};

struct boot_info {
	char cmdline[BOOT_CMDLINE_MAX];
	struct mem_range mmap[BOOT_MAX_MMAP];
	unsigned nr_mmap;
	struct boot_module mods[BOOT_MAX_MODULES];
	unsigned nr_mods;
	u8 rsdp[36];   /* a copy of the ACPI RSDP when the loader gave one (Multiboot2 tags 14/15) */
	bool has_rsdp;
	u8 rsdp_tag;   /* the Multiboot2 tag it came from: 14 (ACPI 1.0) or 15 (2.0+) */
	enum boot_mmap_source mmap_source;
	unsigned nr_efi_desc; /* descriptors in the EFI memory map tag, when used */
	/*
	 * The firmware is UEFI: the loader passed an EFI system table or memory
	 * map (Multiboot2 tags 11, 12, 17-20). No BIOS areas are then to be read.
	 */
	bool uefi;
	u64 efi_systab;       /* the EFI system table's address, 0 if not given */
	bool efi_bs_active;   /* tag 18: the loader did not exit boot services */
	struct boot_fb fb;
	u64 info_start, info_end; /* the loader's info block, physical */
};

/*
 * Fills bi from the loader's magic and info block (physical address, reached
 * through the identity map). Returns 0, or -EINVAL for an unknown magic.
 */
int bootinfo_parse(u32 magic, const void *info, struct boot_info *bi);

/* The module whose name (the first word of its string, without directories)
 * equals name, or NULL. */
const struct boot_module *bootinfo_find_module(const struct boot_info *bi, const char *name);

#endif
