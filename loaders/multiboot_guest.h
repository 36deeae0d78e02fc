/*
 * Multiboot (v1) guest kernels (the Multiboot Specification 0.6.96): a small
 * test kernel with a Multiboot header runs without a boot loader of its own.
 * The image is loaded by its header's address fields (flag 16) or by its
 * ELF32 program headers; it starts in 32-bit protected mode with paging off,
 * EAX = 0x2BADB002 and EBX = the Multiboot information structure.
 * docs/linux-guest.md ("Multiboot guests") has the layout.
 */
#ifndef LOADERS_MULTIBOOT_GUEST_H
#define LOADERS_MULTIBOOT_GUEST_H

#include "hv/guest_ctx.h"
#include "hv/types.h"
#include "loaders/linux.h" /* struct guest_platform, the memory map */

struct vm;
struct vcpu_regs;

#define MULTIBOOT_SEARCH 8192 /* the header lies in the first 8 KiB, 4-byte aligned */
#define MULTIBOOT_HEADER_MAGIC 0x1BADB002
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002

/* Header flags (spec 3.1.2). Bits 0-15 are requirements: a loader that does
 * not meet one must refuse the image. */
#define MULTIBOOT_PAGE_ALIGN BIT(0)  /* modules page-aligned */
#define MULTIBOOT_MEMORY_INFO BIT(1) /* mem_* and the memory map */
#define MULTIBOOT_VIDEO_MODE BIT(2)  /* a video mode table: not offered */
#define MULTIBOOT_AOUT_KLUDGE BIT(16) /* the address fields are valid */

/* Information flags (spec 3.3). */
#define MULTIBOOT_INFO_MEMORY BIT(0)
#define MULTIBOOT_INFO_CMDLINE BIT(2)
#define MULTIBOOT_INFO_MODS BIT(3)
#define MULTIBOOT_INFO_MEM_MAP BIT(6)
#define MULTIBOOT_INFO_BOOT_LOADER_NAME BIT(9)

struct multiboot_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr; /* flag 16 */
} __packed;

struct multiboot_info {
	u32 flags;
	u32 mem_lower, mem_upper; /* KiB from 0 (at most 640) and from 1 MiB */
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
	u32 apm_table;
	u32 vbe_control_info, vbe_mode_info;
	u16 vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
	u64 framebuffer_addr;
	u32 framebuffer_pitch, framebuffer_width, framebuffer_height;
	u8 framebuffer_bpp, framebuffer_type;
	u8 color_info[6];
} __packed;

/* A memory map entry; size counts the bytes after itself (20). */
struct multiboot_mmap_entry {
	u32 size;
	u64 addr, len;
	u32 type; /* E820_TYPE_* */
} __packed;

struct multiboot_mod_list {
	u32 mod_start, mod_end; /* [start, end) */
	u32 string;
	u32 reserved;
} __packed;

/* Where the loader puts its structures (the image must load above them). */
#define MB_GDT_GPA 0x1000
#define MB_INFO_GPA 0x2000
#define MB_MMAP_GPA 0x2100
#define MB_MODS_GPA 0x2f00
#define MB_LOADER_NAME_GPA 0x2f80
#define MB_CMDLINE_GPA 0x3000
#define MB_MOD_STRING_GPA 0x4000
#define MB_STRING_MAX 0xfff /* either string, without its NUL */
#define MB_STACK_TOP 0x10000 /* a stack, 0x5000-0xffff; the spec leaves ESP undefined */
#define MB_SCRATCH_GPA 0x8000 /* the loader's work space while loading (in the stack) */
#define MB_LOW_END 0x10000
#define MB_SEL_CODE 0x08
#define MB_SEL_DATA 0x10

/* An optional boot module (one at most). */
struct multiboot_module {
	const void *data;
	u64 size;
	const char *string; /* its command line; NULL: empty */
};

/*
 * Loads a Multiboot kernel into vm with the command line (NULL: empty), at
 * most one module (NULL: none; it goes page-aligned right after the kernel)
 * and the memory map of plat (NULL: all RAM free). Fills ctx and regs for the
 * boot vCPU: 32-bit protected mode, paging off, flat segments, EAX = 0x2BADB002,
 * EBX = MB_INFO_GPA, interrupts off.
 *
 * A missing or malformed header or ELF, or one asking for what is not
 * offered (a video mode), is -ENOEXEC; an image or module that does not fit
 * the VM's free RAM above 64 KiB is -E2BIG; a layout the loader cannot use is
 * -EINVAL. *why gets a message.
 */
int multiboot_guest_load(struct vm *vm, const void *image, u64 size, const char *cmdline,
			 const struct multiboot_module *module, const struct guest_platform *plat,
			 struct guest_ctx *ctx, struct vcpu_regs *regs, const char **why);

/* The file offset of a valid Multiboot header (magic and checksum) in the
 * first 8 KiB, or -1: for choosing a loader. */
s64 multiboot_guest_find_header(const void *image, u64 size);

#endif
