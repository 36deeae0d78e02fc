/*
 * bootinfo_parse_view() over a fake physical memory: well-formed Multiboot v1
 * and Multiboot2 blocks, and broken ones that must be cut short, not followed.
 */
#include "unit.h"
#include <string.h>
#include "arch/x86/boot/bootinfo_parse.h"
#include "arch/x86/boot/multiboot_defs.h"

/* Physical [MEM_BASE, MEM_BASE + MEM_SIZE) is mem[]; nothing else exists. */
#define MEM_BASE 0x10000u
#define MEM_SIZE 0x10000u
static u8 mem[MEM_SIZE];

static const void *fake_map(void *ctx, u64 pa, u64 len)
{
	if (pa < MEM_BASE || pa - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (pa - MEM_BASE))
		return NULL;
	return mem + (pa - MEM_BASE);
}

static const struct phys_view view = { .map = fake_map };
static struct boot_info bi;

static void reset(void) { memset(mem, 0, sizeof(mem)); }
static void put32(u32 pa, u32 v) { memcpy(&mem[pa - MEM_BASE], &v, 4); }
static void put64(u32 pa, u64 v) { memcpy(&mem[pa - MEM_BASE], &v, 8); }
static void puts_at(u32 pa, const char *s) { memcpy(&mem[pa - MEM_BASE], s, strlen(s) + 1); }

/* ---- Multiboot v1 ---- */

#define MB1_INFO 0x10000u
#define MB1_MMAP 0x11000u
#define MB1_MODS 0x12000u
#define MB1_STR 0x13000u

/* A v1 map entry with 'size' (bytes after itself) of size; returns the next address. */
static u32 mb1_entry(u32 pa, u32 size, u64 base, u64 len, u32 type)
{
	put32(pa, size);
	put64(pa + 4, base);
	put64(pa + 12, len);
	put32(pa + 20, type);
	return pa + 4 + size;
}

static void mb1_module(unsigned i, u32 start, u32 end, u32 str)
{
	put32(MB1_MODS + 16 * i, start);
	put32(MB1_MODS + 16 * i + 4, end);
	put32(MB1_MODS + 16 * i + 8, str);
}

static void mb1_basic(void)
{
	u32 p = MB1_MMAP;

	reset();
	put32(MB1_INFO, BIT(0) | BIT(2) | BIT(3) | BIT(6));
	put32(MB1_INFO + 4, 639);
	put32(MB1_INFO + 8, 0x3fc00);
	put32(MB1_INFO + 16, MB1_STR);
	puts_at(MB1_STR, "/utsuwa.elf vm=a,mem=64M");
	put32(MB1_INFO + 20, 2);
	put32(MB1_INFO + 24, MB1_MODS);
	mb1_module(0, 0x400000, 0x401234, MB1_STR + 0x100);
	puts_at(MB1_STR + 0x100, "/boot/guest.bin arg");
	mb1_module(1, 0x500000, 0x500010, MB1_STR + 0x200);
	puts_at(MB1_STR + 0x200, "vms.cfg");
	p = mb1_entry(p, 20, 0, 0x9fc00, 1);
	p = mb1_entry(p, 28, 0x100000, 0x3ff00000, 1); /* a larger entry: 8 bytes extra */
	p = mb1_entry(p, 20, 0xfffc0000, 0x40000, 2);
	put32(MB1_INFO + 44, p - MB1_MMAP);
	put32(MB1_INFO + 48, MB1_MMAP);
}

TEST(mb1_well_formed)
{
	u32 warn = ~0u;

	mb1_basic();
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, 0);
	CHECK(strcmp(bi.cmdline, "/utsuwa.elf vm=a,mem=64M") == 0);
	CHECK_EQ(bi.nr_mods, 2);
	CHECK_EQ(bi.mods[0].start, 0x400000);
	CHECK_EQ(bi.mods[0].end, 0x401234);
	CHECK(strcmp(bi.mods[1].cmdline, "vms.cfg") == 0);
	CHECK_EQ(bi.nr_mmap, 3);
	CHECK_EQ(bi.mmap[1].base, 0x100000);
	CHECK_EQ(bi.mmap[1].len, 0x3ff00000);
	CHECK_EQ(bi.mmap[2].type, 2);
	CHECK_EQ(bi.info_start, MB1_INFO);
	CHECK(bi.info_end > bi.info_start);
	CHECK(!bi.has_rsdp);
}

