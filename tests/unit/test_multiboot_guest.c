/*
 * Multiboot (v1) guest kernels (loaders/multiboot_guest.c) in a VM whose RAM
 * is host memory: images with address fields (flag 16) and ELF32 images,
 * built here; utsuwa's own ELF (a Multiboot kernel) when it is built; and
 * broken images, copied to buffers of their exact size so ASan sees any
 * read past the end.
 */
#include "unit.h"
#include <string.h>
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "fake_gmem.h"
#include "loaders/multiboot_guest.h"

#define MiB (1ULL << 20)

static struct vm vm;
static u8 *ram;

static struct vm *make_vm(u64 mem)
{
	free(ram);
	ram = malloc(mem);
	memset(ram, 0xaa, mem); /* so the bss and the zeroed areas show */
	memset(&vm, 0, sizeof(vm));
	fake_gmem_attach(&vm, ram, mem);
	vm.cfg.mem = mem;
	vm.cfg.cpus = 1;
	return &vm;
}

static void *gpa(u64 addr, u64 len)
{
	return fake_gmem_ptr(&vm, addr, len);
}

static void put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static void put16(u8 *p, u16 v)
{
	memcpy(p, &v, 2);
}

static void put_header(u8 *p, u32 flags)
{
	put32(p, MULTIBOOT_HEADER_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, -(MULTIBOOT_HEADER_MAGIC + flags));
}

/* An "a.out kludge" image: the header at 0x40 of a 0x3000-byte file that
 * loads at 1 MiB, with 0x2000 bytes of bss and the entry at 0x100080. */
#define AOUT_SIZE 0x3000
#define AOUT_HDR 0x40
#define AOUT_LOAD 0x100000
#define AOUT_BSS_END (AOUT_LOAD + AOUT_SIZE + 0x2000)
#define AOUT_ENTRY (AOUT_LOAD + 0x80)

static u8 *make_aout(struct multiboot_header **hp)
{
	u8 *img = malloc(AOUT_SIZE);
	struct multiboot_header *h;

	for (u64 i = 0; i < AOUT_SIZE; i++)
		img[i] = (u8)(i * 13 + 1);
	h = (struct multiboot_header *)(img + AOUT_HDR);
	put_header(img + AOUT_HDR, MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_AOUT_KLUDGE);
	h->header_addr = AOUT_LOAD + AOUT_HDR;
	h->load_addr = AOUT_LOAD;
	h->load_end_addr = 0; /* to the end of the file */
	h->bss_end_addr = AOUT_BSS_END;
	h->entry_addr = AOUT_ENTRY;
	*hp = h;
	return img;
}

/* An ELF32 image: two PT_LOAD segments linked at 0xc0200000 and loaded at
 * 2 MiB (text 0x100 bytes; data 0x10 bytes, 0x1000 in memory), a PT_NOTE,
 * and the Multiboot header (no flag 16) at 0x200. */
#define ELF_SIZE 0x1200
#define ELF_PHOFF 52

static u8 *make_elf(void)
{
	u8 *e = calloc(1, ELF_SIZE);
	u8 *ph = e + ELF_PHOFF;

	memcpy(e, "\177ELF", 4);
	e[4] = 1; /* ELFCLASS32 */
	e[5] = 1; /* little-endian */
	e[6] = 1;
	put16(e + 16, 2); /* ET_EXEC */
	put16(e + 18, 3); /* EM_386 */
	put32(e + 20, 1);
	put32(e + 24, 0xc0200010); /* e_entry, virtual */
	put32(e + 28, ELF_PHOFF);
	put16(e + 40, 52);
	put16(e + 42, 32);
	put16(e + 44, 3);
	/* PT_LOAD text: file 0x1000, 0x100 bytes */
	put32(ph + 0, 1);
	put32(ph + 4, 0x1000);
	put32(ph + 8, 0xc0200000);
	put32(ph + 12, 0x200000);
	put32(ph + 16, 0x100);
	put32(ph + 20, 0x100);
	/* PT_NOTE: ignored */
	put32(ph + 32, 4);
	put32(ph + 36, 0x200);
	put32(ph + 48, 0x10);
	put32(ph + 52, 0x10);
	/* PT_LOAD data: file 0x1100, 0x10 bytes, 0x1000 in memory */
	put32(ph + 64, 1);
	put32(ph + 68, 0x1100);
	put32(ph + 72, 0xc0201000);
	put32(ph + 76, 0x201000);
	put32(ph + 80, 0x10);
	put32(ph + 84, 0x1000);
	put_header(e + 0x200, MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO);
	for (int i = 0; i < 0x110; i++)
		e[0x1000 + i] = (u8)(0x40 + i);
	return e;
}

