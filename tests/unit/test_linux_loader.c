/*
 * The Linux boot protocol loader (loaders/linux.c) in a VM whose RAM is host
 * memory: a hand-built bzImage, Debian's kernel when build/linux/vmlinuz
 * exists (scripts/build-linux-guest.sh), and broken images of every kind.
 * Bad images are copied to buffers of their exact size so ASan sees any read
 * past the end.
 */
#include "unit.h"
#include <string.h>
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "fake_gmem.h"
#include "loaders/linux.h"

#define MiB (1ULL << 20)
#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define PAYLOAD 0x10000 /* the synthetic protected-mode kernel */
#define TRAILER 0x200   /* bytes after syssize (a signature): never loaded */

static struct vm vm;
static u8 *ram[2];

static struct vm *make_vm(u64 mem)
{
	free(ram[0]);
	free(ram[1]);
	ram[1] = NULL;
	ram[0] = calloc(1, mem);
	memset(&vm, 0, sizeof(vm));
	fake_gmem_attach(&vm, ram[0], mem);
	vm.cfg.mem = mem;
	vm.cfg.cpus = 1;
	return &vm;
}

static void *gpa(u64 addr, u64 len)
{
	return fake_gmem_ptr(&vm, addr, len);
}

/* A bzImage as the kernel's build makes it, with a recognizable payload. */
static u8 *make_bzimage(u64 *size, struct linux_setup_header **hp)
{
	u64 n = SETUP_SIZE + PAYLOAD + TRAILER;
	u8 *img = malloc(n);
	struct linux_setup_header h = {
		.setup_sects = SETUP_SECTS,
		.root_flags = 1,
		.syssize = PAYLOAD / 16,
		.vid_mode = 0xffff,
		.boot_flag = LINUX_BOOT_FLAG,
		.jump = 0x6aeb, /* jmp short to 0x26c: the header's end */
		.header = LINUX_HDRS_MAGIC,
		.version = 0x020f,
		.kernel_version = 0x1234,
		.loadflags = LINUX_LOADED_HIGH,
		.code32_start = 0x100000,
		.heap_end_ptr = 0x5a5a,
		.initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 0x200000,
		.relocatable_kernel = 1,
		.min_alignment = 21,
		.xloadflags = LINUX_XLF_KERNEL_64 | LINUX_XLF_CAN_BE_LOADED_ABOVE_4G,
		.cmdline_size = 0x7ff,
		.hardware_subarch = 7,
		.payload_offset = 0x2cc,
		.payload_length = 0x1000,
		.setup_data = 0xdeadbeef, /* a loader's to write: must come out 0 */
		.pref_address = 0x1000000,
		.init_size = 4 * MiB,
		.handover_offset = 0x190,
		.kernel_info_offset = 0x99,
	};

	memset(img, 0xcc, SETUP_SIZE); /* boot sector and setup code */
	memcpy(img + 0x1f1, &h, sizeof(h));
	for (u64 i = 0; i < PAYLOAD; i++)
		img[SETUP_SIZE + i] = (u8)(i * 7 + 3);
	memset(img + SETUP_SIZE + PAYLOAD, 0xee, TRAILER);
	*size = n;
	if (hp)
		*hp = (struct linux_setup_header *)(img + 0x1f1);
	return img;
}

/* The platform of a typical VM: the BIOS hole, ACPI tables at the top of
 * RAM, the local APIC/IOAPIC MMIO above it. */
static struct guest_mem_range plat_ranges[3];
static struct guest_platform plat;

static const struct guest_platform *make_platform(u64 mem)
{
	plat_ranges[0] = (struct guest_mem_range){ 0xfec00000, 0x1000, E820_TYPE_RESERVED };
	plat_ranges[1] = (struct guest_mem_range){ mem - 0x20000, 0x20000, E820_TYPE_ACPI };
	plat_ranges[2] = (struct guest_mem_range){ GUEST_BIOS_AREA_START,
						   GUEST_BIOS_AREA_END - GUEST_BIOS_AREA_START,
						   E820_TYPE_RESERVED };
	plat = (struct guest_platform){ .reserved = plat_ranges, .nr_reserved = 3,
					.acpi_rsdp = mem - 0x20000 };
	return &plat;
}

/* Walks the guest's 4-level page tables; ~0 when va is not mapped. */
static u64 walk(u64 cr3, u64 va)
{
	u64 *t = gpa(cr3 & ~0xfffULL, 4096);
	u64 e;

	for (int level = 3; level >= 0 && t; level--) {
		e = t[(va >> (12 + 9 * level)) & 511];
		if (!(e & 1))
			return ~0ULL;
		if (level == 0 || (level <= 2 && (e & 0x80))) {
			u64 span = 1ULL << (12 + 9 * level);
			return (e & 0x000ffffffffff000ULL & ~(span - 1)) | (va & (span - 1));
		}
		t = gpa(e & 0x000ffffffffff000ULL, 4096);
	}
	return ~0ULL;
}