TEST(mb1_truncated_and_garbage_maps)
{
	u32 warn;

	/* The map's length cuts the third entry in half: two kept. */
	mb1_basic();
	put32(MB1_INFO + 44, 24 + 32 + 10);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_BAD);
	CHECK_EQ(bi.nr_mmap, 2);

	/* An entry whose size is below the minimum of 20 (a zero would loop forever). */
	mb1_basic();
	put32(MB1_MMAP + 24, 0);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_BAD);
	CHECK_EQ(bi.nr_mmap, 1);

	/* A size that runs past the map. */
	mb1_basic();
	put32(MB1_MMAP + 24, 0x7fffffff);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_BAD);
	CHECK_EQ(bi.nr_mmap, 1);

	/* A map that lies outside memory altogether: fall back to mem_lower/mem_upper. */
	mb1_basic();
	put32(MB1_INFO + 48, 0xfff00000);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_BAD | BOOTINFO_W_NO_MMAP);
	CHECK_EQ(bi.nr_mmap, 2);
	CHECK_EQ(bi.mmap[1].len, 0x3fc00ULL * 1024);
}

TEST(mb1_too_many_map_entries)
{
	u32 warn, p = MB1_MMAP;

	mb1_basic();
	for (unsigned i = 0; i < BOOT_MAX_MMAP + 5; i++)
		p = mb1_entry(p, 20, (u64)i << 20, 1 << 20, 1);
	put32(MB1_INFO + 44, p - MB1_MMAP);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_TRUNC);
	CHECK_EQ(bi.nr_mmap, BOOT_MAX_MMAP);
	CHECK_EQ(bi.mmap[BOOT_MAX_MMAP - 1].base, (u64)(BOOT_MAX_MMAP - 1) << 20);
}

TEST(mb1_no_map_uses_meminfo)
{
	u32 warn;

	mb1_basic();
	put32(MB1_INFO, BIT(0));
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_NO_MMAP);
	CHECK_EQ(bi.nr_mmap, 2);
	CHECK_EQ(bi.mmap[0].len, 639 * 1024);
	CHECK_EQ(bi.mmap[1].base, 1 << 20);
	CHECK_EQ(bi.mmap[1].len, 0x3fc00ULL * 1024);
	CHECK_EQ(bi.nr_mods, 0); /* flag 3 clear: the module fields are ignored */
	CHECK_EQ(bi.cmdline[0], 0);
}

TEST(mb1_bad_modules_and_strings)
{
	u32 warn;
	char long_str[BOOT_CMDLINE_MAX + 100];

	/* Module 0 ends before it starts: skipped; module 1 kept. */
	mb1_basic();
	mb1_module(0, 0x400000, 0x3fffff, MB1_STR + 0x100);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MOD_BAD);
	CHECK_EQ(bi.nr_mods, 1);
	CHECK(strcmp(bi.mods[0].cmdline, "vms.cfg") == 0);

	/* A count far beyond the array and beyond memory: cut, no wild reads. */
	mb1_basic();
	put32(MB1_INFO + 20, 0xffffffff);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK(warn & BOOTINFO_W_MODS_TRUNC);
	CHECK(bi.nr_mods <= BOOT_MAX_MODULES);

	/* An over-long command line is truncated and terminated. */
	mb1_basic();
	memset(long_str, 'x', sizeof(long_str) - 1);
	long_str[sizeof(long_str) - 1] = 0;
	puts_at(MB1_STR + 0x1000, long_str);
	put32(MB1_INFO + 16, MB1_STR + 0x1000);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_CMDLINE_TRUNC);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);

	/* A command line that runs off the end of memory without a NUL. */
	mb1_basic();
	memset(&mem[MEM_SIZE - 8], 'y', 8);
	put32(MB1_INFO + 16, MEM_BASE + MEM_SIZE - 8);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_INFO_BAD);
	CHECK(strcmp(bi.cmdline, "yyyyyyyy") == 0);

	/* A module string that is too long for BOOT_MODNAME_MAX. */
	mb1_basic();
	puts_at(MB1_STR + 0x100, long_str + 100);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, MB1_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MODNAME_TRUNC);
	CHECK_EQ(strlen(bi.mods[0].cmdline), BOOT_MODNAME_MAX - 1);
}