static struct guest_mem_range plat_ranges[2];
static struct guest_platform plat;

static const struct guest_platform *make_platform(u64 mem)
{
	plat_ranges[0] = (struct guest_mem_range){ mem - 0x20000, 0x20000, E820_TYPE_ACPI };
	plat_ranges[1] = (struct guest_mem_range){ GUEST_BIOS_AREA_START,
						   GUEST_BIOS_AREA_END - GUEST_BIOS_AREA_START,
						   E820_TYPE_RESERVED };
	plat = (struct guest_platform){ .reserved = plat_ranges, .nr_reserved = 2 };
	return &plat;
}

static int load(const void *img, u64 size, const char *cmd, const struct multiboot_module *m,
		const struct guest_platform *p, struct guest_ctx *c, struct vcpu_regs *r,
		const char **why)
{
	*why = NULL;
	return multiboot_guest_load(&vm, img, size, cmd, m, p, c, r, why);
}

static void check_start_state(const struct guest_ctx *c, const struct vcpu_regs *r, u64 entry)
{
	CHECK_EQ(r->rip, entry);
	CHECK_EQ(r->gpr[GPR_RAX], 0x2BADB002);
	CHECK_EQ(r->gpr[GPR_RBX], MB_INFO_GPA);
	CHECK_EQ(r->rflags, 2);
	CHECK_EQ(guest_ctx_mode(c, r->rflags), MODE_PROT32);
	CHECK_EQ(c->cr0 & (CR0_PE | CR0_PG), CR0_PE);
	CHECK_EQ(c->efer, 0);
	CHECK_EQ(c->cs.sel, MB_SEL_CODE);
	CHECK_EQ(c->cs.base, 0);
	CHECK_EQ(c->cs.limit, 0xffffffff);
	CHECK_EQ(c->ds.sel, MB_SEL_DATA);
	CHECK_EQ(c->ss.sel, MB_SEL_DATA);
	CHECK_EQ(c->es.attr, 0xc93);
	CHECK_EQ(c->gdtr.base, MB_GDT_GPA);
	u64 *gdt = gpa(MB_GDT_GPA, 24);
	CHECK_EQ(gdt[0], 0);
	CHECK_EQ(gdt[MB_SEL_CODE / 8], 0x00cf9b000000ffffULL);
	CHECK_EQ(gdt[MB_SEL_DATA / 8], 0x00cf93000000ffffULL);
}