static bool identity_mapped(u64 cr3, u64 start, u64 len)
{
	for (u64 a = start; a < start + len; a += 2 * MiB)
		if (walk(cr3, a) != a)
			return false;
	return walk(cr3, start + len - 1) == start + len - 1;
}

static int load(const void *img, u64 size, const void *initrd, u64 initrd_size, const char *cmd,
		const struct guest_platform *p, bool entry64, struct guest_ctx *c,
		struct vcpu_regs *r, const char **why)
{
	*why = NULL;
	return linux_load(&vm, img, size, initrd, initrd_size, cmd, p, entry64, c, r, why);
}

TEST(synthetic_64bit_entry)
{
	const u64 mem = 128 * MiB, acpi = mem - 0x20000;
	struct linux_setup_header *ih;
	u64 size, initrd_size = MiB + 123;
	u8 *img = make_bzimage(&size, &ih), *initrd = malloc(initrd_size);
	const char *cmd = "console=ttyS0 quiet", *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	for (u64 i = 0; i < initrd_size; i++)
		initrd[i] = (u8)(i ^ (i >> 8));
	make_vm(mem);
	CHECK_EQ(load(img, size, initrd, initrd_size, cmd, make_platform(mem), true, &c, &r, &why), 0);

	/* The kernel at pref_address, without the trailer. */
	CHECK(memcmp(gpa(0x1000000, PAYLOAD), img + SETUP_SIZE, PAYLOAD) == 0);
	CHECK_EQ(*(u8 *)gpa(0x1000000 + PAYLOAD, 1), 0);

	/* Registers and CPU state: boot.rst, "64-bit Boot Protocol". */
	CHECK_EQ(r.rip, 0x1000000 + 0x200);
	CHECK_EQ(r.gpr[GPR_RSI], LINUX_BOOT_PARAMS_GPA);
	CHECK_EQ(r.rflags, 2); /* IF clear */
	CHECK_EQ(r.gpr[GPR_RSP], LINUX_STACK_TOP);
	CHECK_EQ(r.gpr[GPR_RAX] | r.gpr[GPR_RBX] | r.gpr[GPR_RBP] | r.gpr[GPR_RDI], 0);
	CHECK_EQ(guest_ctx_mode(&c, r.rflags), MODE_LONG64);
	CHECK_EQ(c.cs.sel, LINUX_BOOT_CS);
	CHECK_EQ(c.cs.attr, 0xa9b);
	CHECK_EQ(c.cs.limit, 0xffffffff);
	CHECK_EQ(c.ds.sel, LINUX_BOOT_DS);
	CHECK_EQ(c.es.sel, LINUX_BOOT_DS);
	CHECK_EQ(c.ss.sel, LINUX_BOOT_DS);
	CHECK_EQ(c.ss.attr, 0xc93);
	CHECK_EQ(c.cr0 & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);
	CHECK_EQ(c.cr4, CR4_PAE);
	CHECK_EQ(c.efer, EFER_LME | EFER_LMA);
	CHECK_EQ(c.cr3, LINUX_PML4_GPA);
	CHECK_EQ(c.gdtr.base, LINUX_GDT_GPA);
	CHECK_EQ(c.gdtr.limit, 31);
	CHECK_EQ(c.tr.attr, 0x8b);

	/* The GDT: __BOOT_CS (64-bit code) and __BOOT_DS, flat. */
	u64 *gdt = gpa(LINUX_GDT_GPA, 32);
	CHECK_EQ(gdt[0], 0);
	CHECK_EQ(gdt[1], 0);
	CHECK_EQ(gdt[2], 0x00af9b000000ffffULL);
	CHECK_EQ(gdt[3], 0x00cf93000000ffffULL);

	/* boot_params: the image's header with a loader's fields written. */
	struct linux_boot_params *bp = gpa(LINUX_BOOT_PARAMS_GPA, 4096);
	struct linux_setup_header *h = &bp->hdr;
	u64 rd = (acpi - initrd_size) & ~0xfffULL;

	CHECK_EQ(h->setup_sects, SETUP_SECTS);
	CHECK_EQ(h->root_flags, 1);
	CHECK_EQ(h->syssize, PAYLOAD / 16);
	CHECK_EQ(h->vid_mode, 0xffff);
	CHECK_EQ(h->boot_flag, 0xaa55);
	CHECK_EQ(h->jump, 0x6aeb);
	CHECK_EQ(h->header, 0x53726448);
	CHECK_EQ(h->version, 0x020f);
	CHECK_EQ(h->kernel_version, 0x1234);
	CHECK_EQ(h->type_of_loader, 0xff);
	CHECK_EQ(h->loadflags, LINUX_LOADED_HIGH);
	CHECK_EQ(h->code32_start, 0x1000000);
	CHECK_EQ(h->ramdisk_image, rd);
	CHECK_EQ(h->ramdisk_size, initrd_size);
	CHECK_EQ(h->heap_end_ptr, 0);
	CHECK_EQ(h->ext_loader_ver, 0);
	CHECK_EQ(h->ext_loader_type, 0);
	CHECK_EQ(h->cmd_line_ptr, LINUX_CMDLINE_GPA);
	CHECK_EQ(h->initrd_addr_max, 0x7fffffff);
	CHECK_EQ(h->kernel_alignment, 0x200000);
	CHECK_EQ(h->relocatable_kernel, 1);
	CHECK_EQ(h->min_alignment, 21);
	CHECK_EQ(h->xloadflags, 3);
	CHECK_EQ(h->cmdline_size, 0x7ff);
	CHECK_EQ(h->hardware_subarch, 0);
	CHECK_EQ(h->hardware_subarch_data, 0);
	CHECK_EQ(h->payload_offset, 0x2cc);
	CHECK_EQ(h->payload_length, 0x1000);
	CHECK_EQ(h->setup_data, 0);
	CHECK_EQ(h->pref_address, 0x1000000);
	CHECK_EQ(h->init_size, 4 * MiB);
	CHECK_EQ(h->handover_offset, 0x190);
	CHECK_EQ(h->kernel_info_offset, 0x99);
	CHECK_EQ(bp->sentinel, 0); /* the image has 0xcc there: not copied */
	CHECK_EQ(bp->acpi_rsdp_addr, acpi);
	CHECK_EQ(bp->alt_mem_k, (acpi - MiB) >> 10);
	CHECK_EQ(bp->ext_ramdisk_image | bp->ext_ramdisk_size | bp->ext_cmd_line_ptr, 0);

	/* e820, sorted: low RAM, BIOS hole, RAM, ACPI, MMIO. */
	static const struct e820_entry want[] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x100000 - 0x9fc00, 2 },
		{ 0x100000, 128 * MiB - 0x20000 - 0x100000, 1 },
		{ 128 * MiB - 0x20000, 0x20000, 3 },
		{ 0xfec00000, 0x1000, 2 },
	};
	CHECK_EQ(bp->e820_entries, ARRAY_SIZE(want));
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		CHECK_EQ(bp->e820_table[i].addr, want[i].addr);
		CHECK_EQ(bp->e820_table[i].size, want[i].size);
		CHECK_EQ(bp->e820_table[i].type, want[i].type);
	}

	/* Every other byte of boot_params is zero. */
	struct linux_boot_params z;
	memcpy(&z, bp, sizeof(z));
	memset(&z.hdr, 0, sizeof(z.hdr));
	memset(z.e820_table, 0, sizeof(z.e820_table));
	z.e820_entries = 0;
	z.acpi_rsdp_addr = 0;
	z.alt_mem_k = 0;
	static const struct linux_boot_params zero;
	CHECK(memcmp(&z, &zero, sizeof(z)) == 0);

	/* The initrd: page-aligned, as high as it goes below the ACPI tables. */
	CHECK_EQ(rd % 4096, 0);
	CHECK(rd + initrd_size <= acpi);
	CHECK(rd >= 0x1000000 + 4 * MiB);
	CHECK(memcmp(gpa(rd, initrd_size), initrd, initrd_size) == 0);

	/* The command line. */
	CHECK(strcmp(gpa(LINUX_CMDLINE_GPA, 64), cmd) == 0);

	/* Identity-mapped: the kernel (init_size), boot_params, command line, initrd. */
	CHECK(identity_mapped(c.cr3, 0x1000000, 4 * MiB));
	CHECK(identity_mapped(c.cr3, LINUX_BOOT_PARAMS_GPA, 4096));
	CHECK(identity_mapped(c.cr3, LINUX_CMDLINE_GPA, LINUX_CMDLINE_MAX + 1));
	CHECK(identity_mapped(c.cr3, rd, initrd_size));
	CHECK_EQ(walk(c.cr3, 0xffffffffULL), 0xffffffffULL);
	CHECK_EQ(walk(c.cr3, 0x100000000ULL), ~0ULL);
	u64 *pd = gpa(LINUX_PD_GPA, 4 * 4096);
	CHECK_EQ(pd[8], 0x1000000 | 0x83); /* 2 MiB pages, present, writable */

	free(img);
	free(initrd);
}

