/*
 * Multiboot (v1) guest kernels (Multiboot Specification 0.6.96, sections 3.1
 * "OS image format" and 3.2 "Machine state"). Like the Linux loader, every
 * field of the image is checked before it steers a copy, and guest memory is
 * reached only through the accessors of include/hv/gmem.h.
 */
#include "loaders/multiboot_guest.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "lib/string.h"

_Static_assert(sizeof(struct multiboot_header) == 32, "header with the address fields");
_Static_assert(offsetof(struct multiboot_info, mmap_length) == 44, "mmap_length");
_Static_assert(offsetof(struct multiboot_info, boot_loader_name) == 64, "boot_loader_name");
_Static_assert(offsetof(struct multiboot_info, framebuffer_addr) == 88, "framebuffer_addr");
_Static_assert(sizeof(struct multiboot_info) == 116, "multiboot_info");
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "mmap entry");
_Static_assert(sizeof(struct multiboot_mod_list) == 16, "module entry");
_Static_assert(MB_MMAP_GPA + GUEST_E820_MAX * sizeof(struct multiboot_mmap_entry) <= MB_MODS_GPA,
	       "the memory map fits below the module list");
_Static_assert(MB_INFO_GPA + sizeof(struct multiboot_info) <= MB_MMAP_GPA, "layout");
_Static_assert(MB_SCRATCH_GPA >= MB_MOD_STRING_GPA + MB_STRING_MAX + 1 &&
		       MB_SCRATCH_GPA + GUEST_E820_MAX * sizeof(struct e820_entry) <= MB_LOW_END,
	       "the scratch map lies in the stack area");

#define SZ_1M 0x100000ULL
#define SZ_4G 0x100000000ULL
#define LOWER_MEM_MAX 0xa0000ULL /* 640 KiB */

/* Header requirement bits (0-15) this loader meets. */
#define MB_FLAGS_MET (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

/* ELF (System V gABI; the i386 psABI). */
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define ELF32_EHDR_SIZE 52
#define ELF32_PHDR_SIZE 32
#define ELF_MAX_PHDRS 64

#define DESC_CODE32 0x00cf9b000000ffffULL
#define DESC_DATA 0x00cf93000000ffffULL
#define ATTR_CODE32 0xc9b
#define ATTR_DATA 0xc93
#define ATTR_TSS_BUSY 0x08b
#define ATTR_LDT 0x082

static u32 rd32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

static u16 rd16(const u8 *p)
{
	u16 v;

	memcpy(&v, p, 2);
	return v;
}

s64 multiboot_guest_find_header(const void *image, u64 size)
{
	const u8 *p = image;

	if (!image)
		return -1;
	for (u64 off = 0; off + 12 <= MIN(size, (u64)MULTIBOOT_SEARCH); off += 4) {
		u32 magic = rd32(p + off), flags = rd32(p + off + 4), sum = rd32(p + off + 8);

		if (magic == MULTIBOOT_HEADER_MAGIC && (u32)(magic + flags + sum) == 0)
			return (s64)off;
	}
	return -1;
}

/* One piece of the image: file bytes [off, off+filesz) to paddr, then zeros
 * up to memsz. */
struct mb_segment {
	u64 off, filesz, paddr, memsz;
};

#define MB_MAX_SEGMENTS 16

struct mb_image {
	struct mb_segment seg[MB_MAX_SEGMENTS];
	unsigned nseg;
	u64 entry;
	u64 end; /* the highest byte loaded, plus one */
};

/* A segment must be sane, and land in free RAM above the loader's area. */
static int check_segment(const struct mb_segment *s, u64 size, const struct e820_entry *map,
			 unsigned n, const char **why)
{
	if (s->filesz > s->memsz || s->off > size || s->filesz > size - s->off) {
		*why = "a segment runs past the end of the image";
		return -ENOEXEC;
	}
	if (s->paddr >= SZ_4G || s->memsz > SZ_4G - s->paddr) {
		*why = "a segment lies above 4 GiB";
		return -E2BIG;
	}
	if (!guest_e820_holds(map, n, s->paddr, s->memsz)) {
		*why = "the kernel does not fit in the VM's free memory";
		return -E2BIG;
	}
	return 0;
}