TEST(address_fields_image_with_module)
{
	const u64 mem = 32 * MiB;
	struct multiboot_header *h;
	u8 *img = make_aout(&h), mod_data[5000];
	struct multiboot_module mod = { .data = mod_data, .size = sizeof(mod_data),
					.string = "initrd.img arg" };
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	for (unsigned i = 0; i < sizeof(mod_data); i++)
		mod_data[i] = (u8)(i * 3);
	make_vm(mem);
	CHECK_EQ(load(img, AOUT_SIZE, "kernel opt=1", &mod, make_platform(mem), &c, &r, &why), 0);
	check_start_state(&c, &r, AOUT_ENTRY);

	/* The whole file at load_addr, then zeros to bss_end_addr. */
	CHECK(memcmp(gpa(AOUT_LOAD, AOUT_SIZE), img, AOUT_SIZE) == 0);
	u8 *bss = gpa(AOUT_LOAD + AOUT_SIZE, 0x2000);
	bool zero = true;
	for (int i = 0; i < 0x2000; i++)
		zero &= bss[i] == 0;
	CHECK(zero);

	/* The information structure. */
	struct multiboot_info *mbi = gpa(MB_INFO_GPA, sizeof(*mbi));
	CHECK_EQ(mbi->flags, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
	CHECK_EQ(mbi->mem_lower, 0x9fc00 >> 10); /* 639 */
	CHECK_EQ(mbi->mem_upper, (mem - 0x20000 - MiB) >> 10);
	CHECK_EQ(mbi->cmdline, MB_CMDLINE_GPA);
	CHECK(strcmp(gpa(MB_CMDLINE_GPA, 13), "kernel opt=1") == 0);
	CHECK(strcmp(gpa(mbi->boot_loader_name, 7), "utsuwa") == 0);
	CHECK_EQ(mbi->boot_device, 0);
	CHECK_EQ(mbi->syms[0] | mbi->drives_length | mbi->config_table | mbi->apm_table, 0);
	CHECK_EQ(mbi->vbe_control_info | mbi->framebuffer_addr, 0);

	/* The memory map: RAM, the BIOS hole, RAM, the ACPI tables. */
	static const struct { u64 addr, len; u32 type; } want[] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x60400, 2 },
		{ MiB, 32 * MiB - 0x20000 - MiB, 1 },
		{ 32 * MiB - 0x20000, 0x20000, 3 },
	};
	CHECK_EQ(mbi->mmap_addr, MB_MMAP_GPA);
	CHECK_EQ(mbi->mmap_length, ARRAY_SIZE(want) * 24);
	struct multiboot_mmap_entry *mm = gpa(mbi->mmap_addr, mbi->mmap_length);
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		CHECK_EQ(mm[i].size, 20);
		CHECK_EQ(mm[i].addr, want[i].addr);
		CHECK_EQ(mm[i].len, want[i].len);
		CHECK_EQ(mm[i].type, want[i].type);
	}

	/* The module, page-aligned right after the kernel's bss. */
	CHECK_EQ(mbi->mods_count, 1);
	struct multiboot_mod_list *ml = gpa(mbi->mods_addr, sizeof(*ml));
	u64 at = (AOUT_BSS_END + 4095) & ~4095ULL;
	CHECK_EQ(ml->mod_start, at);
	CHECK_EQ(ml->mod_end, at + sizeof(mod_data));
	CHECK_EQ(ml->reserved, 0);
	CHECK(memcmp(gpa(at, sizeof(mod_data)), mod_data, sizeof(mod_data)) == 0);
	CHECK(strcmp(gpa(ml->string, 15), "initrd.img arg") == 0);

	/* Without module, command line or platform. */
	make_vm(8 * MiB);
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, NULL, &c, &r, &why), 0);
	mbi = gpa(MB_INFO_GPA, sizeof(*mbi));
	CHECK_EQ(mbi->mods_count, 0);
	CHECK_EQ(mbi->mem_lower, 640);
	CHECK_EQ(mbi->mem_upper, 7 * 1024);
	CHECK_EQ(mbi->mmap_length, 24);
	CHECK_EQ(*(char *)gpa(MB_CMDLINE_GPA, 1), 0);

	/* load_end_addr short of the file, no bss. */
	make_vm(8 * MiB);
	h->load_end_addr = AOUT_LOAD + 0x1000;
	h->bss_end_addr = 0;
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, NULL, &c, &r, &why), 0);
	CHECK(memcmp(gpa(AOUT_LOAD, 0x1000), img, 0x1000) == 0);
	CHECK_EQ(*(u8 *)gpa(AOUT_LOAD + 0x1000, 1), 0xaa); /* untouched */
	free(img);
}