TEST(synthetic_32bit_entry)
{
	struct linux_setup_header *ih;
	u64 size;
	u8 *img = make_bzimage(&size, &ih);
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	make_vm(64 * MiB);
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, false, &c, &r, &why), 0);
	CHECK_EQ(r.rip, 0x1000000); /* code32_start = the load address */
	CHECK_EQ(r.gpr[GPR_RSI], LINUX_BOOT_PARAMS_GPA);
	CHECK_EQ(r.gpr[GPR_RBX] | r.gpr[GPR_RBP] | r.gpr[GPR_RDI], 0);
	CHECK_EQ(r.rflags, 2);
	CHECK_EQ(guest_ctx_mode(&c, r.rflags), MODE_PROT32);
	CHECK_EQ(c.cs.sel, LINUX_BOOT_CS);
	CHECK_EQ(c.cs.attr, 0xc9b);
	CHECK_EQ(c.ds.sel, LINUX_BOOT_DS);
	CHECK_EQ(c.ss.sel, LINUX_BOOT_DS);
	CHECK_EQ(c.cr0 & CR0_PG, 0);
	CHECK(c.cr0 & CR0_PE);
	CHECK_EQ(c.efer, 0);
	CHECK_EQ(c.cr4, 0);
	u64 *gdt = gpa(LINUX_GDT_GPA, 32);
	CHECK_EQ(gdt[2], 0x00cf9b000000ffffULL);
	CHECK_EQ(gdt[3], 0x00cf93000000ffffULL);
	CHECK_EQ(*(u64 *)gpa(LINUX_PML4_GPA, 8), 0); /* no page tables */

	struct linux_boot_params *bp = gpa(LINUX_BOOT_PARAMS_GPA, 4096);
	CHECK_EQ(bp->hdr.code32_start, 0x1000000);
	CHECK_EQ(bp->hdr.ramdisk_image, 0);
	CHECK_EQ(bp->hdr.ramdisk_size, 0);
	CHECK_EQ(bp->acpi_rsdp_addr, 0);
	CHECK_EQ(bp->e820_entries, 1); /* no platform: all RAM */
	CHECK_EQ(bp->e820_table[0].size, 64 * MiB);
	CHECK_EQ(*(char *)gpa(LINUX_CMDLINE_GPA, 1), 0);

	/* A kernel without the 64-bit entry boots only the 32-bit way. */
	ih->xloadflags = 0;
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), -ENOEXEC);
	CHECK(strstr(why, "64-bit") != NULL);
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, false, &c, &r, &why), 0);
	free(img);
}