TEST(bad_magic_and_unreadable_info)
{
	u32 warn;

	mb1_basic();
	CHECK_EQ(bootinfo_parse_view(0x12345678, MB1_INFO, &view, &bi, &warn), -EINVAL);
	CHECK_EQ(bootinfo_parse_view(MB1_BOOT_MAGIC, 0x1000, &view, &bi, &warn), -EINVAL);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MEM_BASE + MEM_SIZE - 4, &view, &bi, &warn),
		 -EINVAL);
	CHECK_EQ(bi.nr_mmap, 0);
}

/* ---- Multiboot2 ---- */

#define MB2_INFO 0x14000u

struct mb2_builder {
	u32 pa; /* next tag */
};

static u32 mb2_tag(struct mb2_builder *b, u32 type, u32 size)
{
	u32 at = b->pa;

	put32(at, type);
	put32(at + 4, size);
	b->pa = at + ((size + 7) & ~7u);
	return at;
}

static void mb2_finish(struct mb2_builder *b)
{
	mb2_tag(b, 0, 8);
	put32(MB2_INFO, b->pa - MB2_INFO);
}

static u8 rsdp_v1[20] = "RSD PTR ";
static u8 rsdp_v2[36] = "RSD PTR ";

static void mb2_basic(struct mb2_builder *b)
{
	u32 t;

	reset();
	b->pa = MB2_INFO + 8;
	t = mb2_tag(b, 1, 8 + 12);
	puts_at(t + 8, "console=com");
	t = mb2_tag(b, 3, 16 + 14);
	put32(t + 8, 0x800000);
	put32(t + 12, 0x900000);
	puts_at(t + 16, "/x/linux foo");
	t = mb2_tag(b, 21, 12); /* load base address: not ours, skipped */
	t = mb2_tag(b, 6, 16 + 3 * 24);
	put32(t + 8, 24);
	put32(t + 12, 0);
	put64(t + 16, 0);
	put64(t + 24, 0x9fc00);
	put32(t + 32, 1);
	put64(t + 40, 0x100000);
	put64(t + 48, 0x7ff00000);
	put32(t + 56, 1);
	put64(t + 64, 0x100000000ULL);
	put64(t + 72, 0x40000000);
	put32(t + 80, 1);
	rsdp_v2[15] = 2; /* revision */
	t = mb2_tag(b, 15, 8 + 36);
	memcpy(&mem[t + 8 - MEM_BASE], rsdp_v2, 36);
	t = mb2_tag(b, 14, 8 + 20); /* the old one after the new: the new one stays */
	memcpy(&mem[t + 8 - MEM_BASE], rsdp_v1, 20);
}

TEST(mb2_well_formed)
{
	struct mb2_builder b;
	u32 warn = ~0u;

	mb2_basic(&b);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, 0);
	CHECK(strcmp(bi.cmdline, "console=com") == 0);
	CHECK_EQ(bi.nr_mods, 1);
	CHECK_EQ(bi.mods[0].start, 0x800000);
	CHECK_EQ(bi.mods[0].end, 0x900000);
	CHECK(strcmp(bi.mods[0].cmdline, "/x/linux foo") == 0);
	CHECK_EQ(bi.nr_mmap, 3);
	CHECK_EQ(bi.mmap[2].base, 0x100000000ULL);
	CHECK_EQ(bi.mmap[2].len, 0x40000000);
	CHECK(bi.has_rsdp);
	CHECK_EQ(bi.rsdp[15], 2); /* the v2 copy, not overwritten by the v1 tag */
	CHECK_EQ(bi.rsdp_tag, 15);
	CHECK_EQ(bi.mmap_source, BOOT_MMAP_MB2);
	CHECK(!bi.uefi);
	CHECK_EQ(bi.info_start, MB2_INFO);
	CHECK_EQ(bi.info_end, b.pa);
}