TEST(elf32_image)
{
	u8 *e = make_elf();
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	make_vm(16 * MiB);
	CHECK_EQ(load(e, ELF_SIZE, "x", NULL, NULL, &c, &r, &why), 0);
	check_start_state(&c, &r, 0x200010); /* the virtual entry, made physical */
	CHECK(memcmp(gpa(0x200000, 0x100), e + 0x1000, 0x100) == 0);
	CHECK(memcmp(gpa(0x201000, 0x10), e + 0x1100, 0x10) == 0);
	u8 *bss = gpa(0x201010, 0xff0);
	bool zero = true;
	for (int i = 0; i < 0xff0; i++)
		zero &= bss[i] == 0;
	CHECK(zero);
	CHECK_EQ(*(u8 *)gpa(0x200100, 1), 0xaa); /* between the segments: untouched */

	/* A module goes after the last segment. */
	u8 m[3] = { 1, 2, 3 };
	struct multiboot_module mod = { .data = m, .size = 3 };
	CHECK_EQ(load(e, ELF_SIZE, NULL, &mod, NULL, &c, &r, &why), 0);
	struct multiboot_mod_list *ml = gpa(MB_MODS_GPA, sizeof(*ml));
	CHECK_EQ(ml->mod_start, 0x202000);
	CHECK_EQ(ml->mod_end, 0x202003);
	CHECK_EQ(*(char *)gpa(ml->string, 1), 0);
	CHECK_EQ(multiboot_guest_find_header(e, ELF_SIZE), 0x200);
	free(e);
}

/* Runs the loader on the first n bytes of img, in a buffer of exactly n. */
static int load_prefix(const u8 *img, u64 n, const char **why)
{
	u8 *copy = malloc(n ? n : 1);
	struct guest_ctx c;
	struct vcpu_regs r;
	int err;

	memcpy(copy, img, n);
	err = load(copy, n, NULL, NULL, NULL, &c, &r, why);
	free(copy);
	return err;
}

#define EXPECT(img, size, err_, words, restore)                                         \
	do {                                                                            \
		CHECK_EQ(load(img, size, NULL, NULL, NULL, &c, &r, &why), err_);       \
		CHECK(why && strstr(why, words) != NULL);                               \
		restore;                                                                \
		CHECK_EQ(load(img, size, NULL, NULL, NULL, &c, &r, &why), 0);          \
	} while (0)