TEST(e820_from_ram_and_reserved_ranges)
{
	struct e820_entry map[GUEST_E820_MAX];
	struct guest_mem_range res[GUEST_MAX_RESERVED + 1];
	struct guest_platform p = { .reserved = res };
	const char *why = NULL;
	unsigned n;

	make_vm(64 * MiB);
	/* RAM is one range from 0 (include/hv/gmem.h). */
	CHECK_EQ(guest_e820_build(&vm, NULL, map, GUEST_E820_MAX, &n, &why), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(map[0].addr, 0);
	CHECK_EQ(map[0].size, 64 * MiB);

	/* Given in any order; one cuts RAM in two; one straddles its end; one
	 * runs to the top of the address space. */
	res[0] = (struct guest_mem_range){ 32 * MiB, MiB, E820_TYPE_NVS };
	res[1] = (struct guest_mem_range){ 63 * MiB, 2 * MiB, E820_TYPE_ACPI };
	res[2] = (struct guest_mem_range){ 0xffffffff00000000ULL, 0x100000000ULL, 2 };
	res[3] = (struct guest_mem_range){ 0, 0x1000, E820_TYPE_UNUSABLE };
	p.nr_reserved = 4;
	CHECK_EQ(guest_e820_build(&vm, &p, map, GUEST_E820_MAX, &n, &why), 0);
	static const struct e820_entry want[] = {
		{ 0, 0x1000, 5 },
		{ 0x1000, 32 * MiB - 0x1000, 1 },
		{ 32 * MiB, MiB, 4 },
		{ 33 * MiB, 30 * MiB, 1 },
		{ 63 * MiB, 2 * MiB, 3 },
		{ 0xffffffff00000000ULL, 0x100000000ULL, 2 },
	};
	CHECK_EQ(n, ARRAY_SIZE(want));
	for (unsigned i = 0; i < ARRAY_SIZE(want) && i < n; i++) {
		CHECK_EQ(map[i].addr, want[i].addr);
		CHECK_EQ(map[i].size, want[i].size);
		CHECK_EQ(map[i].type, want[i].type);
	}
	CHECK(guest_e820_holds(map, n, 0x1000, 32 * MiB - 0x1000));
	CHECK(!guest_e820_holds(map, n, 0x1000, 32 * MiB));
	CHECK(!guest_e820_holds(map, n, 63 * MiB, 4096));

	/* Room for fewer entries than needed. */
	CHECK_EQ(guest_e820_build(&vm, &p, map, 3, &n, &why), -E2BIG);
	CHECK(why && *why);

	/* Malformed ranges. */
	res[1] = (struct guest_mem_range){ 0x800, 0x1000, 2 }; /* overlaps res[3] */
	CHECK_EQ(guest_e820_build(&vm, &p, map, GUEST_E820_MAX, &n, &why), -EINVAL);
	res[1] = (struct guest_mem_range){ MiB, 0, 2 };
	CHECK_EQ(guest_e820_build(&vm, &p, map, GUEST_E820_MAX, &n, &why), -EINVAL);
	res[1] = (struct guest_mem_range){ MiB, MiB, E820_TYPE_RAM };
	CHECK_EQ(guest_e820_build(&vm, &p, map, GUEST_E820_MAX, &n, &why), -EINVAL);
	res[1] = (struct guest_mem_range){ 0xfffffffffffff000ULL, 0x2000, 2 }; /* wraps */
	CHECK_EQ(guest_e820_build(&vm, &p, map, GUEST_E820_MAX, &n, &why), -EINVAL);
	p.nr_reserved = GUEST_MAX_RESERVED + 1;
	CHECK_EQ(guest_e820_build(&vm, &p, map, GUEST_E820_MAX, &n, &why), -EINVAL);

	/* The most ranges: every one splits RAM, and the map still fits. */
	for (unsigned i = 0; i < GUEST_MAX_RESERVED; i++)
		res[i] = (struct guest_mem_range){ MiB + i * 2 * 4096, 4096, 2 };
	p.nr_reserved = GUEST_MAX_RESERVED;
	CHECK_EQ(guest_e820_build(&vm, &p, map, GUEST_E820_MAX, &n, &why), 0);
	CHECK_EQ(n, 2 * GUEST_MAX_RESERVED + 1);
	for (unsigned i = 1; i < n; i++)
		CHECK(map[i].addr >= map[i - 1].addr + map[i - 1].size);
}

/* A VM of 4 GiB: RAM below the PCI hole and from 4 GiB up, the hole not
 * RAM (include/hv/gmem_layout.h); only the map's fields are set, the build
 * reads nothing else. */
TEST(e820_of_a_vm_with_the_pci_hole)
{
	static const struct guest_mem_range bios = { 0x9fc00, 0x100000 - 0x9fc00, 2 };
	struct guest_platform p = { .reserved = &bios, .nr_reserved = 1 };
	struct e820_entry map[GUEST_E820_MAX];
	const char *why = NULL;
	unsigned n;

	make_vm(64 * MiB);
	vm.gmem.low_end = 0xc0000000ULL;
	vm.gmem.high_start = 0x100000000ULL;
	vm.gmem.size = 0x140000000ULL;
	CHECK_EQ(guest_e820_build(&vm, &p, map, GUEST_E820_MAX, &n, &why), 0);
	static const struct e820_entry want[] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x100000 - 0x9fc00, 2 },
		{ 0x100000, 0xc0000000ULL - 0x100000, 1 },
		{ 0x100000000ULL, 0x40000000ULL, 1 },
	};
	CHECK_EQ(n, ARRAY_SIZE(want));
	for (unsigned i = 0; i < ARRAY_SIZE(want) && i < n; i++) {
		CHECK_EQ(map[i].addr, want[i].addr);
		CHECK_EQ(map[i].size, want[i].size);
		CHECK_EQ(map[i].type, want[i].type);
	}
	CHECK(!guest_e820_holds(map, n, 0xbffff000ULL, 0x2000));
	CHECK(!guest_e820_holds(map, n, 0xfee00000ULL, 0x1000));
	CHECK(guest_e820_holds(map, n, 0x13ffff000ULL, 0x1000));
	make_vm(64 * MiB);
}