/* Flag 16: the header says where the file goes (the "a.out kludge"). */
static int parse_address_fields(const u8 *p, u64 size, u64 hoff, struct mb_image *img,
				const char **why)
{
	struct multiboot_header h;
	struct mb_segment *s = &img->seg[0];
	u64 load_len, mem_len;

	if (hoff + sizeof(h) > size) {
		*why = "Multiboot header truncated before its address fields";
		return -ENOEXEC;
	}
	memcpy(&h, p + hoff, sizeof(h));
	if (h.header_addr < h.load_addr || h.header_addr - h.load_addr > hoff) {
		*why = "Multiboot header_addr and load_addr do not match the file";
		return -ENOEXEC;
	}
	s->off = hoff - (h.header_addr - h.load_addr);
	if (h.load_end_addr && h.load_end_addr <= h.load_addr) {
		*why = "Multiboot load_end_addr is not above load_addr";
		return -ENOEXEC;
	}
	load_len = h.load_end_addr ? (u64)h.load_end_addr - h.load_addr : size - s->off;
	if (load_len > size - s->off) {
		*why = "image truncated: shorter than load_end_addr says";
		return -ENOEXEC;
	}
	if (h.bss_end_addr && h.bss_end_addr < h.load_addr + load_len) {
		*why = "Multiboot bss_end_addr is below the end of the loaded data";
		return -ENOEXEC;
	}
	mem_len = h.bss_end_addr ? (u64)h.bss_end_addr - h.load_addr : load_len;
	if (h.entry_addr < h.load_addr || h.entry_addr - h.load_addr >= mem_len) {
		*why = "Multiboot entry_addr is outside the loaded image";
		return -ENOEXEC;
	}
	s->filesz = load_len;
	s->paddr = h.load_addr;
	s->memsz = mem_len;
	img->nseg = 1;
	img->entry = h.entry_addr;
	return 0;
}

/* Otherwise an ELF32 executable: its PT_LOAD segments go to their physical
 * addresses, and the entry is translated from virtual to physical. */
static int parse_elf32(const u8 *p, u64 size, struct mb_image *img, const char **why)
{
	u64 phoff, phentsize, phnum;
	u32 entry;
	bool entry_found = false;

	if (size < 16 || memcmp(p, "\177ELF", 4) != 0) {
		*why = "neither Multiboot address fields (flag 16) nor an ELF image";
		return -ENOEXEC;
	}
	if (p[4] == ELFCLASS64) {
		*why = "a 64-bit ELF without Multiboot address fields (flag 16)";
		return -ENOEXEC;
	}
	if (size < ELF32_EHDR_SIZE || p[4] != ELFCLASS32 || p[5] != ELFDATA2LSB ||
	    rd16(p + 16) != ET_EXEC || rd16(p + 18) != EM_386) {
		*why = "not an i386 ELF32 executable";
		return -ENOEXEC;
	}
	entry = rd32(p + 24);
	phoff = rd32(p + 28);
	phentsize = rd16(p + 42);
	phnum = rd16(p + 44);
	if (phentsize < ELF32_PHDR_SIZE || phnum == 0 || phnum > ELF_MAX_PHDRS ||
	    phoff > size || phnum * phentsize > size - phoff) {
		*why = "ELF program headers are missing or run past the end of the image";
		return -ENOEXEC;
	}
	img->nseg = 0;
	for (u64 i = 0; i < phnum; i++) {
		const u8 *ph = p + phoff + i * phentsize;
		u32 vaddr = rd32(ph + 8), memsz = rd32(ph + 20);
		struct mb_segment *s;

		if (rd32(ph) != PT_LOAD || memsz == 0)
			continue;
		if (img->nseg == MB_MAX_SEGMENTS) {
			*why = "too many ELF segments to load";
			return -ENOEXEC;
		}
		s = &img->seg[img->nseg++];
		*s = (struct mb_segment){ .off = rd32(ph + 4), .paddr = rd32(ph + 12),
					  .filesz = rd32(ph + 16), .memsz = memsz };
		if (!entry_found && entry >= vaddr && entry - vaddr < memsz) {
			img->entry = s->paddr + (entry - vaddr);
			entry_found = true;
		}
	}
	if (!img->nseg) {
		*why = "the ELF image has nothing to load";
		return -ENOEXEC;
	}
	if (!entry_found) {
		*why = "the ELF entry point is outside the loaded segments";
		return -ENOEXEC;
	}
	return 0;
}

static void put_string(char *dst, const char *s, u64 len)
{
	memcpy(dst, s ? s : "", len);
	dst[len] = 0;
}

/* mem_lower: RAM from 0, at most 640 KiB; mem_upper: RAM from 1 MiB up to
 * the first hole (spec 3.3). */