TEST(bad_address_field_images)
{
	struct multiboot_header *h;
	u8 *img = make_aout(&h);
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	make_vm(16 * MiB);
	CHECK_EQ(load_prefix(img, AOUT_SIZE, &why), 0);
	/* Truncated: before the header, inside it, inside the address fields. */
	static const u64 cuts[] = { 0, 3, AOUT_HDR, AOUT_HDR + 11, AOUT_HDR + 12, AOUT_HDR + 31 };
	for (unsigned i = 0; i < ARRAY_SIZE(cuts); i++) {
		CHECK_EQ(load_prefix(img, cuts[i], &why), -ENOEXEC);
		CHECK(why && *why);
	}
	h->load_end_addr = AOUT_LOAD + AOUT_SIZE;
	CHECK_EQ(load_prefix(img, AOUT_SIZE - 1, &why), -ENOEXEC); /* shorter than load_end */
	CHECK(strstr(why, "truncated") != NULL);
	h->load_end_addr = 0;

	h->checksum++;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "no Multiboot header", h->checksum--);
	h->magic = 0x1BADB003;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "no Multiboot header", h->magic = MULTIBOOT_HEADER_MAGIC);
	/* Requirement bits it cannot meet. */
	put_header((u8 *)h, MULTIBOOT_AOUT_KLUDGE | MULTIBOOT_VIDEO_MODE);
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "video mode",
	       put_header((u8 *)h, MULTIBOOT_AOUT_KLUDGE | MULTIBOOT_MEMORY_INFO));
	put_header((u8 *)h, MULTIBOOT_AOUT_KLUDGE | BIT(5));
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "unknown", put_header((u8 *)h, MULTIBOOT_AOUT_KLUDGE));
	/* Optional bits above 15 are fine. */
	put_header((u8 *)h, MULTIBOOT_AOUT_KLUDGE | BIT(20));
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, NULL, &c, &r, &why), 0);

	h->header_addr = AOUT_LOAD - 4;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "header_addr", h->header_addr = AOUT_LOAD + AOUT_HDR);
	h->header_addr = AOUT_LOAD + AOUT_HDR + 4; /* the header would start before the file */
	h->load_addr = AOUT_LOAD - 0x100;
	h->header_addr = h->load_addr + AOUT_HDR + 4;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "header_addr",
	       (h->load_addr = AOUT_LOAD, h->header_addr = AOUT_LOAD + AOUT_HDR));
	h->load_end_addr = AOUT_LOAD;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "load_end_addr", h->load_end_addr = 0);
	h->load_end_addr = AOUT_LOAD + AOUT_SIZE + 1;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "truncated", h->load_end_addr = 0);
	h->load_end_addr = 0xffffffff;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "truncated", h->load_end_addr = 0);
	h->bss_end_addr = AOUT_LOAD + AOUT_SIZE - 1;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "bss_end_addr", h->bss_end_addr = AOUT_BSS_END);
	h->entry_addr = AOUT_BSS_END;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "entry_addr", h->entry_addr = AOUT_ENTRY);
	h->entry_addr = AOUT_LOAD - 1;
	EXPECT(img, AOUT_SIZE, -ENOEXEC, "entry_addr", h->entry_addr = AOUT_ENTRY);

	/* A kernel linked at 0x8000, in the loader's usual area (real-mode
	 * test kernels are): it loads there, and the loader's GDT, information,
	 * map and strings move above it and its module. */
	h->load_addr = 0x8000;
	h->header_addr = 0x8000 + AOUT_HDR;
	h->entry_addr = 0x8000;
	h->bss_end_addr = 0;
	{
		u8 m[100] = { 1, 2, 3 };
		struct multiboot_module mod = { .data = m, .size = sizeof(m), .string = "mod" };
		struct multiboot_info *mbi;
		struct multiboot_mod_list *ml;

		CHECK_EQ(load(img, AOUT_SIZE, "low", &mod, NULL, &c, &r, &why), 0);
		CHECK_EQ(r.rip, 0x8000);
		CHECK(!memcmp(gpa(0x8000, AOUT_SIZE), img, AOUT_SIZE));
		/* the kernel (and its .bss), its module on the next page, then
		 * the area on the page after the module's */
		mbi = gpa(r.gpr[GPR_RBX], sizeof(*mbi));
		ml = gpa(mbi->mods_addr, sizeof(*ml));
		CHECK(ml->mod_start >= 0x8000 + AOUT_SIZE && !(ml->mod_start & 0xfff));
		CHECK(!memcmp(gpa(ml->mod_start, sizeof(m)), m, sizeof(m)));
		CHECK_EQ(c.gdtr.base, ml->mod_start + 0x1000);
		CHECK_EQ(r.gpr[GPR_RBX], c.gdtr.base - MB_GDT_GPA + MB_INFO_GPA);
		CHECK_EQ(r.gpr[GPR_RSP], c.gdtr.base - MB_GDT_GPA + MB_STACK_TOP);
		CHECK(strcmp(gpa(mbi->cmdline, 4), "low") == 0);
		CHECK(strcmp(gpa(ml->string, 4), "mod") == 0);
		CHECK(mbi->mmap_addr > c.gdtr.base && mbi->mmap_length >= 20);
		CHECK(*(u64 *)gpa(c.gdtr.base + MB_SEL_CODE, 8) != 0); /* the code descriptor */
		CHECK(!memcmp(gpa(0x8000, AOUT_SIZE), img, AOUT_SIZE)); /* not overwritten */
	}
	h->load_addr = 16 * MiB - 0x1000;
	h->header_addr = h->load_addr + AOUT_HDR;
	h->entry_addr = h->load_addr;
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, NULL, &c, &r, &why), -E2BIG);
	CHECK(strstr(why, "does not fit") != NULL);
	h->load_addr = 0xfffff000;
	h->header_addr = h->load_addr + AOUT_HDR;
	h->entry_addr = h->load_addr;
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, NULL, &c, &r, &why), -E2BIG);
	h->load_addr = 0x9f000; /* over the BIOS hole */
	h->header_addr = h->load_addr + AOUT_HDR;
	h->entry_addr = h->load_addr;
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, make_platform(16 * MiB), &c, &r, &why), -E2BIG);
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, NULL, &c, &r, &why), 0); /* fine without */

	/* Modules and strings that do not fit. */
	free(img);
	img = make_aout(&h);
	u8 *big = calloc(1, 16 * MiB);
	struct multiboot_module mod = { .data = big, .size = 16 * MiB };
	CHECK_EQ(load(img, AOUT_SIZE, NULL, &mod, NULL, &c, &r, &why), -E2BIG);
	CHECK(strstr(why, "module") != NULL);
	mod.size = 16 * MiB - AOUT_BSS_END - 0x1000; /* just fits */
	CHECK_EQ(load(img, AOUT_SIZE, NULL, &mod, NULL, &c, &r, &why), 0);
	mod.data = NULL;
	CHECK_EQ(load(img, AOUT_SIZE, NULL, &mod, NULL, &c, &r, &why), -E2BIG);
	char *s = malloc(MB_STRING_MAX + 2);
	memset(s, 'y', MB_STRING_MAX + 1);
	s[MB_STRING_MAX + 1] = 0;
	CHECK_EQ(load(img, AOUT_SIZE, s, NULL, NULL, &c, &r, &why), -E2BIG);
	mod = (struct multiboot_module){ .data = big, .size = 1, .string = s };
	CHECK_EQ(load(img, AOUT_SIZE, NULL, &mod, NULL, &c, &r, &why), -E2BIG);
	s[MB_STRING_MAX] = 0;
	CHECK_EQ(load(img, AOUT_SIZE, s, &mod, NULL, &c, &r, &why), 0);
	CHECK(strcmp(gpa(MB_CMDLINE_GPA, MB_STRING_MAX + 1), s) == 0);

	/* The platform may not take the loader's low memory; the VM needs it. */
	struct guest_mem_range low = { 0x2000, 0x1000, E820_TYPE_RESERVED };
	struct guest_platform p = { .reserved = &low, .nr_reserved = 1 };
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, &p, &c, &r, &why), -EINVAL);
	vm.gmem.size = 0x8000; /* RAM ends below the loader's 0x1000-0xffff */
	CHECK_EQ(load(img, AOUT_SIZE, NULL, NULL, NULL, &c, &r, &why), -EINVAL);
	free(s);
	free(big);
	free(img);
}