TEST(kernel_placement)
{
	struct linux_setup_header *ih;
	u64 size;
	u8 *img = make_bzimage(&size, &ih);
	struct linux_boot_params *bp;
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	/* pref_address does not fit: the lowest 2 MiB-aligned place above 1 MiB. */
	ih->init_size = 24 * MiB;
	make_vm(32 * MiB);
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), 0);
	CHECK_EQ(r.rip, 2 * MiB + 0x200);
	bp = gpa(LINUX_BOOT_PARAMS_GPA, 4096);
	CHECK_EQ(bp->hdr.code32_start, 2 * MiB);
	CHECK_EQ(bp->hdr.kernel_alignment, 2 * MiB);
	CHECK(memcmp(gpa(2 * MiB, PAYLOAD), img + SETUP_SIZE, PAYLOAD) == 0);

	/* A pref_address aligned only to min_alignment: kernel_alignment says so. */
	ih->init_size = 4 * MiB;
	ih->min_alignment = 20;
	ih->pref_address = 17 * MiB;
	make_vm(64 * MiB);
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), 0);
	CHECK_EQ(r.rip, 17 * MiB + 0x200);
	CHECK_EQ(((struct linux_boot_params *)gpa(LINUX_BOOT_PARAMS_GPA, 4096))->hdr.kernel_alignment,
		 MiB);

	/* A hostile pref_address is just not used. */
	ih->pref_address = 0xfffffffffffff000ULL;
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), 0);
	CHECK_EQ(r.rip, 2 * MiB + 0x200);
	ih->pref_address = 0; /* none: 16 MiB */
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), 0);
	CHECK_EQ(r.rip, 16 * MiB + 0x200);

	/* Not relocatable: 1 MiB, always. */
	ih->relocatable_kernel = 0;
	ih->pref_address = 16 * MiB;
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, false, &c, &r, &why), 0);
	CHECK_EQ(r.rip, MiB);

	/* Larger than RAM. */
	ih->relocatable_kernel = 1;
	ih->init_size = 200 * MiB;
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), -E2BIG);
	CHECK(strstr(why, "does not fit") != NULL);
	ih->relocatable_kernel = 0;
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), -E2BIG);
	/* Fits the RAM, but not around a reserved range. */
	ih->relocatable_kernel = 1;
	ih->init_size = 40 * MiB;
	struct guest_mem_range hole = { 32 * MiB, 4096, E820_TYPE_RESERVED };
	struct guest_platform p = { .reserved = &hole, .nr_reserved = 1 };
	CHECK_EQ(load(img, size, NULL, 0, NULL, &p, true, &c, &r, &why), -E2BIG);
	free(img);
}

