/*
 * The loader's boot information, Multiboot v1 (Multiboot Specification
 * 0.6.96, 3.3 "Boot information format") or Multiboot2 (Multiboot2
 * Specification 1.0, 3.6 "Boot information format"), copied into one
 * struct boot_info. Everything is read through a phys_view and checked
 * against the sizes the block itself claims: a bad block is truncated with a
 * warning bit, never followed off into the weeds.
 */
#include "hv/bootinfo.h"
#include "arch/x86/boot/bootinfo_parse.h"
#include "arch/x86/boot/efi_memmap.h"
#include "arch/x86/boot/multiboot_defs.h"
#include "lib/string.h"

/* Multiboot v1 info block, up to the fields we read (0.6.96, 3.3). */
struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper; /* KiB below 1 MiB, KiB above 1 MiB (flag 0) */
	u32 boot_device;
	u32 cmdline;              /* flag 2 */
	u32 mods_count, mods_addr; /* flag 3 */
	u32 syms[4];
	u32 mmap_length, mmap_addr; /* flag 6 */
} __packed;
_Static_assert(sizeof(struct mb1_info) == 52, "Multiboot v1 info up to mmap_addr");
/* The whole v1 block, through the framebuffer fields: what we keep out of the allocator. */
#define MB1_INFO_FULL_SIZE 116

#define MB1_INFO_MEM BIT(0)
#define MB1_INFO_CMDLINE BIT(2)
#define MB1_INFO_MODS BIT(3)
#define MB1_INFO_MMAP BIT(6)

struct mb1_module {
	u32 mod_start, mod_end, string, reserved;
} __packed;
_Static_assert(sizeof(struct mb1_module) == 16, "Multiboot v1 module entry");

/* A v1 map entry; 'size' counts the bytes after itself and may exceed 20. */
struct mb1_mmap_entry {
	u32 size;
	u64 base, len;
	u32 type;
} __packed;
_Static_assert(sizeof(struct mb1_mmap_entry) == 24, "Multiboot v1 mmap entry");

/* Multiboot2 (1.0, 3.6): an 8-byte fixed part, then 8-byte-aligned tags. */
struct mb2_tag {
	u32 type, size;
} __packed;

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_EFI32 11           /* EFI 32-bit system table pointer */
#define MB2_TAG_EFI64 12           /* EFI 64-bit system table pointer */
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18          /* EFI boot services not terminated */
#define MB2_TAG_EFI32_IH 19        /* EFI 32-bit image handle pointer */
#define MB2_TAG_EFI64_IH 20        /* EFI 64-bit image handle pointer */

struct mb2_tag_module {
	struct mb2_tag tag;
	u32 mod_start, mod_end;
	/* the string follows */
} __packed;
_Static_assert(sizeof(struct mb2_tag_module) == 16, "Multiboot2 module tag");

struct mb2_tag_meminfo {
	struct mb2_tag tag;
	u32 mem_lower, mem_upper;
} __packed;
_Static_assert(sizeof(struct mb2_tag_meminfo) == 16, "Multiboot2 basic memory tag");

struct mb2_tag_mmap {
	struct mb2_tag tag;
	u32 entry_size, entry_version;
	/* entries follow */
} __packed;
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "Multiboot2 mmap tag");

/* "EFI memory map": descriptors of descr_size bytes follow (UEFI's own layout). */
struct mb2_tag_efi_mmap {
	struct mb2_tag tag;
	u32 descr_size, descr_vers;
} __packed;
_Static_assert(sizeof(struct mb2_tag_efi_mmap) == 16, "Multiboot2 EFI memory map tag");

/*
 * "Framebuffer info". The specification's prose gives one reserved byte
 * before color_info, its own C header (multiboot2.h) and GRUB a u16: GRUB is
 * what writes the tag, so color_info is at offset 32.
 */
struct mb2_tag_framebuffer {
	struct mb2_tag tag;
	u64 addr;
	u32 pitch, width, height;
	u8 bpp, type;
	u16 reserved;
	u8 red_pos, red_size, green_pos, green_size, blue_pos, blue_size; /* type 1 */
} __packed;
_Static_assert(offsetof(struct mb2_tag_framebuffer, red_pos) == 32, "Multiboot2 framebuffer tag");
#define MB2_FB_COMMON_SIZE 32