TEST(bad_elf_images)
{
	u8 *e = make_elf();
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	make_vm(16 * MiB);
	/* Truncated anywhere before the end of the last segment's bytes. */
	static const u64 cuts[] = { 0, 4, 20, 51, 52, 60, 0x73, 0x200, 0x20b, 0x20c, 0x1000,
				    0x10ff, 0x1100, 0x110f };
	for (unsigned i = 0; i < ARRAY_SIZE(cuts); i++) {
		CHECK_EQ(load_prefix(e, cuts[i], &why), -ENOEXEC);
		CHECK(why && *why);
	}
	CHECK_EQ(load_prefix(e, 0x1110, &why), 0);

	e[4] = 2;
	EXPECT(e, ELF_SIZE, -ENOEXEC, "64-bit", e[4] = 1);
	e[5] = 2;
	EXPECT(e, ELF_SIZE, -ENOEXEC, "i386 ELF32", e[5] = 1);
	put16(e + 18, 62);
	EXPECT(e, ELF_SIZE, -ENOEXEC, "i386 ELF32", put16(e + 18, 3));
	put16(e + 16, 3);
	EXPECT(e, ELF_SIZE, -ENOEXEC, "i386 ELF32", put16(e + 16, 2));
	e[1] = 'e';
	EXPECT(e, ELF_SIZE, -ENOEXEC, "nor an ELF", e[1] = 'E');
	put16(e + 44, 0);
	EXPECT(e, ELF_SIZE, -ENOEXEC, "program headers", put16(e + 44, 3));
	put16(e + 44, 0xffff);
	EXPECT(e, ELF_SIZE, -ENOEXEC, "program headers", put16(e + 44, 3));
	put16(e + 42, 16);
	EXPECT(e, ELF_SIZE, -ENOEXEC, "program headers", put16(e + 42, 32));
	put32(e + 28, 0xfffffff0);
	EXPECT(e, ELF_SIZE, -ENOEXEC, "program headers", put32(e + 28, ELF_PHOFF));
	put32(e + 28, ELF_SIZE - 0x40);
	EXPECT(e, ELF_SIZE, -ENOEXEC, "program headers", put32(e + 28, ELF_PHOFF));
	put32(e + ELF_PHOFF + 4, 0xfffffff0); /* text p_offset */
	EXPECT(e, ELF_SIZE, -ENOEXEC, "past the end", put32(e + ELF_PHOFF + 4, 0x1000));
	put32(e + ELF_PHOFF + 16, 0x200); /* filesz > memsz */
	EXPECT(e, ELF_SIZE, -ENOEXEC, "past the end", put32(e + ELF_PHOFF + 16, 0x100));
	put32(e + 24, 0xc0300000);
	EXPECT(e, ELF_SIZE, -ENOEXEC, "entry point", put32(e + 24, 0xc0200010));
	put32(e + ELF_PHOFF, 6); /* no PT_LOAD holds the entry... */
	put32(e + ELF_PHOFF + 64, 6); /* ...nor anything else */
	EXPECT(e, ELF_SIZE, -ENOEXEC, "nothing to load",
	       (put32(e + ELF_PHOFF, 1), put32(e + ELF_PHOFF + 64, 1)));
	put32(e + ELF_PHOFF + 12, 0x1000); /* paddr below 64 KiB: loads, the area moves */
	CHECK_EQ(load(e, ELF_SIZE, NULL, NULL, NULL, &c, &r, &why), 0);
	CHECK(c.gdtr.base >= 0x10000);
	put32(e + ELF_PHOFF + 12, 0x200000);
	put32(e + ELF_PHOFF + 76, 0xfffff800); /* runs past 4 GiB */
	EXPECT(e, ELF_SIZE, -E2BIG, "4 GiB", put32(e + ELF_PHOFF + 76, 0x201000));
	put32(e + ELF_PHOFF + 84, 0x7fffffff); /* past the VM's RAM */
	EXPECT(e, ELF_SIZE, -E2BIG, "does not fit", put32(e + ELF_PHOFF + 84, 0x1000));

	/* The header must lie in the first 8 KiB. */
	u8 *far = calloc(1, 0x3000);
	memcpy(far, e, ELF_SIZE);
	memset(far + 0x200, 0, 12);
	put_header(far + 0x2000, MULTIBOOT_MEMORY_INFO);
	CHECK_EQ(multiboot_guest_find_header(far, 0x3000), -1);
	put_header(far + 0x1ff4, MULTIBOOT_MEMORY_INFO); /* the last place it may be */
	CHECK_EQ(multiboot_guest_find_header(far, 0x3000), 0x1ff4);
	put_header(far + 0x1ff6, MULTIBOOT_MEMORY_INFO); /* not 4-byte aligned */
	CHECK_EQ(multiboot_guest_find_header(far, 0x3000), -1);
	CHECK_EQ(multiboot_guest_find_header(NULL, 0), -1);
	free(far);
	free(e);
}

