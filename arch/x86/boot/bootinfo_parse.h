/*
 * The boot info parser behind bootinfo_parse(), reading the loader's block
 * through a phys_view so that host tests can feed it a fake memory, and
 * reporting what it had to drop or could not trust.
 */
#ifndef ARCH_X86_BOOT_BOOTINFO_PARSE_H
#define ARCH_X86_BOOT_BOOTINFO_PARSE_H

#include "hv/bootinfo.h"
#include "arch/x86/phys_view.h"

/* Warnings: what the parser truncated, skipped or synthesized. */
#define BOOTINFO_W_INFO_BAD BIT(0)        /* the info block: bad size, unreadable, no end tag */
#define BOOTINFO_W_MMAP_BAD BIT(1)        /* a malformed map entry: the rest of the map dropped */
#define BOOTINFO_W_MMAP_TRUNC BIT(2)      /* more than BOOT_MAX_MMAP map entries */
#define BOOTINFO_W_NO_MMAP BIT(3)         /* no map: built from mem_lower/mem_upper */
#define BOOTINFO_W_MOD_BAD BIT(4)         /* a module with end < start or unreadable: skipped */
#define BOOTINFO_W_MODS_TRUNC BIT(5)      /* more than BOOT_MAX_MODULES modules */
#define BOOTINFO_W_CMDLINE_TRUNC BIT(6)   /* command line longer than BOOT_CMDLINE_MAX-1 */
#define BOOTINFO_W_MODNAME_TRUNC BIT(7)   /* a module string longer than BOOT_MODNAME_MAX-1 */
#define BOOTINFO_W_RSDP_BAD BIT(8)        /* an ACPI tag too short to hold an RSDP */
#define BOOTINFO_W_EFI_MMAP_UNUSED BIT(9) /* a bad EFI map: the plain map tag used instead */
#define BOOTINFO_W_EFI_BS BIT(10)         /* boot services still running (tag 18) */
#define BOOTINFO_NR_WARNINGS 11

/*
 * bootinfo_parse() with the loader's block at physical info_pa, read through
 * view. Returns 0 or -EINVAL (unknown magic, unreadable block); *warnings
 * (may be NULL) gets the BOOTINFO_W_* bits of what was dropped.
 */
int bootinfo_parse_view(u32 magic, u64 info_pa, const struct phys_view *view,
			struct boot_info *bi, u32 *warnings);

/* A sentence for one BOOTINFO_W_* bit number (0 .. BOOTINFO_NR_WARNINGS-1). */
const char *bootinfo_warning_text(unsigned bit);

#endif