TEST(initrd_placement)
{
	struct linux_setup_header *ih;
	u64 size;
	u8 *img = make_bzimage(&size, &ih), *initrd = calloc(1, 128 * MiB);
	struct linux_boot_params *bp;
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	make_vm(128 * MiB);
	bp = gpa(LINUX_BOOT_PARAMS_GPA, 4096);
	/* At the top of RAM when nothing else limits it. */
	CHECK_EQ(load(img, size, initrd, 4096, NULL, NULL, true, &c, &r, &why), 0);
	CHECK_EQ(bp->hdr.ramdisk_image, 128 * MiB - 4096);
	CHECK_EQ(bp->hdr.ramdisk_size, 4096);

	/* Below initrd_addr_max (the highest byte it may use). */
	ih->initrd_addr_max = 24 * MiB - 1;
	CHECK_EQ(load(img, size, initrd, 3 * MiB + 1, NULL, NULL, true, &c, &r, &why), 0);
	CHECK_EQ(bp->hdr.ramdisk_image, (24 * MiB - (3 * MiB + 1)) & ~0xfffULL);
	CHECK(bp->hdr.ramdisk_image + bp->hdr.ramdisk_size - 1 <= ih->initrd_addr_max);
	CHECK(bp->hdr.ramdisk_image >= 20 * MiB); /* clear of the kernel at 16-20 MiB */

	/* No room above the kernel: below it, above 1 MiB. */
	ih->initrd_addr_max = 0x7fffffff;
	ih->init_size = 15 * MiB;
	make_vm(32 * MiB);
	bp = gpa(LINUX_BOOT_PARAMS_GPA, 4096);
	CHECK_EQ(load(img, size, initrd, 2 * MiB, NULL, NULL, true, &c, &r, &why), 0);
	CHECK_EQ(bp->hdr.ramdisk_image, 14 * MiB);

	/* Does not fit anywhere. */
	CHECK_EQ(load(img, size, initrd, 16 * MiB, NULL, NULL, true, &c, &r, &why), -E2BIG);
	CHECK(strstr(why, "initrd") != NULL);
	make_vm(128 * MiB);
	ih->init_size = 4 * MiB;
	CHECK_EQ(load(img, size, initrd, 120 * MiB, NULL, NULL, true, &c, &r, &why), -E2BIG);
	ih->initrd_addr_max = 0;
	CHECK_EQ(load(img, size, initrd, 4096, NULL, NULL, true, &c, &r, &why), -E2BIG);
	ih->initrd_addr_max = 0x7fffffff;
	CHECK_EQ(load(img, size, initrd, 1ULL << 32, NULL, NULL, true, &c, &r, &why), -E2BIG);
	CHECK_EQ(load(img, size, NULL, 4096, NULL, NULL, true, &c, &r, &why), -EINVAL);
	free(img);
	free(initrd);
}

TEST(command_line_and_platform_limits)
{
	struct linux_setup_header *ih;
	u64 size;
	u8 *img = make_bzimage(&size, &ih);
	char *long_cmd = malloc(LINUX_CMDLINE_MAX + 2);
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	make_vm(64 * MiB);
	ih->cmdline_size = 16;
	CHECK_EQ(load(img, size, NULL, 0, "0123456789abcdef", NULL, true, &c, &r, &why), 0);
	CHECK(strcmp(gpa(LINUX_CMDLINE_GPA, 17), "0123456789abcdef") == 0);
	CHECK_EQ(load(img, size, NULL, 0, "0123456789abcdefg", NULL, true, &c, &r, &why), -E2BIG);
	CHECK(strstr(why, "command line") != NULL);
	ih->cmdline_size = 0xffffffff;
	memset(long_cmd, 'x', LINUX_CMDLINE_MAX + 1);
	long_cmd[LINUX_CMDLINE_MAX + 1] = 0;
	CHECK_EQ(load(img, size, NULL, 0, long_cmd, NULL, true, &c, &r, &why), -E2BIG);
	long_cmd[LINUX_CMDLINE_MAX] = 0;
	CHECK_EQ(load(img, size, NULL, 0, long_cmd, NULL, true, &c, &r, &why), 0);

	/* The platform may not take the loader's low memory. */
	struct guest_mem_range low = { 0x8000, 0x1000, E820_TYPE_ACPI };
	struct guest_platform p = { .reserved = &low, .nr_reserved = 1 };
	CHECK_EQ(load(img, size, NULL, 0, NULL, &p, true, &c, &r, &why), -EINVAL);
	CHECK(strstr(why, "0x1000-0x1ffff") != NULL);
	struct guest_mem_range bad = { MiB, 0, E820_TYPE_RESERVED };
	p.reserved = &bad;
	CHECK_EQ(load(img, size, NULL, 0, NULL, &p, true, &c, &r, &why), -EINVAL);

	/* A VM whose RAM ends below the loader's structures (0x1000-0x1ffff). */
	vm.gmem.size = 0x10000;
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), -EINVAL);
	free(long_cmd);
	free(img);
}