struct mb2_mmap_entry {
	u64 base, len;
	u32 type, reserved;
} __packed;
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "Multiboot2 mmap entry");

/* A loader that claims more than this is not to be believed. */
#define MB2_INFO_MAX (1u << 20)
#define RSDP_V1_SIZE 20

struct parser {
	const struct phys_view *view;
	struct boot_info *bi;
	u32 warn;
};

/* Copies the struct at pa into dst; false when the view cannot reach it. */
static bool read_phys(struct parser *p, u64 pa, void *dst, u64 len)
{
	const u8 *s = phys_get(p->view, pa, len);

	if (!s)
		return false;
	memcpy(dst, s, len);
	return true;
}

/*
 * Copies the NUL-terminated string at pa (at most limit bytes of it) into
 * dst[size]; sets trunc_bit when it did not fit. Returns false when unreadable.
 */
static bool copy_string(struct parser *p, u64 pa, u64 limit, char *dst, size_t size,
			u32 trunc_bit)
{
	size_t n = 0;

	for (u64 i = 0; i < limit; i++) {
		const u8 *c = phys_get(p->view, pa + i, 1);

		if (!c) {
			dst[n] = 0;
			return false;
		}
		if (*c == 0)
			break;
		if (n + 1 >= size) {
			p->warn |= trunc_bit;
			break;
		}
		dst[n++] = (char)*c;
	}
	dst[n] = 0;
	return true;
}

/* False when the map is full (and the entry dropped). */
static bool add_range(struct parser *p, u64 base, u64 len, u32 type)
{
	struct boot_info *bi = p->bi;

	if (bi->nr_mmap == BOOT_MAX_MMAP) {
		p->warn |= BOOTINFO_W_MMAP_TRUNC;
		return false;
	}
	bi->mmap[bi->nr_mmap++] = (struct mem_range){ .base = base, .len = len, .type = type };
	return true;
}

/* Builds a map from the two legacy sizes when the loader gave no map. */
static void add_meminfo_ranges(struct parser *p, u32 mem_lower_kib, u32 mem_upper_kib)
{
	p->warn |= BOOTINFO_W_NO_MMAP;
	p->bi->mmap_source = BOOT_MMAP_MEMINFO;
	add_range(p, 0, (u64)mem_lower_kib << 10, MEM_USABLE);
	add_range(p, 1ULL << 20, (u64)mem_upper_kib << 10, MEM_USABLE);
}

static struct boot_module *new_module(struct parser *p, u64 start, u64 end)
{
	struct boot_info *bi = p->bi;

	if (end < start) {
		p->warn |= BOOTINFO_W_MOD_BAD;
		return NULL;
	}
	if (bi->nr_mods == BOOT_MAX_MODULES) {
		p->warn |= BOOTINFO_W_MODS_TRUNC;
		return NULL;
	}
	struct boot_module *m = &bi->mods[bi->nr_mods++];
	m->start = start;
	m->end = end;
	m->cmdline[0] = 0;
	return m;
}

/* ---- Multiboot v1 ---- */

static void mb1_mmap(struct parser *p, u64 addr, u32 length)
{
	u64 off = 0;

	while (off < length) {
		struct mb1_mmap_entry e;

		/* The entry must hold at least the 20 bytes after 'size' and lie inside the map. */
		if (length - off < sizeof(e) || !read_phys(p, addr + off, &e, sizeof(e)) ||
		    e.size < sizeof(e) - 4 || e.size > length - off - 4) {
			p->warn |= BOOTINFO_W_MMAP_BAD;
			return;
		}
		if (!add_range(p, e.base, e.len, e.type))
			return;
		off += (u64)e.size + 4;
	}
}

static void mb1_modules(struct parser *p, u64 addr, u32 count)
{
	if (count > BOOT_MAX_MODULES) {
		p->warn |= BOOTINFO_W_MODS_TRUNC;
		count = BOOT_MAX_MODULES;
	}
	for (u32 i = 0; i < count; i++) {
		struct mb1_module m;
		struct boot_module *bm;

		if (!read_phys(p, addr + (u64)i * sizeof(m), &m, sizeof(m))) {
			p->warn |= BOOTINFO_W_MOD_BAD;
			return;
		}
		bm = new_module(p, m.mod_start, m.mod_end);
		if (bm && m.string &&
		    !copy_string(p, m.string, BOOT_MODNAME_MAX, bm->cmdline, sizeof(bm->cmdline),
				 BOOTINFO_W_MODNAME_TRUNC))
			p->warn |= BOOTINFO_W_MOD_BAD;
	}
}