static void fill_mem_fields(struct multiboot_info *mbi, const struct multiboot_mmap_entry *mm,
			    unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		u64 end = mm[i].addr + mm[i].len;

		if (mm[i].type != E820_TYPE_RAM)
			continue;
		if (mm[i].addr == 0)
			mbi->mem_lower = (u32)(MIN(end, LOWER_MEM_MAX) >> 10);
		if (mm[i].addr <= SZ_1M && end > SZ_1M)
			mbi->mem_upper = (u32)MIN((end - SZ_1M) >> 10, 0xffffffffULL);
	}
}

/* base: where the loader's area lies, relative to its usual place (0). */
static void start_state(u64 entry, u64 base, struct guest_ctx *c, struct vcpu_regs *regs)
{
	struct seg code = { .sel = MB_SEL_CODE, .attr = ATTR_CODE32, .limit = 0xffffffff };
	struct seg data = { .sel = MB_SEL_DATA, .attr = ATTR_DATA, .limit = 0xffffffff };

	memset(c, 0, sizeof(*c));
	c->tr = (struct seg){ .attr = ATTR_TSS_BUSY, .limit = 0x67 };
	c->ldtr = (struct seg){ .attr = ATTR_LDT, .limit = 0xffff };
	c->gdtr = (struct dtable){ .base = base + MB_GDT_GPA, .limit = 3 * 8 - 1 };
	c->cs = code;
	c->ds = c->es = c->fs = c->gs = c->ss = data;
	c->cr0 = CR0_PE | CR0_ET | CR0_NE; /* paging off (spec 3.2) */

	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rflags = RFLAGS_FIXED; /* IF = 0, VM = 0 */
	regs->gpr[GPR_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	regs->gpr[GPR_RBX] = base + MB_INFO_GPA;
	regs->gpr[GPR_RSP] = base + MB_STACK_TOP;
}

int multiboot_guest_load(struct vm *vm, const void *image, u64 size, const char *cmdline,
			 const struct multiboot_module *module, const struct guest_platform *plat,
			 struct guest_ctx *ctx, struct vcpu_regs *regs, const char **why)
{
	struct multiboot_mmap_entry *mm;
	struct e820_entry *map;
	struct multiboot_mod_list *mod;
	struct multiboot_info *mbi;
	struct mb_image img;
	const u8 *p = image;
	u64 cmd_len, str_len, flags, base = 0, mod_at, end = 0;
	bool low_taken = false;
	unsigned n;
	s64 hoff;
	u64 *gdt;
	char *cmd, *str, *name;
	int err;

	*why = "";
	memset(&img, 0, sizeof(img));
	hoff = multiboot_guest_find_header(image, size);
	if (hoff < 0) {
		*why = "no Multiboot header (magic and checksum) in the first 8 KiB";
		return -ENOEXEC;
	}
	flags = rd32(p + hoff + 4);
	if ((flags & 0xffff) & ~(u64)MB_FLAGS_MET) {
		*why = (flags & MULTIBOOT_VIDEO_MODE) ? "the kernel asks for a video mode"
						      : "the kernel asks for an unknown feature";
		return -ENOEXEC;
	}
	err = (flags & MULTIBOOT_AOUT_KLUDGE) ? parse_address_fields(p, size, (u64)hoff, &img, why)
					      : parse_elf32(p, size, &img, why);
	if (err)
		return err;

	/* The loader's structures below 64 KiB, all of it free RAM. */
	gdt = gmem_map(vm, MB_GDT_GPA, MB_LOW_END - MB_GDT_GPA, true);
	if (!gdt) {
		*why = "the VM has no RAM at 0x1000-0xffff for the Multiboot information";
		return -EINVAL;
	}
	/* The memory map is built in what becomes the stack, then copied to
	 * the information structure's format: it would take 1.6 KiB of ours. */
	memset(gdt, 0, MB_LOW_END - MB_GDT_GPA);
	map = gmem_map(vm, MB_SCRATCH_GPA, GUEST_E820_MAX * sizeof(*map), true);
	err = guest_e820_build(vm, plat, map, GUEST_E820_MAX, &n, why);
	if (err)
		return err;
	if (!guest_e820_holds(map, n, MB_GDT_GPA, MB_LOW_END - MB_GDT_GPA)) {
		*why = "the platform reserves 0x1000-0xffff, where the Multiboot information goes";
		return -EINVAL;
	}

	/* Check every segment, then copy. */
	for (unsigned i = 0; i < img.nseg; i++) {
		const struct mb_segment *s = &img.seg[i];

		err = check_segment(s, size, map, n, why);
		if (err)
			return err;
		end = MAX(end, s->paddr + s->memsz);
		low_taken |= s->paddr < MB_LOW_END && s->paddr + s->memsz > MB_GDT_GPA;
	}
	/* The module goes page-aligned after the kernel (flag 0 asks for
	 * pages; we always give them). A kernel linked into the loader's area
	 * (a real-mode test kernel at 0x8000) moves the area above itself and
	 * its module, within one RAM chunk, and the map built there with it. */
	mod_at = ALIGN_UP(end, PAGE_SIZE);
	if (low_taken) {
		u64 at = ALIGN_UP(mod_at + (module ? MAX(module->size, 1) : 0), PAGE_SIZE);
		const u64 area = MB_LOW_END - MB_GDT_GPA;
		u8 *moved;

		if ((at & ~(GMEM_CHUNK - 1)) != ((at + area - 1) & ~(GMEM_CHUNK - 1)))
			at = ALIGN_UP(at, GMEM_CHUNK);
		moved = at + area <= SZ_4G && guest_e820_holds(map, n, at, area)
				? gmem_map(vm, at, area, true)
				: NULL;
		if (!moved) {
			*why = "no free RAM after the kernel and its module for the Multiboot information";
			return -E2BIG;
		}
		memset(moved, 0, area);
		memcpy(moved + (MB_SCRATCH_GPA - MB_GDT_GPA), map, n * sizeof(*map));
		map = (struct e820_entry *)(moved + (MB_SCRATCH_GPA - MB_GDT_GPA));
		gdt = (u64 *)moved;
		base = at - MB_GDT_GPA;
	}
	for (unsigned i = 0; i < img.nseg; i++) {
		const struct mb_segment *s = &img.seg[i];

		if (gmem_write(vm, s->paddr, p + s->off, s->filesz) ||
		    gmem_fill(vm, s->paddr + s->filesz, 0, s->memsz - s->filesz)) {
			*why = "a segment lies outside the VM's RAM";
			return -E2BIG;
		}
		img.end = MAX(img.end, s->paddr + s->memsz);
	}

	cmd_len = cmdline ? strnlen(cmdline, MB_STRING_MAX + 1) : 0;
	str_len = module && module->string ? strnlen(module->string, MB_STRING_MAX + 1) : 0;
	if (cmd_len > MB_STRING_MAX || str_len > MB_STRING_MAX) {
		*why = "the command line or module string is longer than 4095 bytes";
		return -E2BIG;
	}

	gdt[MB_SEL_CODE / 8] = DESC_CODE32;
	gdt[MB_SEL_DATA / 8] = DESC_DATA;
	mbi = gmem_map(vm, base + MB_INFO_GPA, sizeof(*mbi), true);
	mm = gmem_map(vm, base + MB_MMAP_GPA, n * sizeof(*mm), true);
	mod = gmem_map(vm, base + MB_MODS_GPA, sizeof(*mod), true);
	name = gmem_map(vm, base + MB_LOADER_NAME_GPA, 8, true);
	cmd = gmem_map(vm, base + MB_CMDLINE_GPA, MB_STRING_MAX + 1, true);
	str = gmem_map(vm, base + MB_MOD_STRING_GPA, MB_STRING_MAX + 1, true);
	put_string(cmd, cmdline, cmd_len);
	put_string(name, "utsuwa", 6);

	if (module) {
		u64 at = mod_at;

		if (!module->data || module->size > SZ_4G || at + module->size > SZ_4G ||
		    !guest_e820_holds(map, n, at, MAX(module->size, 1)) ||
		    !gmem_in_ram(&vm->gmem, at, MAX(module->size, 1)) ||
		    gmem_write(vm, at, module->data, module->size)) {
			*why = "the module does not fit in free memory after the kernel";
			return -E2BIG;
		}
		*mod = (struct multiboot_mod_list){ .mod_start = (u32)at,
						    .mod_end = (u32)(at + module->size),
						    .string = (u32)(base + MB_MOD_STRING_GPA) };
		put_string(str, module->string, str_len);
	}

	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct multiboot_mmap_entry){ .size = sizeof(*mm) - 4, .addr = map[i].addr,
						       .len = map[i].size, .type = map[i].type };
	memset(map, 0, GUEST_E820_MAX * sizeof(*map));
	mbi->flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MODS |
		     MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_BOOT_LOADER_NAME;
	fill_mem_fields(mbi, mm, n);
	mbi->cmdline = (u32)(base + MB_CMDLINE_GPA);
	mbi->mods_count = module ? 1 : 0;
	mbi->mods_addr = (u32)(base + MB_MODS_GPA);
	mbi->mmap_length = n * sizeof(*mm);
	mbi->mmap_addr = (u32)(base + MB_MMAP_GPA);
	mbi->boot_loader_name = (u32)(base + MB_LOADER_NAME_GPA);

	start_state(img.entry, base, ctx, regs);
	return 0;
}