TEST(mb2_broken_blocks)
{
	struct mb2_builder b;
	u32 warn, t;

	/* No end tag, and the total size stops right after the last tag. */
	mb2_basic(&b);
	put32(MB2_INFO, b.pa - MB2_INFO);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_INFO_BAD);
	CHECK_EQ(bi.nr_mmap, 3);

	/* A tag claiming more than the block holds: stop there, keep what came before. */
	mb2_basic(&b);
	t = mb2_tag(&b, 3, 16);
	mb2_finish(&b);
	put32(t + 4, 0x1000);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_INFO_BAD);
	CHECK_EQ(bi.nr_mods, 1);

	/* A tag size below the tag header (0 would loop forever). */
	mb2_basic(&b);
	t = mb2_tag(&b, 77, 8);
	mb2_finish(&b);
	put32(t + 4, 0);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_INFO_BAD);

	/* A total size beyond reason and beyond memory: read up to the end tag only. */
	mb2_basic(&b);
	mb2_finish(&b);
	put32(MB2_INFO, 0xfffffff0);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_INFO_BAD);
	CHECK_EQ(bi.nr_mods, 1);
	CHECK_EQ(bi.nr_mmap, 3);

	/* A total size below the fixed part. */
	mb2_basic(&b);
	mb2_finish(&b);
	put32(MB2_INFO, 4);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK(warn & BOOTINFO_W_INFO_BAD);
	CHECK_EQ(bi.nr_mmap, 0);
}

TEST(mb2_bad_mmap_and_rsdp_tags)
{
	struct mb2_builder b;
	u32 warn, t;

	/* entry_size below 24. */
	reset();
	b.pa = MB2_INFO + 8;
	t = mb2_tag(&b, 6, 16 + 48);
	put32(t + 8, 16);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_BAD);
	CHECK_EQ(bi.nr_mmap, 0);

	/* A tag ending mid-entry; a bigger entry_size (32) is honoured. */
	reset();
	b.pa = MB2_INFO + 8;
	t = mb2_tag(&b, 6, 16 + 32 + 20);
	put32(t + 8, 32);
	put64(t + 16, 0x100000);
	put64(t + 24, 0x1000);
	put32(t + 32, 1);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_BAD);
	CHECK_EQ(bi.nr_mmap, 1);

	/* More entries than BOOT_MAX_MMAP. */
	reset();
	b.pa = MB2_INFO + 8;
	t = mb2_tag(&b, 6, 16 + (BOOT_MAX_MMAP + 3) * 24);
	put32(t + 8, 24);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_TRUNC);
	CHECK_EQ(bi.nr_mmap, BOOT_MAX_MMAP);

	/* An ACPI tag too short for even a v1 RSDP; a module string with no NUL. */
	reset();
	b.pa = MB2_INFO + 8;
	mb2_tag(&b, 14, 8 + 10);
	t = mb2_tag(&b, 3, 16 + 4);
	put32(t + 8, 0x1000);
	put32(t + 12, 0x2000);
	memcpy(&mem[t + 16 - MEM_BASE], "abcdXXXX", 8); /* the tag ends after "abcd" */
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_RSDP_BAD);
	CHECK(!bi.has_rsdp);
	CHECK(strcmp(bi.mods[0].cmdline, "abcd") == 0);
}

/* ---- Multiboot2 on UEFI: the EFI memory map tag (17) and the system table (12) ---- */

#define EFI_DESC_SIZE 48 /* OVMF's: larger than the 40 of the UEFI struct */

/* One EFI_MEMORY_DESCRIPTOR at index i of the map whose tag is at t. */
static void efi_desc(u32 t, unsigned i, u32 type, u64 start, u64 pages, u64 attr)
{
	u32 d = t + 16 + i * EFI_DESC_SIZE;

	put32(d, type);
	put64(d + 8, start);
	put64(d + 16, start + 0xffff800000000000ULL); /* a virtual address: ignored */
	put64(d + 24, pages);
	put64(d + 32, attr);
}

#define WB BIT(3)

/* The plain map tag as GRUB gives it on EFI, then the EFI map (nine descriptors, unsorted). */
static u32 mb2_efi(struct mb2_builder *b, u32 descr_size)
{
	u32 t;

	reset();
	b->pa = MB2_INFO + 8;
	t = mb2_tag(b, 6, 16 + 24);
	put32(t + 8, 24);
	put64(t + 16, 0x100000);
	put64(t + 24, 0x1000000);
	put32(t + 32, 1);
	t = mb2_tag(b, 12, 16);
	put64(t + 8, 0x3f5e0018);
	t = mb2_tag(b, 17, 16 + 9 * EFI_DESC_SIZE);
	put32(t + 8, descr_size);
	put32(t + 12, 1);
	efi_desc(t, 0, 7, 0, 0xa0, WB);                  /* conventional */
	efi_desc(t, 1, 7, 0x200000, 0x300, WB);          /* conventional, before ... */
	efi_desc(t, 2, 3, 0x100000, 0x100, WB);          /* ... boot services code below it */
	efi_desc(t, 3, 6, 0x500000, 1, WB);              /* runtime services data */
	efi_desc(t, 4, 9, 0x501000, 2, WB);              /* ACPI reclaim */
	efi_desc(t, 5, 10, 0x503000, 1, WB);             /* ACPI NVS */
	efi_desc(t, 6, 11, 0xffe00000, 0x200, 0);        /* MMIO (the flash) */
	efi_desc(t, 7, 7, 0x600000, 1, 0);               /* conventional but not write-back */
	efi_desc(t, 8, 7, 0x601000, 1, WB | BIT(18));    /* specific-purpose */
	return t;
}