static int mb1_parse(struct parser *p, u64 info_pa)
{
	struct mb1_info mi;
	struct boot_info *bi = p->bi;

	if (!read_phys(p, info_pa, &mi, sizeof(mi)))
		return -EINVAL;
	bi->info_start = info_pa;
	bi->info_end = info_pa + MB1_INFO_FULL_SIZE;

	if ((mi.flags & MB1_INFO_CMDLINE) && mi.cmdline)
		if (!copy_string(p, mi.cmdline, BOOT_CMDLINE_MAX, bi->cmdline, sizeof(bi->cmdline),
				 BOOTINFO_W_CMDLINE_TRUNC))
			p->warn |= BOOTINFO_W_INFO_BAD;
	if (mi.flags & MB1_INFO_MODS)
		mb1_modules(p, mi.mods_addr, mi.mods_count);
	if (mi.flags & MB1_INFO_MMAP)
		mb1_mmap(p, mi.mmap_addr, mi.mmap_length);
	if (bi->nr_mmap)
		bi->mmap_source = BOOT_MMAP_MB1;
	if (bi->nr_mmap == 0 && (mi.flags & MB1_INFO_MEM))
		add_meminfo_ranges(p, mi.mem_lower, mi.mem_upper);
	return 0;
}

/* ---- Multiboot2 ---- */

static void mb2_mmap(struct parser *p, u64 tag_pa, u32 tag_size)
{
	struct mb2_tag_mmap t;

	if (tag_size < sizeof(t) || !read_phys(p, tag_pa, &t, sizeof(t)) ||
	    t.entry_size < sizeof(struct mb2_mmap_entry)) {
		p->warn |= BOOTINFO_W_MMAP_BAD;
		return;
	}
	for (u64 off = sizeof(t); off < tag_size; off += t.entry_size) {
		struct mb2_mmap_entry e;

		if (tag_size - off < sizeof(e) || !read_phys(p, tag_pa + off, &e, sizeof(e))) {
			p->warn |= BOOTINFO_W_MMAP_BAD;
			return;
		}
		if (!add_range(p, e.base, e.len, e.type))
			return;
	}
}

static void mb2_module(struct parser *p, u64 tag_pa, u32 tag_size)
{
	struct mb2_tag_module t;
	struct boot_module *bm;

	if (tag_size < sizeof(t) || !read_phys(p, tag_pa, &t, sizeof(t))) {
		p->warn |= BOOTINFO_W_MOD_BAD;
		return;
	}
	bm = new_module(p, t.mod_start, t.mod_end);
	if (bm && !copy_string(p, tag_pa + sizeof(t), tag_size - sizeof(t), bm->cmdline,
			       sizeof(bm->cmdline), BOOTINFO_W_MODNAME_TRUNC))
		p->warn |= BOOTINFO_W_MOD_BAD;
}

static void mb2_rsdp(struct parser *p, u64 tag_pa, u32 tag_size, u32 want)
{
	struct boot_info *bi = p->bi;
	u64 avail = tag_size - sizeof(struct mb2_tag);
	u64 n = MIN(avail, (u64)sizeof(bi->rsdp));

	/* A new-style RSDP (tag 15) wins over the old one (tag 14), whatever the order. */
	if (bi->has_rsdp && want == MB2_TAG_ACPI_OLD)
		return;
	if (avail < RSDP_V1_SIZE) {
		p->warn |= BOOTINFO_W_RSDP_BAD;
		return;
	}
	memset(bi->rsdp, 0, sizeof(bi->rsdp));
	if (!read_phys(p, tag_pa + sizeof(struct mb2_tag), bi->rsdp, n)) {
		p->warn |= BOOTINFO_W_RSDP_BAD;
		return;
	}
	bi->has_rsdp = true;
	bi->rsdp_tag = (u8)want;
}