/* Random damage to the headers: an error, or a load inside the VM. */
TEST(fuzzed_images)
{
	struct multiboot_header *h;
	u8 *aout = make_aout(&h), *elf = make_elf(), *img = malloc(AOUT_SIZE);
	u64 seed = 0x243f6a8885a308d3ULL;
	struct guest_ctx c;
	struct vcpu_regs r;
	const char *why;
	int ok = 0;

	make_vm(16 * MiB);
	for (int iter = 0; iter < 3000; iter++) {
		bool is_elf = iter & 1;
		u64 size = is_elf ? ELF_SIZE : AOUT_SIZE;

		memcpy(img, is_elf ? elf : aout, size);
		for (int k = 0; k < 1 + iter % 5; k++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			u64 at = is_elf ? (seed >> 33) % 0x140 : AOUT_HDR + 12 + (seed >> 33) % 20;
			if (is_elf && at >= 0x74) /* past the program headers: the MB header */
				at = 0x200 + at % 12;
			img[at] = (u8)(seed >> 17);
		}
		/* Keep the checksum right half the time, so the fields get parsed. */
		if (iter % 4 < 2) {
			u8 *mh = img + (is_elf ? 0x200 : AOUT_HDR);
			u32 m, f;
			memcpy(&m, mh, 4);
			memcpy(&f, mh + 4, 4);
			put32(mh + 8, -(m + f));
		}
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		u64 n = iter % 3 ? size : (seed >> 33) % size;
		u8 *copy = malloc(n ? n : 1);
		memcpy(copy, img, n);
		u8 m[4] = { 0 };
		struct multiboot_module mod = { .data = m, .size = 4, .string = "m" };
		int err = load(copy, n, "c", iter % 3 ? &mod : NULL, NULL, &c, &r, &why);
		free(copy);
		if (err) {
			CHECK(err == -ENOEXEC || err == -E2BIG);
			CHECK(why && *why);
		} else {
			ok++;
			CHECK(r.rip < 16 * MiB);
		}
	}
	CHECK(ok > 0);
	free(img);
	free(aout);
	free(elf);
}