TEST(mb2_efi_memory_map)
{
	struct mb2_builder b;
	u32 warn = ~0u;

	mb2_efi(&b, EFI_DESC_SIZE);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, 0);
	CHECK(bi.uefi);
	CHECK_EQ(bi.efi_systab, 0x3f5e0018);
	CHECK_EQ(bi.mmap_source, BOOT_MMAP_EFI);
	CHECK_EQ(bi.nr_efi_desc, 9);
	/* Sorted, boot services code joined with the conventional memory above it. */
	CHECK_EQ(bi.nr_mmap, 7);
	CHECK_EQ(bi.mmap[0].base, 0);
	CHECK_EQ(bi.mmap[0].len, 0xa0000);
	CHECK_EQ(bi.mmap[0].type, 1);
	CHECK_EQ(bi.mmap[1].base, 0x100000);
	CHECK_EQ(bi.mmap[1].len, 0x400000);
	CHECK_EQ(bi.mmap[1].type, 1);
	CHECK_EQ(bi.mmap[2].type, 2);
	CHECK_EQ(bi.mmap[3].base, 0x501000);
	CHECK_EQ(bi.mmap[3].type, 3);
	CHECK_EQ(bi.mmap[4].type, 4);
	/* Neither the uncacheable nor the specific-purpose page is RAM. */
	CHECK_EQ(bi.mmap[5].base, 0x600000);
	CHECK_EQ(bi.mmap[5].len, 0x2000);
	CHECK_EQ(bi.mmap[5].type, 2);
	/* The flash (MMIO) is reserved and stays apart: it touches nothing. */
	CHECK_EQ(bi.mmap[6].base, 0xffe00000);
	CHECK_EQ(bi.mmap[6].len, 0x200000);
	CHECK_EQ(bi.mmap[6].type, 2);
}

TEST(mb2_efi_memory_map_broken)
{
	struct mb2_builder b;
	u32 warn, t;

	/* descr_size below the UEFI struct: the plain map tag instead, and said so. */
	mb2_efi(&b, 32);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_EFI_MMAP_UNUSED);
	CHECK_EQ(bi.mmap_source, BOOT_MMAP_MB2);
	CHECK_EQ(bi.nr_mmap, 1);
	CHECK_EQ(bi.mmap[0].len, 0x1000000);
	CHECK(bi.uefi);

	/* A descriptor whose pages run past 2^64, and no plain map: what came before it. */
	reset();
	b.pa = MB2_INFO + 8;
	t = mb2_tag(&b, 17, 16 + 3 * EFI_DESC_SIZE);
	put32(t + 8, EFI_DESC_SIZE);
	efi_desc(t, 0, 7, 0x100000, 0x100, WB);
	efi_desc(t, 1, 7, 0xfffffffffff00000ULL, 0x1000, WB);
	efi_desc(t, 2, 7, 0x300000, 0x100, WB);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_BAD);
	CHECK_EQ(bi.mmap_source, BOOT_MMAP_EFI);
	CHECK_EQ(bi.nr_mmap, 1);

	/* A tag ending mid-descriptor, and boot services left running (tag 18). */
	reset();
	b.pa = MB2_INFO + 8;
	t = mb2_tag(&b, 17, 16 + EFI_DESC_SIZE + 20);
	put32(t + 8, EFI_DESC_SIZE);
	efi_desc(t, 0, 7, 0x100000, 0x100, WB);
	mb2_tag(&b, 18, 8);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, BOOTINFO_W_MMAP_BAD | BOOTINFO_W_EFI_BS);
	CHECK(bi.efi_bs_active);
	CHECK_EQ(bi.nr_mmap, 1);
}