/*
 * The EFI map can list a hundred descriptors or more, many of them
 * neighbours of one type once read as Multiboot types (boot services code
 * beside conventional memory): a range that touches one of its type joins it.
 */
static bool add_range_merged(struct parser *p, u64 base, u64 len, u32 type)
{
	struct boot_info *bi = p->bi;

	for (unsigned i = 0; i < bi->nr_mmap; i++) {
		struct mem_range *r = &bi->mmap[i];

		if (r->type != type)
			continue;
		if (r->base + r->len == base) {
			r->len += len;
			return true;
		}
		if (base + len == r->base) {
			r->base = base;
			r->len += len;
			return true;
		}
	}
	return add_range(p, base, len, type);
}

/* UEFI does not promise its map in address order: sort it, then join what now touches. */
static void sort_and_join(struct boot_info *bi)
{
	unsigned n = 0;

	for (unsigned i = 1; i < bi->nr_mmap; i++) {
		struct mem_range r = bi->mmap[i];
		unsigned j = i;

		for (; j > 0 && bi->mmap[j - 1].base > r.base; j--)
			bi->mmap[j] = bi->mmap[j - 1];
		bi->mmap[j] = r;
	}
	for (unsigned i = 0; i < bi->nr_mmap; i++) {
		struct mem_range *last = n ? &bi->mmap[n - 1] : NULL;

		if (last && last->type == bi->mmap[i].type &&
		    last->base + last->len == bi->mmap[i].base)
			last->len += bi->mmap[i].len;
		else
			bi->mmap[n++] = bi->mmap[i];
	}
	bi->nr_mmap = n;
}

/* The "EFI memory map" tag (Multiboot2 2.0, 3.6): UEFI descriptors, as Multiboot types. */
static void mb2_efi_mmap(struct parser *p, u64 tag_pa, u32 tag_size)
{
	struct mb2_tag_efi_mmap t;
	struct efi_memory_descriptor d;

	if (tag_size < sizeof(t) || !read_phys(p, tag_pa, &t, sizeof(t)) ||
	    t.descr_size < sizeof(d)) {
		p->warn |= BOOTINFO_W_MMAP_BAD;
		return;
	}
	/* descr_size, not sizeof(d): later UEFI versions may append fields. */
	for (u64 off = sizeof(t); off < tag_size; off += t.descr_size) {
		if (tag_size - off < sizeof(d) || !read_phys(p, tag_pa + off, &d, sizeof(d)) ||
		    d.number_of_pages > (~0ULL - d.physical_start) >> EFI_PAGE_SHIFT) {
			p->warn |= BOOTINFO_W_MMAP_BAD;
			break;
		}
		p->bi->nr_efi_desc++;
		if (d.number_of_pages &&
		    !add_range_merged(p, d.physical_start, d.number_of_pages << EFI_PAGE_SHIFT,
				      efi_memory_to_mb_type(&d)))
			break;
	}
	sort_and_join(p->bi);
}

struct tag_ref {
	u64 pa;
	u32 size; /* 0: not seen */
};

/*
 * The memory map: the EFI one when the loader gave it, since it is the
 * firmware's own, taken as boot services were exited (the plain map tag is
 * the loader's translation of an earlier one, and "may not be provided" on
 * EFI platforms, Multiboot2 2.0, 3.6 "Memory map"); the plain map when the
 * EFI one is missing or broken; the two sizes of the basic memory tag last.
 */
static void mb2_choose_mmap(struct parser *p, struct tag_ref efi, struct tag_ref mmap,
			    const struct mb2_tag_meminfo *meminfo)
{
	struct boot_info *bi = p->bi;

	if (efi.size) {
		u32 outer = p->warn;

		p->warn = 0;
		mb2_efi_mmap(p, efi.pa, efi.size);
		if (bi->nr_mmap && !(p->warn & (BOOTINFO_W_MMAP_BAD | BOOTINFO_W_MMAP_TRUNC))) {
			bi->mmap_source = BOOT_MMAP_EFI;
		} else if (mmap.size) {
			p->warn = BOOTINFO_W_EFI_MMAP_UNUSED;
			bi->nr_mmap = 0;
			bi->nr_efi_desc = 0;
		} else if (bi->nr_mmap) {
			bi->mmap_source = BOOT_MMAP_EFI; /* what was good of it */
		}
		p->warn |= outer;
	}
	if (bi->mmap_source == BOOT_MMAP_NONE && mmap.size) {
		mb2_mmap(p, mmap.pa, mmap.size);
		if (bi->nr_mmap)
			bi->mmap_source = BOOT_MMAP_MB2;
	}
	if (bi->nr_mmap == 0 && meminfo)
		add_meminfo_ranges(p, meminfo->mem_lower, meminfo->mem_upper);
}