/* Runs the loader on the first n bytes of img, in a buffer of exactly n. */
static int load_prefix(const u8 *img, u64 n, const char **why)
{
	u8 *copy = malloc(n ? n : 1);
	struct guest_ctx c;
	struct vcpu_regs r;
	int err;

	memcpy(copy, img, n);
	err = load(copy, n, NULL, 0, NULL, NULL, true, &c, &r, why);
	free(copy);
	return err;
}

TEST(bad_images)
{
	struct linux_setup_header *ih;
	u64 size;
	u8 *img = make_bzimage(&size, &ih);
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;
	static const u64 cuts[] = { 0,     1,     0x1f1, 0x1ff, 0x205, 0x206,
				    0x210, 0x250, 0x267, 0x26b, SETUP_SIZE - 1,
				    SETUP_SIZE, SETUP_SIZE + 1, SETUP_SIZE + PAYLOAD - 1 };

	make_vm(64 * MiB);
	CHECK_EQ(load_prefix(img, size, &why), 0);
	CHECK_EQ(load_prefix(img, SETUP_SIZE + PAYLOAD, &why), 0); /* no trailer: fine */
	for (unsigned i = 0; i < ARRAY_SIZE(cuts); i++) {
		CHECK_EQ(load_prefix(img, cuts[i], &why), -ENOEXEC);
		CHECK(why && *why);
	}
	CHECK_EQ(load(NULL, 0, NULL, 0, NULL, NULL, true, &c, &r, &why), -ENOEXEC);

#define EXPECT_BAD(mutate, restore, words)                                          \
	do {                                                                        \
		mutate;                                                             \
		CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), -ENOEXEC); \
		CHECK(why && strstr(why, words) != NULL);                           \
		restore;                                                            \
		CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), 0); \
	} while (0)

	EXPECT_BAD(ih->boot_flag = 0xaa56, ih->boot_flag = 0xaa55, "0xAA55");
	EXPECT_BAD(ih->header = 0x53726449, ih->header = LINUX_HDRS_MAGIC, "HdrS");
	EXPECT_BAD(ih->version = 0x020b, ih->version = 0x020f, "older than 2.12");
	EXPECT_BAD(ih->version = 0x0100, ih->version = 0x020f, "older than 2.12");
	EXPECT_BAD(ih->jump = 0x50eb, ih->jump = 0x6aeb, "too short");
	EXPECT_BAD(ih->loadflags = 0, ih->loadflags = LINUX_LOADED_HIGH, "zImage");
	EXPECT_BAD(ih->syssize = 0, ih->syssize = PAYLOAD / 16, "syssize");
	EXPECT_BAD(ih->syssize = (PAYLOAD + TRAILER) / 16 + 1, ih->syssize = PAYLOAD / 16,
		   "truncated");
	EXPECT_BAD(ih->syssize = 0xffffffff, ih->syssize = PAYLOAD / 16, "truncated");
	EXPECT_BAD(ih->setup_sects = 0xff, ih->setup_sects = SETUP_SECTS, "truncated");
	EXPECT_BAD(ih->init_size = PAYLOAD - 1, ih->init_size = 4 * MiB, "init_size");
	EXPECT_BAD(ih->kernel_alignment = 0x300000, ih->kernel_alignment = 0x200000, "alignment");
	EXPECT_BAD(ih->kernel_alignment = 0, ih->kernel_alignment = 0x200000, "alignment");
	EXPECT_BAD(ih->min_alignment = 22, ih->min_alignment = 21, "alignment");
	EXPECT_BAD(ih->min_alignment = 200, ih->min_alignment = 21, "alignment");
	EXPECT_BAD(ih->xloadflags = 0, ih->xloadflags = 3, "XLF_KERNEL_64");
	/* setup_sects 0 means 4 (boot.rst). */
	ih->setup_sects = 0;
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), 0);
	ih->setup_sects = SETUP_SECTS;
	CHECK(linux_is_bzimage(img, size));
	CHECK(!linux_is_bzimage(img, 0x205));
	CHECK(!linux_is_bzimage(NULL, 0));
	free(img);
}

/* Random damage to the header and the setup sectors: the loader answers
 * with an error or a load that stays inside the VM, and ASan watches. */