/* Hundreds of descriptors, alternating types that read alike: joined, none dropped. */
TEST(mb2_efi_memory_map_long)
{
	struct mb2_builder b;
	u32 warn, t, n = 200;

	reset();
	b.pa = MB2_INFO + 8;
	t = mb2_tag(&b, 17, 16 + n * EFI_DESC_SIZE);
	put32(t + 8, EFI_DESC_SIZE);
	for (unsigned i = 0; i < n; i++)
		efi_desc(t, i, i % 2 ? 4 : 7, 0x100000 + (u64)i * 0x3000, 3, WB);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, 0);
	CHECK_EQ(bi.nr_efi_desc, n);
	CHECK_EQ(bi.nr_mmap, 1);
	CHECK_EQ(bi.mmap[0].len, (u64)n * 0x3000);
}

/* Framebuffer info (tag 8): an RGB one with its colour fields, EGA text, a short tag. */
TEST(mb2_framebuffer)
{
	struct mb2_builder b;
	u32 warn, t;

	reset();
	b.pa = MB2_INFO + 8;
	t = mb2_tag(&b, 8, 38);
	put64(t + 8, 0x80000000);
	put32(t + 16, 5120);
	put32(t + 20, 1280);
	put32(t + 24, 800);
	mem[t + 28 - MEM_BASE] = 32;
	mem[t + 29 - MEM_BASE] = 1;
	memcpy(&mem[t + 32 - MEM_BASE], (u8[]){ 16, 8, 8, 8, 0, 8 }, 6);
	mb2_finish(&b);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK_EQ(warn, 0);
	CHECK(bi.fb.present);
	CHECK_EQ(bi.fb.type, BOOT_FB_RGB);
	CHECK_EQ(bi.fb.addr, 0x80000000);
	CHECK_EQ(bi.fb.pitch, 5120);
	CHECK_EQ(bi.fb.width, 1280);
	CHECK_EQ(bi.fb.height, 800);
	CHECK_EQ(bi.fb.bpp, 32);
	CHECK_EQ(bi.fb.red_pos, 16);
	CHECK_EQ(bi.fb.green_size, 8);
	CHECK_EQ(bi.fb.blue_pos, 0);

	/* EGA text needs no colour fields; an RGB tag without them is ignored. */
	mem[t + 29 - MEM_BASE] = 2;
	put32(t + 4, 32);
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK(bi.fb.present);
	CHECK_EQ(bi.fb.type, BOOT_FB_EGA_TEXT);
	mem[t + 29 - MEM_BASE] = 1;
	CHECK_EQ(bootinfo_parse_view(MB2_BOOT_MAGIC, MB2_INFO, &view, &bi, &warn), 0);
	CHECK(!bi.fb.present);
}

TEST(find_module_by_basename)
{
	struct boot_info b = { 0 };

	b.nr_mods = 4;
	strcpy(b.mods[0].cmdline, "/boot/linux.bin console=ttyS0");
	strcpy(b.mods[1].cmdline, "  initrd.img");
	strcpy(b.mods[2].cmdline, "");
	strcpy(b.mods[3].cmdline, "dir/sub/test.cfg");
	CHECK(bootinfo_find_module(&b, "linux.bin") == &b.mods[0]);
	CHECK(bootinfo_find_module(&b, "initrd.img") == &b.mods[1]);
	CHECK(bootinfo_find_module(&b, "test.cfg") == &b.mods[3]);
	CHECK(bootinfo_find_module(&b, "linux") == NULL);
	CHECK(bootinfo_find_module(&b, "console=ttyS0") == NULL);
	CHECK(bootinfo_find_module(&b, "/boot/linux.bin") == NULL);
	CHECK(bootinfo_find_module(&b, "") == NULL);
	for (unsigned i = 0; i < BOOTINFO_NR_WARNINGS; i++)
		CHECK(strlen(bootinfo_warning_text(i)) > 10);
}

int main(void)
{
	RUN(mb1_well_formed);
	RUN(mb1_truncated_and_garbage_maps);
	RUN(mb1_too_many_map_entries);
	RUN(mb1_no_map_uses_meminfo);
	RUN(mb1_bad_modules_and_strings);
	RUN(bad_magic_and_unreadable_info);
	RUN(mb2_well_formed);
	RUN(mb2_broken_blocks);
	RUN(mb2_bad_mmap_and_rsdp_tags);
	RUN(mb2_efi_memory_map);
	RUN(mb2_efi_memory_map_broken);
	RUN(mb2_efi_memory_map_long);
	RUN(mb2_framebuffer);
	RUN(find_module_by_basename);
	return unit_done();
}