static void mb2_framebuffer(struct parser *p, u64 tag_pa, u32 tag_size)
{
	struct mb2_tag_framebuffer t = { 0 };
	struct boot_fb *fb = &p->bi->fb;

	if (tag_size < MB2_FB_COMMON_SIZE || !read_phys(p, tag_pa, &t, MB2_FB_COMMON_SIZE))
		return;
	if (t.type == BOOT_FB_RGB &&
	    (tag_size < sizeof(t) || !read_phys(p, tag_pa, &t, sizeof(t))))
		return;
	*fb = (struct boot_fb){
		.present = true, .type = t.type, .bpp = t.bpp, .addr = t.addr, .pitch = t.pitch,
		.width = t.width, .height = t.height, .red_pos = t.red_pos,
		.red_size = t.red_size, .green_pos = t.green_pos, .green_size = t.green_size,
		.blue_pos = t.blue_pos, .blue_size = t.blue_size,
	};
}

/* EFI system table pointer tags: 4 bytes (tag 11) or 8 bytes (tag 12) after the header. */
static void mb2_efi_systab(struct parser *p, u64 tag_pa, u32 tag_size, u32 type)
{
	u64 ptr = 0;
	u32 len = type == MB2_TAG_EFI64 ? 8 : 4;

	p->bi->uefi = true;
	if (tag_size >= sizeof(struct mb2_tag) + len &&
	    read_phys(p, tag_pa + sizeof(struct mb2_tag), &ptr, len))
		p->bi->efi_systab = ptr;
}

static int mb2_parse(struct parser *p, u64 info_pa)
{
	struct boot_info *bi = p->bi;
	struct mb2_tag fixed;
	struct mb2_tag_meminfo meminfo = { 0 };
	struct tag_ref efi_mmap = { 0 }, mmap = { 0 };
	bool have_meminfo = false, ended = false;
	u64 off;

	if (!read_phys(p, info_pa, &fixed, sizeof(fixed)))
		return -EINVAL;
	u32 total = fixed.type; /* the fixed part: total_size, reserved */
	if (total < sizeof(fixed) || total > MB2_INFO_MAX) {
		p->warn |= BOOTINFO_W_INFO_BAD;
		total = total < sizeof(fixed) ? sizeof(fixed) : MB2_INFO_MAX;
	}
	bi->info_start = info_pa;
	bi->info_end = info_pa + total;

	/* Tags start 8-byte aligned; a tag's size does not include its padding. */
	for (off = sizeof(fixed); off + sizeof(struct mb2_tag) <= total;) {
		struct mb2_tag tag;
		u64 pa = info_pa + off;

		if (!read_phys(p, pa, &tag, sizeof(tag)) || tag.size < sizeof(tag) ||
		    tag.size > total - off) {
			p->warn |= BOOTINFO_W_INFO_BAD;
			break;
		}
		if (tag.type == MB2_TAG_END) {
			ended = true;
			break;
		}
		switch (tag.type) {
		case MB2_TAG_CMDLINE:
			if (!copy_string(p, pa + sizeof(tag), tag.size - sizeof(tag), bi->cmdline,
					 sizeof(bi->cmdline), BOOTINFO_W_CMDLINE_TRUNC))
				p->warn |= BOOTINFO_W_INFO_BAD;
			break;
		case MB2_TAG_MODULE:
			mb2_module(p, pa, tag.size);
			break;
		case MB2_TAG_MMAP:
			if (!mmap.size)
				mmap = (struct tag_ref){ pa, tag.size };
			break;
		case MB2_TAG_FRAMEBUFFER:
			mb2_framebuffer(p, pa, tag.size);
			break;
		case MB2_TAG_EFI_MMAP:
			bi->uefi = true;
			if (!efi_mmap.size)
				efi_mmap = (struct tag_ref){ pa, tag.size };
			break;
		case MB2_TAG_EFI32:
		case MB2_TAG_EFI64:
			mb2_efi_systab(p, pa, tag.size, tag.type);
			break;
		case MB2_TAG_EFI_BS:
			bi->uefi = true;
			bi->efi_bs_active = true;
			p->warn |= BOOTINFO_W_EFI_BS;
			break;
		case MB2_TAG_EFI32_IH:
		case MB2_TAG_EFI64_IH:
			bi->uefi = true;
			break;
		case MB2_TAG_BASIC_MEMINFO:
			if (tag.size >= sizeof(meminfo) && read_phys(p, pa, &meminfo, sizeof(meminfo)))
				have_meminfo = true;
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			mb2_rsdp(p, pa, tag.size, tag.type);
			break;
		default:
			break; /* ELF sections, SMBIOS, the loader's name ...: not ours */
		}
		off = ALIGN_UP(off + tag.size, 8);
	}
	if (!ended)
		p->warn |= BOOTINFO_W_INFO_BAD;
	mb2_choose_mmap(p, efi_mmap, mmap, have_meminfo ? &meminfo : NULL);
	return 0;
}