TEST(fuzzed_headers)
{
	u64 size, seed = 0x9e3779b97f4a7c15ULL;
	u8 *orig = make_bzimage(&size, NULL), *img = malloc(size);
	struct guest_ctx c;
	struct vcpu_regs r;
	const char *why;
	int ok = 0;

	make_vm(64 * MiB);
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(img, orig, size);
		for (int k = 0; k < 1 + iter % 6; k++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			u64 at = 0x1f1 + (seed >> 33) % (0x270 - 0x1f1);
			img[at] = (u8)(seed >> 20);
		}
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		u64 n = iter % 4 ? size : (seed >> 33) % size;
		u8 *copy = malloc(n ? n : 1);
		memcpy(copy, img, n);
		int err = load(copy, n, orig, 4096, "console=ttyS0", NULL, iter & 1, &c, &r, &why);
		free(copy);
		if (err) {
			CHECK(err == -ENOEXEC || err == -E2BIG);
			CHECK(why && *why);
		} else {
			ok++;
			CHECK(r.rip >= MiB && r.rip < 64 * MiB);
		}
	}
	CHECK(ok > 0);
	free(img);
	free(orig);
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

/* Debian's kernel, when scripts/build-linux-guest.sh has fetched it. */
TEST(debian_kernel)
{
	u64 size, initrd_size = 0;
	u8 *img = read_file("build/linux/vmlinuz", &size);
	u8 *initrd = read_file("build/linux/initrd.gz", &initrd_size);
	const u64 mem = 256 * MiB;
	struct linux_setup_header h;
	struct linux_boot_params *bp;
	const char *why;
	struct guest_ctx c;
	struct vcpu_regs r;

	if (!img) {
		printf("skip debian_kernel: build/linux/vmlinuz absent "
		       "(scripts/build-linux-guest.sh fetches it)\n");
		free(initrd);
		return;
	}
	memcpy(&h, img + 0x1f1, sizeof(h));
	CHECK(linux_is_bzimage(img, size));
	CHECK(h.version >= 0x020c);
	CHECK(h.xloadflags & LINUX_XLF_KERNEL_64);
	CHECK(h.relocatable_kernel);
	u64 setup = ((h.setup_sects ? h.setup_sects : 4) + 1) * 512ULL;
	u64 load_at = h.pref_address;

	make_vm(mem);
	CHECK_EQ(load(img, size, initrd, initrd ? initrd_size : 0, "console=ttyS0",
		      make_platform(mem), true, &c, &r, &why), 0);
	CHECK_EQ(r.rip, load_at + 0x200);
	CHECK(memcmp(gpa(load_at, h.syssize * 16ULL), img + setup, h.syssize * 16ULL) == 0);
	bp = gpa(LINUX_BOOT_PARAMS_GPA, 4096);
	CHECK_EQ(bp->hdr.code32_start, load_at);
	CHECK_EQ(bp->hdr.version, h.version);
	CHECK_EQ(bp->hdr.init_size, h.init_size);
	CHECK_EQ(bp->sentinel, 0);
	CHECK_EQ(bp->e820_entries, 5);
	CHECK(identity_mapped(c.cr3, load_at, h.init_size));
	if (initrd) {
		u64 rd = bp->hdr.ramdisk_image;

		CHECK_EQ(bp->hdr.ramdisk_size, initrd_size);
		CHECK_EQ(rd % 4096, 0);
		CHECK(rd >= load_at + h.init_size);
		CHECK(rd + initrd_size <= mem - 0x20000);
		CHECK(memcmp(gpa(rd, initrd_size), initrd, initrd_size) == 0);
		CHECK(identity_mapped(c.cr3, rd, initrd_size));
	}
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, false, &c, &r, &why), 0);
	CHECK_EQ(r.rip, load_at);

	/* Its init_size (some 64 MiB) does not fit a 64 MiB VM. */
	make_vm(64 * MiB);
	CHECK_EQ(load(img, size, NULL, 0, NULL, NULL, true, &c, &r, &why), -E2BIG);
	/* Truncated anywhere, it is refused. */
	make_vm(mem);
	CHECK_EQ(load_prefix(img, 0x240, &why), -ENOEXEC);
	CHECK_EQ(load_prefix(img, setup, &why), -ENOEXEC);
	CHECK_EQ(load_prefix(img, size / 2, &why), -ENOEXEC);
	CHECK_EQ(load_prefix(img, setup + h.syssize * 16ULL - 1, &why), -ENOEXEC);
	free(img);
	free(initrd);
}

int main(void)
{
	RUN(synthetic_64bit_entry);
	RUN(synthetic_32bit_entry);
	RUN(e820_from_ram_and_reserved_ranges);
	RUN(e820_of_a_vm_with_the_pci_hole);
	RUN(kernel_placement);
	RUN(initrd_placement);
	RUN(command_line_and_platform_limits);
	RUN(bad_images);
	RUN(fuzzed_headers);
	RUN(debian_kernel);
	free(ram[0]);
	free(ram[1]);
	return unit_done();
}