static u8 *read_file(const char *path, u64 *size)
{
	FILE *f = fopen(path, "rb");
	u8 *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? n : 1);
	if (fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = n;
	return buf;
}

/* utsuwa itself is a Multiboot kernel: an ELF64 with address fields, the way
 * QEMU's -kernel loads it. Its entry is _start32. */
TEST(utsuwa_elf)
{
	u64 size;
	u8 *img = read_file("build/utsuwa.elf", &size);
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	if (!img || size < 64) {
		printf("skip utsuwa_elf: build/utsuwa.elf absent (make builds it)\n");
		free(img);
		return;
	}
	s64 hoff = multiboot_guest_find_header(img, size);
	CHECK(hoff >= 0);
	if (hoff < 0) {
		free(img);
		return;
	}
	struct multiboot_header h;
	memcpy(&h, img + hoff, sizeof(h));
	CHECK(h.flags & MULTIBOOT_AOUT_KLUDGE);
	make_vm(64 * MiB);
	CHECK_EQ(load(img, size, "vm=a,image=x", NULL, make_platform(64 * MiB), &c, &r, &why), 0);
	check_start_state(&c, &r, h.entry_addr);
	u64 off = hoff - (h.header_addr - h.load_addr);
	CHECK(memcmp(gpa(h.load_addr, h.load_end_addr - h.load_addr), img + off,
		     h.load_end_addr - h.load_addr) == 0);
	/* The ELF64 program header agrees on where the bytes come from. */
	u64 phoff, p_offset, p_paddr;
	memcpy(&phoff, img + 32, 8);
	memcpy(&p_offset, img + phoff + 8, 8);
	memcpy(&p_paddr, img + phoff + 24, 8);
	CHECK_EQ(p_paddr, h.load_addr);
	CHECK_EQ(p_offset, off);
	/* Without flag 16, an ELF64 is refused. */
	put_header(img + hoff, MULTIBOOT_MEMORY_INFO);
	CHECK_EQ(load(img, size, NULL, NULL, NULL, &c, &r, &why), -ENOEXEC);
	CHECK(strstr(why, "64-bit") != NULL);
	free(img);

	/* The raw test guests have no Multiboot header. */
	img = read_file("build/guests/basic-prot.elf", &size);
	if (img) {
		CHECK_EQ(load(img, size, NULL, NULL, NULL, &c, &r, &why), -ENOEXEC);
		free(img);
	}
}

int main(void)
{
	RUN(address_fields_image_with_module);
	RUN(elf32_image);
	RUN(bad_address_field_images);
	RUN(bad_elf_images);
	RUN(fuzzed_images);
	RUN(utsuwa_elf);
	free(ram);
	return unit_done();
}
