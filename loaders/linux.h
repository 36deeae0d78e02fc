/*
 * Linux guests: the x86 boot protocol (Documentation/arch/x86/boot.rst and
 * zero-page.rst in the kernel tree). A bzImage's protected-mode kernel goes
 * to its preferred address, boot_params ("the zero page") describes memory
 * (e820), the command line and the initrd, and the vCPU starts at the 64-bit
 * entry (long mode, identity-mapped) or the 32-bit one (paging off).
 * docs/linux-guest.md has the layout and the choices.
 *
 * The guest-memory map the platform hands to a guest (struct guest_platform,
 * guest_e820_build()) lives here too: Multiboot guests use the same one.
 */
#ifndef LOADERS_LINUX_H
#define LOADERS_LINUX_H

#include "hv/guest_ctx.h"
#include "hv/types.h"

struct vm;
struct vcpu_regs;

/* ---- the guest's memory map ---- */

/* E820 address range types (ACPI 6.5, table 15.6 "Address Range Types"). */
#define E820_TYPE_RAM 1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI 3     /* ACPI tables, reclaimable once read */
#define E820_TYPE_NVS 4      /* ACPI NVS */
#define E820_TYPE_UNUSABLE 5

/* One range of guest-physical addresses and what it is. */
struct guest_mem_range {
	u64 start, size;
	u32 type; /* E820_TYPE_* other than RAM */
};

/*
 * What the VM's platform keeps for itself in the guest-physical space: ranges
 * that are not free RAM (the BIOS area 0x9fc00-0x100000, the ACPI tables,
 * device MMIO) and where the ACPI RSDP is. The loaders never write there.
 */
struct guest_platform {
	const struct guest_mem_range *reserved; /* any order, not overlapping */
	unsigned nr_reserved;                   /* at most GUEST_MAX_RESERVED */
	u64 acpi_rsdp;                          /* guest-physical RSDP; 0: no ACPI */
};

#define GUEST_MAX_RESERVED 32

/* The conventional hole below 1 MiB: EBDA, VGA, option ROMs, BIOS. */
#define GUEST_BIOS_AREA_START 0x9fc00
#define GUEST_BIOS_AREA_END 0x100000

/* A BIOS E820 entry (zero-page.rst: struct boot_e820_entry), 20 bytes. */
struct e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} __packed;

/*
 * The guest's memory map, sorted by address: the VM's RAM regions less the
 * platform's reserved ranges (E820_TYPE_RAM), and every reserved range with
 * its type. -EINVAL when the reserved ranges are malformed (empty, wrapping,
 * overlapping, too many, typed RAM), -E2BIG when the map needs more than max
 * entries; *why says which.
 */
int guest_e820_build(const struct vm *vm, const struct guest_platform *plat,
		     struct e820_entry *map, unsigned max, unsigned *nr, const char **why);

/* [start, start+size) lies inside one RAM entry of map (so it is free RAM). */
bool guest_e820_holds(const struct e820_entry *map, unsigned n, u64 start, u64 size);

/* Room for every map guest_e820_build() can make: each reserved range and
 * the RAM pieces around them (checked against VM_MAX_MEM_REGIONS in linux.c). */
#define GUEST_E820_MAX 80

/* ---- the boot protocol ---- */

#define LINUX_BOOT_FLAG 0xaa55
#define LINUX_HDRS_MAGIC 0x53726448 /* "HdrS" */
#define LINUX_MIN_PROTOCOL 0x020c   /* 2.12: xloadflags, the 64-bit entry flag */

/* loadflags */
#define LINUX_LOADED_HIGH BIT(0)
#define LINUX_KASLR_FLAG BIT(1)
#define LINUX_QUIET_FLAG BIT(5)
#define LINUX_CAN_USE_HEAP BIT(7)

/* xloadflags */
#define LINUX_XLF_KERNEL_64 BIT(0)
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G BIT(1)

#define LINUX_TYPE_OF_LOADER 0xff /* no assigned boot loader id */
#define LINUX_ENTRY64_OFFSET 0x200
#define LINUX_DEFAULT_LOAD 0x1000000 /* LOAD_PHYSICAL_ADDR when pref_address is 0 */
#define LINUX_BOOT_CS 0x10 /* __BOOT_CS */
#define LINUX_BOOT_DS 0x18 /* __BOOT_DS */
#define LINUX_E820_MAX 128 /* E820_MAX_ENTRIES_ZEROPAGE */

/*
 * Where the loader puts its own structures, all below 640 KiB (Linux keeps
 * the first megabyte to itself, so none of this needs an e820 hole).
 */