int bootinfo_parse_view(u32 magic, u64 info_pa, const struct phys_view *view,
			struct boot_info *bi, u32 *warnings)
{
	struct parser p = { .view = view, .bi = bi };
	int ret;

	memset(bi, 0, sizeof(*bi));
	if (magic == MB1_BOOT_MAGIC)
		ret = mb1_parse(&p, info_pa);
	else if (magic == MB2_BOOT_MAGIC)
		ret = mb2_parse(&p, info_pa);
	else
		ret = -EINVAL;
	if (warnings)
		*warnings = p.warn;
	return ret;
}

/* Multiboot addresses are 32-bit, and entry.S identity-maps the first 4 GiB. */
static const void *map_low4g(void *ctx, u64 pa, u64 len)
{
	if (pa == 0 || pa + len > (4ULL << 30))
		return NULL;
	return (const void *)(uintptr_t)pa;
}

int bootinfo_parse(u32 magic, const void *info, struct boot_info *bi)
{
	static const struct phys_view low4g = { .map = map_low4g };

	return bootinfo_parse_view(magic, (u64)(uintptr_t)info, &low4g, bi, NULL);
}

static const char *const warning_text[BOOTINFO_NR_WARNINGS] = {
	"the info block is malformed (bad size, unreadable, or no end tag); parsed what was valid",
	"a malformed memory map entry; the rest of the map was dropped",
	"more memory map entries than BOOT_MAX_MMAP; the rest were dropped",
	"no memory map; used the loader's mem_lower/mem_upper",
	"a module with end before start, or unreadable; skipped",
	"more modules than BOOT_MAX_MODULES; the rest were dropped",
	"the command line was truncated",
	"a module string was truncated",
	"an ACPI RSDP tag too short or unreadable; ignored",
	"the EFI memory map tag is malformed or too long; used the loader's memory map tag",
	"the loader left EFI boot services running (Multiboot2 tag 18); utsuwa does not use them",
};

const char *bootinfo_warning_text(unsigned bit)
{
	return bit < BOOTINFO_NR_WARNINGS ? warning_text[bit] : "unknown warning";
}

/* ---- lookup ---- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

const struct boot_module *bootinfo_find_module(const struct boot_info *bi, const char *name)
{
	size_t name_len = strlen(name);

	for (unsigned i = 0; i < bi->nr_mods; i++) {
		const char *s = bi->mods[i].cmdline;
		const char *word, *base;

		while (is_space(*s))
			s++;
		word = s;
		while (*s && !is_space(*s))
			s++;
		/* [word, s) is the first word; its basename starts after the last '/'. */
		base = word;
		for (const char *c = word; c < s; c++)
			if (*c == '/')
				base = c + 1;
		if ((size_t)(s - base) == name_len && name_len && memcmp(base, name, name_len) == 0)
			return &bi->mods[i];
	}
	return NULL;
}
