/*
 * Linux guests through the x86 boot protocol (Documentation/arch/x86/boot.rst,
 * "32-bit Boot Protocol" and "64-bit Boot Protocol"; the zero page in
 * zero-page.rst). We act as a boot loader that has already done the 16-bit
 * part: the real-mode setup code is never run, so boot_params is filled here
 * and the protected-mode kernel is entered directly.
 *
 * The image comes from outside the hypervisor: every field read from it is
 * checked before it steers a copy, and all guest memory is reached through
 * the checked accessors of include/hv/gmem.h, which refuse ranges outside RAM.
 */
#include "loaders/linux.h"
#include "hv/loader.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "lib/string.h"

/* The ABI layout (zero-page.rst, boot.rst), checked by the compiler. */
#define BP_OFF(f) offsetof(struct linux_boot_params, f)
_Static_assert(sizeof(struct e820_entry) == 20, "boot_e820_entry is 20 bytes");
_Static_assert(sizeof(struct linux_boot_params) == 4096, "boot_params is one page");
_Static_assert(BP_OFF(acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(BP_OFF(ext_ramdisk_image) == 0x0c0, "ext_ramdisk_image");
_Static_assert(BP_OFF(ext_cmd_line_ptr) == 0x0c8, "ext_cmd_line_ptr");
_Static_assert(BP_OFF(cc_blob_address) == 0x13c, "cc_blob_address");
_Static_assert(BP_OFF(edid_info) == 0x140, "edid_info");
_Static_assert(BP_OFF(alt_mem_k) == 0x1e0, "alt_mem_k");
_Static_assert(BP_OFF(e820_entries) == 0x1e8, "e820_entries");
_Static_assert(BP_OFF(sentinel) == 0x1ef, "sentinel");
_Static_assert(BP_OFF(hdr) == 0x1f1, "setup header");
_Static_assert(BP_OFF(hdr.boot_flag) == 0x1fe, "boot_flag");
_Static_assert(BP_OFF(hdr.jump) == 0x200, "jump");
_Static_assert(BP_OFF(hdr.header) == 0x202, "header");
_Static_assert(BP_OFF(hdr.version) == 0x206, "version");
_Static_assert(BP_OFF(hdr.type_of_loader) == 0x210, "type_of_loader");
_Static_assert(BP_OFF(hdr.loadflags) == 0x211, "loadflags");
_Static_assert(BP_OFF(hdr.code32_start) == 0x214, "code32_start");
_Static_assert(BP_OFF(hdr.ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(BP_OFF(hdr.heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(BP_OFF(hdr.cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(BP_OFF(hdr.initrd_addr_max) == 0x22c, "initrd_addr_max");
_Static_assert(BP_OFF(hdr.kernel_alignment) == 0x230, "kernel_alignment");
_Static_assert(BP_OFF(hdr.relocatable_kernel) == 0x234, "relocatable_kernel");
_Static_assert(BP_OFF(hdr.xloadflags) == 0x236, "xloadflags");
_Static_assert(BP_OFF(hdr.cmdline_size) == 0x238, "cmdline_size");
_Static_assert(BP_OFF(hdr.payload_offset) == 0x248, "payload_offset");
_Static_assert(BP_OFF(hdr.setup_data) == 0x250, "setup_data");
_Static_assert(BP_OFF(hdr.pref_address) == 0x258, "pref_address");
_Static_assert(BP_OFF(hdr.init_size) == 0x260, "init_size");
_Static_assert(BP_OFF(hdr.kernel_info_offset) == 0x268, "kernel_info_offset");
_Static_assert(BP_OFF(edd_mbr_sig_buffer) == 0x290, "edd_mbr_sig_buffer");
_Static_assert(BP_OFF(e820_table) == 0x2d0, "e820_table");
_Static_assert(BP_OFF(eddbuf) == 0xd00, "eddbuf");
_Static_assert(LINUX_BOOT_PARAMS_GPA >= LINUX_PD_GPA + 4 * PAGE_SIZE, "layout");
_Static_assert(LINUX_CMDLINE_GPA + LINUX_CMDLINE_MAX + 1 <= LINUX_LOW_END, "layout");

/* One RAM range, cut by every reserved range, plus the reserved ranges. */
_Static_assert(1 + 2 * GUEST_MAX_RESERVED <= GUEST_E820_MAX, "e820 bound");
_Static_assert(GUEST_E820_MAX <= LINUX_E820_MAX, "boot_params holds any map");

#define SZ_1M 0x100000ULL
#define SZ_4G 0x100000000ULL

/* Segment descriptors (SDM vol. 3, 3.4.5): base 0, limit 4 GiB, G = 1. */
#define DESC_CODE32 0x00cf9b000000ffffULL
#define DESC_CODE64 0x00af9b000000ffffULL
#define DESC_DATA 0x00cf93000000ffffULL
/* The same in the VMCB's packed attribute form (include/hv/guest_ctx.h). */
#define ATTR_CODE32 0xc9b
#define ATTR_CODE64 0xa9b
#define ATTR_DATA 0xc93
#define ATTR_TSS_BUSY 0x08b
#define ATTR_LDT 0x082


/* ---- the guest's memory map ---- */

static bool e820_append(struct e820_entry *map, unsigned max, unsigned *n, u64 addr, u64 size,
			u32 type)
{
	if (*n >= max)
		return false;
	map[*n] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	(*n)++;
	return true;
}

/*
 * Appends [start, end) of RAM less the reserved ranges res (sorted by start,
 * not overlapping) as RAM entries; false when map is full. Called once per
 * range of RAM (include/hv/gmem_layout.h): the PCI hole between gets no
 * entry, as a PC's E820 map has none there (ACPI 6.5, 15.1).
 */
static bool e820_append_ram(struct e820_entry *map, unsigned max, unsigned *n,
			    const struct guest_mem_range *res, unsigned nres, u64 start, u64 end)
{
	u64 cur = start;

	for (unsigned j = 0; j < nres && cur < end; j++) {
		u64 rs = res[j].start, re = rs + res[j].size; /* re == 0: up to 2^64 */

		if (re != 0 && re <= cur)
			continue;
		if (rs >= end)
			break;
		if (rs > cur && !e820_append(map, max, n, cur, rs - cur, E820_TYPE_RAM))
			return false;
		cur = re && re < end ? re : end;
	}
	return cur >= end || e820_append(map, max, n, cur, end - cur, E820_TYPE_RAM);
}

int guest_e820_build(const struct vm *vm, const struct guest_platform *plat,
		     struct e820_entry *map, unsigned max, unsigned *nr, const char **why)
{
	struct guest_mem_range res[GUEST_MAX_RESERVED];
	unsigned nres = plat ? plat->nr_reserved : 0, n = 0;

	*nr = 0;
	if (nres > GUEST_MAX_RESERVED) {
		*why = "the platform reserves more ranges than the loader takes";
		return -EINVAL;
	}
	/* The reserved ranges, sorted by start (insertion sort: a handful). */
	for (unsigned i = 0; i < nres; i++) {
		struct guest_mem_range r = plat->reserved[i];
		unsigned j = i;

		if (!r.size || r.start + r.size - 1 < r.start || r.type == E820_TYPE_RAM || !r.type) {
			*why = "a reserved range of the platform is empty, wraps or is typed RAM";
			return -EINVAL;
		}
		for (; j > 0 && res[j - 1].start > r.start; j--)
			res[j] = res[j - 1];
		res[j] = r;
	}
	for (unsigned i = 1; i < nres; i++) {
		if (res[i].start - res[i - 1].start < res[i - 1].size) {
			*why = "reserved ranges of the platform overlap";
			return -EINVAL;
		}
	}

	/* RAM (below the PCI hole, then above 4 GiB: include/hv/gmem_layout.h)
	 * less the reserved ranges. */
	if (!e820_append_ram(map, max, &n, res, nres, 0, vm->gmem.low_end) ||
	    !e820_append_ram(map, max, &n, res, nres, vm->gmem.high_start, vm->gmem.size))
		goto full;
	for (unsigned j = 0; j < nres; j++)
		if (!e820_append(map, max, &n, res[j].start, res[j].size, res[j].type))
			goto full;

	/* Sorted by address, as firmware presents it. */
	for (unsigned i = 1; i < n; i++) {
		struct e820_entry e = map[i];
		unsigned j = i;

		for (; j > 0 && map[j - 1].addr > e.addr; j--)
			map[j] = map[j - 1];
		map[j] = e;
	}
	*nr = n;
	return 0;
full:
	*why = "the memory map has more entries than the boot protocol carries";
	return -E2BIG;
}

bool guest_e820_holds(const struct e820_entry *map, unsigned n, u64 start, u64 size)
{
	for (unsigned i = 0; i < n; i++) {
		if (map[i].type != E820_TYPE_RAM || start < map[i].addr)
			continue;
		if (size <= map[i].size && start - map[i].addr <= map[i].size - size)
			return true;
	}
	return false;
}

/* ---- the image ---- */

/* What linux_load() takes from a checked image. */
struct bzimage {
	struct linux_setup_header hdr; /* as the image has it; zero past its end */
	u64 hdr_len;                   /* bytes of the header the image has, from 0x1f1 */
	u64 setup_size;                /* the real-mode part: (setup_sects + 1) * 512 */
	u64 kernel_size;               /* the protected-mode kernel: syssize * 16 */
	u64 footprint;                 /* the memory it needs at its load address */
	u64 align, min_align;          /* load alignment, for a relocatable kernel */
};

#define HDR_START 0x1f1
#define HDR_MIN_END 0x268 /* through handover_offset: what protocol 2.12 has */

bool linux_is_bzimage(const void *image, u64 size)
{
	const u8 *p = image;
	u32 magic;
	u16 flag;

	if (!image || size < 0x206)
		return false;
	memcpy(&flag, p + 0x1fe, 2);
	memcpy(&magic, p + 0x202, 4);
	return flag == LINUX_BOOT_FLAG && magic == LINUX_HDRS_MAGIC;
}

static bool is_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

static int bzimage_parse(const void *image, u64 size, bool entry64, struct bzimage *bz,
			 const char **why)
{
	const u8 *p = image;
	struct linux_setup_header *h = &bz->hdr;
	u64 hdr_end, sects;

	memset(bz, 0, sizeof(*bz));
	if (!image || size < 0x206) {
		*why = "not a bzImage: shorter than a setup header";
		return -ENOEXEC;
	}
	if (!linux_is_bzimage(image, size)) {
		*why = "not a bzImage: no boot flag 0xAA55 and \"HdrS\" magic";
		return -ENOEXEC;
	}
	/* The header runs to the target of the jump at 0x200 (boot.rst). */
	hdr_end = 0x202 + (u64)p[0x201];
	if (hdr_end > size) {
		*why = "bzImage truncated inside its setup header";
		return -ENOEXEC;
	}
	if (hdr_end < HDR_MIN_END) {
		*why = "setup header too short for boot protocol 2.12";
		return -ENOEXEC;
	}
	bz->hdr_len = MIN(hdr_end, HDR_START + sizeof(*h)) - HDR_START;
	memcpy(h, p + HDR_START, bz->hdr_len);

	if (h->version < LINUX_MIN_PROTOCOL) {
		*why = "boot protocol older than 2.12 (kernels before 3.8)";
		return -ENOEXEC;
	}
	if (!(h->loadflags & LINUX_LOADED_HIGH)) {
		*why = "not a bzImage: a zImage, loaded low";
		return -ENOEXEC;
	}
	if (entry64 && !(h->xloadflags & LINUX_XLF_KERNEL_64)) {
		*why = "no 64-bit entry point (xloadflags lacks XLF_KERNEL_64)";
		return -ENOEXEC;
	}
	/* setup_sects == 0 means 4, for compatibility (boot.rst). */
	sects = h->setup_sects ? h->setup_sects : 4;
	bz->setup_size = (sects + 1) * 512;
	if (bz->setup_size < hdr_end || bz->setup_size >= size) {
		*why = "bzImage truncated: nothing after the setup code";
		return -ENOEXEC;
	}
	/* syssize counts 16-byte paragraphs of the protected-mode kernel; what
	 * follows it in the file (a signature) is not the kernel's. */
	bz->kernel_size = (u64)h->syssize * 16;
	if (!bz->kernel_size) {
		*why = "bzImage has syssize 0";
		return -ENOEXEC;
	}
	if (bz->kernel_size > size - bz->setup_size) {
		*why = "bzImage truncated: shorter than its syssize";
		return -ENOEXEC;
	}
	if (h->init_size < bz->kernel_size) {
		*why = "bzImage init_size is smaller than the kernel";
		return -ENOEXEC;
	}
	bz->footprint = ALIGN_UP((u64)h->init_size, PAGE_SIZE);
	if (h->relocatable_kernel) {
		bz->align = h->kernel_alignment;
		bz->min_align = h->min_alignment ? 1ULL << MIN(h->min_alignment, 63) : bz->align;
		if (!is_pow2(bz->align) || bz->align < PAGE_SIZE || bz->align > SZ_1G ||
		    h->min_alignment > 30 || bz->min_align < PAGE_SIZE || bz->min_align > bz->align) {
			*why = "bzImage has a bad kernel_alignment or min_alignment";
			return -ENOEXEC;
		}
	}
	return 0;
}

/* ---- placing things in guest memory ---- */

/* The load address: pref_address (or 16 MiB) when the kernel fits there;
 * for a relocatable kernel otherwise the lowest aligned place above 1 MiB,
 * trying each alignment from kernel_alignment down to min_alignment
 * (boot.rst, min_alignment). A bzImage that is not relocatable goes to 1 MiB. */
static int place_kernel(struct bzimage *bz, const struct e820_entry *map, unsigned n, u64 *load,
			const char **why)
{
	const struct linux_setup_header *h = &bz->hdr;
	u64 pref = h->pref_address ? h->pref_address : LINUX_DEFAULT_LOAD;
	u64 fp = bz->footprint;

	if (!h->relocatable_kernel) {
		*load = SZ_1M;
		if (fp <= SZ_4G - SZ_1M && guest_e820_holds(map, n, SZ_1M, fp))
			return 0;
		*why = "the kernel (init_size from 1 MiB) does not fit in the VM's memory";
		return -E2BIG;
	}
	if (pref >= SZ_1M && pref <= SZ_4G && fp <= SZ_4G - pref &&
	    IS_ALIGNED(pref, bz->min_align) && guest_e820_holds(map, n, pref, fp)) {
		*load = pref;
		while (!IS_ALIGNED(pref, bz->align)) /* tell the kernel what it got */
			bz->align >>= 1;
		return 0;
	}
	for (u64 a = bz->align; a >= bz->min_align; a >>= 1) {
		for (unsigned i = 0; i < n; i++) {
			u64 at = ALIGN_UP(MAX(map[i].addr, SZ_1M), a);
			u64 end = map[i].addr + map[i].size;

			if (map[i].type != E820_TYPE_RAM || at >= end || fp > end - at ||
			    at + fp > SZ_4G)
				continue;
			*load = at;
			bz->align = a;
			return 0;
		}
	}
	*why = "the kernel (init_size) does not fit in the VM's memory";
	return -E2BIG;
}

/* The highest page-aligned start for size bytes within [lo, hi), or 0. */
static u64 fit_top(u64 lo, u64 hi, u64 size)
{
	u64 at;

	if (hi <= lo || hi - lo < size)
		return 0;
	at = ALIGN_DOWN(hi - size, PAGE_SIZE);
	return at >= lo ? at : 0;
}

/* The initrd goes as high as it can below initrd_addr_max and 4 GiB, page
 * aligned, clear of the kernel and of the first megabyte. */
static u64 place_initrd(const struct e820_entry *map, unsigned n, u64 size, u64 limit,
			u64 k_start, u64 k_end)
{
	for (unsigned i = n; i-- > 0;) {
		u64 lo = MAX(map[i].addr, SZ_1M), hi = MIN(map[i].addr + map[i].size, limit);
		u64 at;

		if (map[i].type != E820_TYPE_RAM)
			continue;
		at = fit_top(MAX(lo, k_end), hi, size); /* above the kernel */
		if (!at)
			at = fit_top(lo, MIN(hi, k_start), size); /* below it */
		if (at)
			return at;
	}
	return 0;
}

/* ---- start state ---- */

static int build_gdt(struct vm *vm, bool entry64)
{
	u64 *gdt = gmem_map(vm, LINUX_GDT_GPA, 4 * 8, true);

	if (!gdt)
		return -EINVAL;
	gdt[0] = gdt[1] = 0;
	gdt[LINUX_BOOT_CS / 8] = entry64 ? DESC_CODE64 : DESC_CODE32;
	gdt[LINUX_BOOT_DS / 8] = DESC_DATA;
	return 0;
}

/* The first 4 GiB identity-mapped (loaders/start_state.c), which holds the
 * kernel, boot_params, the command line and the initrd (all placed below 4 GiB). */
static int build_page_tables(struct vm *vm)
{
	_Static_assert(LINUX_PML4_GPA == GUEST_PML4_GPA && LINUX_PD_GPA == GUEST_PD_GPA,
		       "the Linux loader's page tables are the shared identity map");
	return guest_identity_map_4g(vm) ? -EINVAL : 0;
}

static struct seg flat(u16 sel, u16 attr)
{
	return (struct seg){ .sel = sel, .attr = attr, .limit = 0xffffffff, .base = 0 };
}

static void start_state(bool entry64, u64 load, struct guest_ctx *c, struct vcpu_regs *regs)
{
	memset(c, 0, sizeof(*c));
	c->tr = (struct seg){ .attr = ATTR_TSS_BUSY, .limit = 0x67 };
	c->ldtr = (struct seg){ .attr = ATTR_LDT, .limit = 0xffff };
	c->gdtr = (struct dtable){ .base = LINUX_GDT_GPA, .limit = 4 * 8 - 1 };
	c->ds = c->es = c->fs = c->gs = c->ss = flat(LINUX_BOOT_DS, ATTR_DATA);
	c->cr0 = CR0_PE | CR0_ET | CR0_NE;

	memset(regs, 0, sizeof(*regs));
	regs->rflags = RFLAGS_FIXED; /* IF = 0: interrupts off */
	regs->gpr[GPR_RSI] = LINUX_BOOT_PARAMS_GPA;
	regs->gpr[GPR_RSP] = LINUX_STACK_TOP;
	if (entry64) {
		c->cs = flat(LINUX_BOOT_CS, ATTR_CODE64);
		c->cr0 |= CR0_PG | CR0_WP;
		c->cr3 = LINUX_PML4_GPA;
		c->cr4 = CR4_PAE;
		c->efer = EFER_LME | EFER_LMA;
		regs->rip = load + LINUX_ENTRY64_OFFSET;
	} else {
		/* EBP, EDI and EBX must be zero: they are (boot.rst). */
		c->cs = flat(LINUX_BOOT_CS, ATTR_CODE32);
		regs->rip = load;
	}
}

/* ---- the loader ---- */

/* Usable KiB of RAM from 1 MiB up to the first hole (the BIOS's E801 figure). */
static u32 alt_mem_k(const struct e820_entry *map, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		u64 end = map[i].addr + map[i].size;

		if (map[i].type == E820_TYPE_RAM && map[i].addr <= SZ_1M && end > SZ_1M)
			return (u32)MIN((end - SZ_1M) >> 10, 0xffffffffULL);
	}
	return 0;
}

int linux_load(struct vm *vm, const void *bzimage, u64 size, const void *initrd,
	       u64 initrd_size, const char *cmdline, const struct guest_platform *plat,
	       bool entry64, struct guest_ctx *ctx, struct vcpu_regs *regs, const char **why)
{
	struct linux_boot_params *bp;
	struct bzimage bz;
	unsigned nr_e820;
	u64 load, cmdline_len, initrd_at = 0;
	char *cmd;
	int err;

	*why = "";
	err = bzimage_parse(bzimage, size, entry64, &bz, why);
	if (err)
		return err;

	/* Our own structures: the low 128 KiB of RAM, outside anything reserved. */
	bp = gmem_map(vm, LINUX_BOOT_PARAMS_GPA, sizeof(*bp), true);
	cmd = gmem_map(vm, LINUX_CMDLINE_GPA, LINUX_CMDLINE_MAX + 1, true);
	if (!bp || !cmd || !gmem_map(vm, LINUX_GDT_GPA, LINUX_LOW_END - LINUX_GDT_GPA, true)) {
		*why = "the VM has no RAM at 0x1000-0x1ffff for boot_params and the page tables";
		return -EINVAL;
	}
	memset(bp, 0, sizeof(*bp));
	err = guest_e820_build(vm, plat, bp->e820_table, LINUX_E820_MAX, &nr_e820, why);
	if (err)
		return err;
	if (!guest_e820_holds(bp->e820_table, nr_e820, LINUX_GDT_GPA,
			      LINUX_LOW_END - LINUX_GDT_GPA)) {
		*why = "the platform reserves 0x1000-0x1ffff, where boot_params and the page tables go";
		return -EINVAL;
	}

	/* The protected-mode kernel. */
	err = place_kernel(&bz, bp->e820_table, nr_e820, &load, why);
	if (err)
		return err;
	if (!gmem_in_ram(&vm->gmem, load, bz.footprint) ||
	    gmem_write(vm, load, (const u8 *)bzimage + bz.setup_size, bz.kernel_size)) {
		*why = "the kernel's memory lies outside the VM's RAM";
		return -E2BIG;
	}

	/* The command line: at most cmdline_size characters (boot.rst). */
	cmdline_len = cmdline ? strnlen(cmdline, LINUX_CMDLINE_MAX + 1) : 0;
	if (cmdline_len > bz.hdr.cmdline_size || cmdline_len > LINUX_CMDLINE_MAX) {
		*why = "the command line is longer than the kernel's cmdline_size";
		return -E2BIG;
	}
	memcpy(cmd, cmdline ? cmdline : "", cmdline_len);
	cmd[cmdline_len] = 0;

	/* The initrd: ramdisk_image and ramdisk_size are 32-bit, and the kernel
	 * must not find it above initrd_addr_max (the highest byte it may use). */
	if (initrd_size) {
		u64 limit = MIN((u64)bz.hdr.initrd_addr_max + 1, SZ_4G);

		if (!initrd) {
			*why = "an initrd size without an initrd";
			return -EINVAL;
		}
		if (initrd_size <= 0xffffffffULL)
			initrd_at = place_initrd(bp->e820_table, nr_e820, initrd_size, limit, load,
						 load + bz.footprint);
		if (!initrd_at || gmem_write(vm, initrd_at, initrd, initrd_size)) {
			*why = "the initrd does not fit in the VM's memory below initrd_addr_max";
			return -E2BIG;
		}
	}

	/* boot_params: the image's setup header, then what a loader writes. */
	memcpy(&bp->hdr, &bz.hdr, bz.hdr_len);
	bp->hdr.type_of_loader = LINUX_TYPE_OF_LOADER;
	/* LOADED_HIGH only: CAN_USE_HEAP and heap_end_ptr are for the 16-bit
	 * setup code, which does not run; QUIET and the kernel-internal bits stay
	 * clear. */
	bp->hdr.loadflags = LINUX_LOADED_HIGH;
	bp->hdr.heap_end_ptr = 0;
	bp->hdr.code32_start = (u32)load;
	if (bz.hdr.relocatable_kernel)
		bp->hdr.kernel_alignment = (u32)bz.align;
	bp->hdr.cmd_line_ptr = LINUX_CMDLINE_GPA;
	bp->hdr.ramdisk_image = (u32)initrd_at;
	bp->hdr.ramdisk_size = (u32)(initrd_at ? initrd_size : 0);
	bp->hdr.setup_data = 0;
	bp->hdr.hardware_subarch = 0; /* the default x86/PC */
	bp->hdr.hardware_subarch_data = 0;
	bp->e820_entries = (u8)nr_e820;
	bp->alt_mem_k = alt_mem_k(bp->e820_table, nr_e820);
	bp->acpi_rsdp_addr = plat ? plat->acpi_rsdp : 0;

	err = build_gdt(vm, entry64);
	if (!err && entry64)
		err = build_page_tables(vm);
	if (err) {
		*why = "no RAM for the GDT and page tables";
		return err;
	}
	start_state(entry64, load, ctx, regs);
	return 0;
}