#define LINUX_GDT_GPA 0x1000
#define LINUX_PML4_GPA 0x2000
#define LINUX_PDPT_GPA 0x3000
#define LINUX_PD_GPA 0x4000 /* four page directories: 4 GiB in 2 MiB pages */
#define LINUX_BOOT_PARAMS_GPA 0x8000
#define LINUX_STACK_TOP 0x10000 /* a boot stack below the command line */
#define LINUX_CMDLINE_GPA 0x10000
#define LINUX_CMDLINE_MAX 0xffff /* bytes without the NUL: 0x10000-0x1ffff */
#define LINUX_LOW_END 0x20000    /* end of the loader's structures */

/* The setup header (boot.rst, "The Real-Mode Kernel Header"); at 0x1f1 in both
 * the image and boot_params. */
struct linux_setup_header {
	u8 setup_sects;
	u16 root_flags;
	u32 syssize;
	u16 ram_size;
	u16 vid_mode;
	u16 root_dev;
	u16 boot_flag;
	u16 jump;
	u32 header;
	u16 version;
	u32 realmode_swtch;
	u16 start_sys_seg;
	u16 kernel_version;
	u8 type_of_loader;
	u8 loadflags;
	u16 setup_move_size;
	u32 code32_start;
	u32 ramdisk_image;
	u32 ramdisk_size;
	u32 bootsect_kludge;
	u16 heap_end_ptr;
	u8 ext_loader_ver;
	u8 ext_loader_type;
	u32 cmd_line_ptr;
	u32 initrd_addr_max;
	u32 kernel_alignment;
	u8 relocatable_kernel;
	u8 min_alignment;
	u16 xloadflags;
	u32 cmdline_size;
	u32 hardware_subarch;
	u64 hardware_subarch_data;
	u32 payload_offset;
	u32 payload_length;
	u64 setup_data;
	u64 pref_address;
	u32 init_size;
	u32 handover_offset;
	u32 kernel_info_offset;
} __packed;

/* boot_params, "the zero page" (zero-page.rst); the parts this loader does
 * not fill are byte arrays of their documented size. */
struct linux_boot_params {
	u8 screen_info[0x40];
	u8 apm_bios_info[0x14];
	u8 _pad2[4];
	u64 tboot_addr;
	u8 ist_info[0x10];
	u64 acpi_rsdp_addr;
	u8 _pad3[8];
	u8 hd0_info[16];
	u8 hd1_info[16];
	u8 sys_desc_table[16];
	u8 olpc_ofw_header[16];
	u32 ext_ramdisk_image;
	u32 ext_ramdisk_size;
	u32 ext_cmd_line_ptr;
	u8 _pad4[112];
	u32 cc_blob_address;
	u8 edid_info[0x80];
	u8 efi_info[0x20];
	u32 alt_mem_k;
	u32 scratch;
	u8 e820_entries;
	u8 eddbuf_entries;
	u8 edd_mbr_sig_buf_entries;
	u8 kbd_status;
	u8 secure_boot;
	u8 _pad5[2];
	u8 sentinel;
	u8 _pad6[1];
	struct linux_setup_header hdr;
	u8 _pad7[0x290 - 0x1f1 - sizeof(struct linux_setup_header)];
	u32 edd_mbr_sig_buffer[16];
	struct e820_entry e820_table[LINUX_E820_MAX];
	u8 _pad8[48];
	u8 eddbuf[6 * 82];
	u8 _pad9[276];
} __packed;

/*
 * Loads a bzImage into vm: the protected-mode kernel at its preferred address
 * (pref_address, else 16 MiB; lower when that does not fit and the kernel is
 * relocatable), the initrd (may be NULL/0) page-aligned as high as the kernel
 * allows, the command line (NULL: empty), boot_params with the e820 map of
 * plat (NULL: no reserved ranges, no ACPI), a GDT, and for entry64 page
 * tables identity-mapping the first 4 GiB. Fills ctx and regs for the boot
 * vCPU: entry64 starts at load + 0x200 in long mode, otherwise at
 * code32_start in 32-bit protected mode with paging off; RSI = boot_params,
 * interrupts off. The other vCPUs wait for INIT/SIPI.
 *
 * Every field of the image it uses is checked: a truncated or malformed image
 * is -ENOEXEC; a kernel, initrd or command line that does not fit is -E2BIG;
 * a platform or VM layout it cannot use is -EINVAL. *why gets a message.
 */
int linux_load(struct vm *vm, const void *bzimage, u64 size, const void *initrd,
	       u64 initrd_size, const char *cmdline, const struct guest_platform *plat,
	       bool entry64, struct guest_ctx *ctx, struct vcpu_regs *regs, const char **why);

/* True when image starts like a bzImage (boot flag and "HdrS"); for choosing
 * a loader. linux_load() still checks everything. */
bool linux_is_bzimage(const void *image, u64 size);

#endif
