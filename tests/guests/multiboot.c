/*
 * A Multiboot (v1) kernel (lib/multiboot-entry.S holds its header), loaded
 * by utsuwa's Multiboot loader as image= with its own file as the module
 * (initrd=multiboot.bin) and cmdline="mbtest hello". Checks what the
 * Multiboot Specification 0.6.96 (3.2, 3.3) promises at entry: the magic in
 * EAX, the information structure in EBX with the memory fields, the
 * command line, the module (page-aligned, its bytes and string) and the
 * memory map, and the machine state (protected mode, paging off,
 * interrupts off). Exits 0 when all hold.
 */
#include "guest.h"

extern u32 mb_magic, mb_info;
extern char __image_start[], __image_end[], __bss_end[], __extable_start[];

/* The information structure's first fields (spec 3.3), as the kernel sees them. */
struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
};

struct mb_module {
	u32 start, end, string, reserved;
};

struct mb_mmap {
	u32 size;
	u32 addr_lo, addr_hi, len_lo, len_hi;
	u32 type;
} __attribute__((packed));

#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)

#define VM_MEM (16u << 20) /* the matrix case's mem=16M */
/* The module is this kernel's own file, by its name. */
#define MB_SELF ((ulong)__image_start < 0x10000 ? "multiboot-low.bin" : "multiboot.bin")

static bool str_is(u32 addr, const char *want)
{
	const char *s = (const char *)(ulong)addr;

	return addr && strlen(s) == strlen(want) && !memcmp(s, want, strlen(want));
}

/* The map's RAM, in bytes, and whether [start, end) lies in one RAM entry. */
static u64 map_ram(const struct mb_info *mbi, u32 start, u32 end, bool *covers)
{
	u64 ram = 0;

	*covers = false;
	for (u32 off = 0; off < mbi->mmap_length;) {
		const struct mb_mmap *e = (const void *)(ulong)(mbi->mmap_addr + off);
		u64 a = e->addr_lo | (u64)e->addr_hi << 32, len = e->len_lo | (u64)e->len_hi << 32;

		if (e->type == 1) {
			ram += len;
			if (a <= start && end <= a + len)
				*covers = true;
		}
		off += e->size + 4;
	}
	return ram;
}

int main(ulong arg)
{
	const struct mb_info *mbi = (const void *)(ulong)mb_info;
	const struct mb_module *mod;
	u32 image_len = (u32)(__image_end - __image_start);
	ulong cr0, flags;
	bool covers;
	u64 ram;

	check_eq("mb_magic", mb_magic, 0x2BADB002);
	if (!check(mbi && (mbi->flags & (MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS |
					  MB_INFO_MMAP)) == (MB_INFO_MEMORY | MB_INFO_CMDLINE |
							     MB_INFO_MODS | MB_INFO_MMAP),
		   "mb_info_flags", "info at %#x, flags %#x", mb_info, mbi ? mbi->flags : 0))
		return 1;
	/* 639 KiB below the BIOS area (0x9fc00); RAM from 1 MiB to the end. */
	check_eq("mb_mem_lower_kib", mbi->mem_lower, 639);
	check_eq("mb_mem_upper_kib", mbi->mem_upper, (VM_MEM - 0x100000) / 1024);
	check(str_is(mbi->cmdline, "mbtest hello"), "mb_cmdline", "got '%s'",
	      mbi->cmdline ? (const char *)(ulong)mbi->cmdline : "(none)");

	/* The module is this kernel's own file: its bytes are the image's. */
	check_eq("mb_mods_count", mbi->mods_count, 1);
	mod = (const void *)(ulong)mbi->mods_addr;
	if (mbi->mods_count == 1) {
		check_eq("mb_mod_size", mod->end - mod->start, image_len);
		check(!(mod->start & 0xfff) && mod->start >= (u32)(ulong)__bss_end, "mb_mod_placed",
		      "module at %#x, kernel ends at %#lx", mod->start, (ulong)__bss_end);
		/* Code and read-only data: .data has changed since the load. */
		check(mod->end - mod->start == image_len &&
			      !memcmp((const void *)(ulong)mod->start, __image_start,
				      (size_t)(__extable_start - __image_start)),
		      "mb_mod_bytes", "module's bytes differ from the kernel's file");
		check(str_is(mod->string, MB_SELF), "mb_mod_string", "got '%s'",
		      mod->string ? (const char *)(ulong)mod->string : "(none)");
	}

	/* The map: the kernel and the module lie in RAM; all RAM is the VM's,
	 * less the BIOS area (0x9fc00-0xfffff) and the page at 0 if reserved. */
	ram = map_ram(mbi, (u32)(ulong)__image_start, (u32)(ulong)__bss_end, &covers);
	check(covers, "mb_mmap_kernel_in_ram", "the kernel's range is not RAM in the map");
	check(ram <= VM_MEM && ram >= VM_MEM - 0x61000, "mb_mmap_ram", "%llu bytes of RAM",
	      (unsigned long long)ram);

	/* Machine state at entry (spec 3.2): CR0.PE set, CR0.PG clear, IF clear. */
	__asm__ volatile("mov %%cr0, %0; pushf; pop %1" : "=r"(cr0), "=r"(flags));
	check((cr0 & 1) && !(cr0 & (1ul << 31)), "mb_cr0", "CR0 %#lx", cr0);
	check(!(flags & (1ul << 9)), "mb_if_clear", "EFLAGS %#lx", flags);
	return (int)failures;
}
