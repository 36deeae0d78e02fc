/*
 * ACPI table discovery and the MADT (ACPI 6.5, 5.2 "ACPI System Description
 * Tables"). Every table is checksummed and every length checked against what
 * the view can reach before anything inside it is believed.
 */
#include "arch/x86/acpi.h"
#include "lib/format.h"
#include "lib/string.h"

struct acpi_info boot_acpi;

/* 5.2.5.3 "Root System Description Pointer (RSDP) Structure". */
struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	u8 checksum;       /* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	u8 revision;       /* 0: ACPI 1.0, RSDT only; 2: the fields below are valid */
	u32 rsdt_addr;
	u32 length;
	u64 xsdt_addr;
	u8 ext_checksum;   /* over length bytes */
	u8 reserved[3];
} __packed;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(offsetof(struct acpi_rsdp, rsdt_addr) == 16, "RSDP RsdtAddress");
_Static_assert(offsetof(struct acpi_rsdp, xsdt_addr) == 24, "RSDP XsdtAddress");
#define RSDP_V1_LEN 20

/* 5.2.6 "System Description Table Header". */
struct acpi_sdt_hdr {
	char signature[4];
	u32 length; /* the whole table, header included */
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;
_Static_assert(sizeof(struct acpi_sdt_hdr) == 36, "SDT header");

/* 5.2.12 "Multiple APIC Description Table (MADT)": header, then entries. */
struct acpi_madt {
	struct acpi_sdt_hdr hdr;
	u32 lapic_addr;
	u32 flags;
} __packed;
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT fixed part");
#define MADT_PCAT_COMPAT BIT(0)

/* MADT interrupt controller structure types and their sizes (5.2.12, table 5.21). */
#define MADT_LAPIC 0          /* 5.2.12.2 Processor Local APIC */
#define MADT_IOAPIC 1         /* 5.2.12.3 I/O APIC */
#define MADT_ISO 2            /* 5.2.12.5 Interrupt Source Override */
#define MADT_LAPIC_OVERRIDE 5 /* 5.2.12.8 Local APIC Address Override */
#define MADT_X2APIC 9         /* 5.2.12.12 Processor Local x2APIC */

struct madt_lapic {
	u8 type, length;
	u8 uid, apic_id;
	u32 flags;
} __packed;
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT local APIC");

struct madt_ioapic {
	u8 type, length;
	u8 id, reserved;
	u32 addr, gsi_base;
} __packed;
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT I/O APIC");

struct madt_iso {
	u8 type, length;
	u8 bus, source;
	u32 gsi;
	u16 flags;
} __packed;
_Static_assert(sizeof(struct madt_iso) == 10, "MADT interrupt source override");

struct madt_lapic_override {
	u8 type, length;
	u16 reserved;
	u64 addr;
} __packed;
_Static_assert(sizeof(struct madt_lapic_override) == 12, "MADT local APIC address override");

struct madt_x2apic {
	u8 type, length;
	u16 reserved;
	u32 x2apic_id, flags, uid;
} __packed;
_Static_assert(sizeof(struct madt_x2apic) == 16, "MADT local x2APIC");

#define MADT_CPU_ENABLED BIT(0)

/* Tables we walk are small; a bigger length is corruption. */
#define ACPI_TABLE_MAX (1u << 20)

#define EBDA_SEG_PTR 0x40e
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END 0x100000

struct ctx {
	const struct phys_view *view;
	acpi_report_fn report;
	void *rctx;
};

static void __printf(2, 3) say(const struct ctx *c, const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	if (!c->report)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->report(c->rctx, buf);
}

static u8 checksum(const u8 *p, u64 len)
{
	u8 sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/* An RSDP in memory or the loader's copy: signature and checksum(s) good? */
static bool rsdp_valid(const u8 *p, u64 avail)
{
	struct acpi_rsdp r;

	if (avail < RSDP_V1_LEN || memcmp(p, "RSD PTR ", 8) || checksum(p, RSDP_V1_LEN))
		return false;
	if (p[15] < 2)
		return true;
	/* ACPI 2.0+: the extended checksum covers length bytes, at least the whole struct. */
	if (avail < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	return r.length >= sizeof(r) && r.length <= avail && checksum(p, r.length) == 0;
}

/* Scans [start, end) on 16-byte boundaries (5.2.5.1). */
static u64 rsdp_scan(const struct ctx *c, u64 start, u64 end)
{
	for (u64 pa = ALIGN_UP(start, 16); pa + RSDP_V1_LEN <= end; pa += 16) {
		const u8 *p = phys_get(c->view, pa, RSDP_V1_LEN);
		u64 avail = MIN((u64)sizeof(struct acpi_rsdp), end - pa);

		if (!p || memcmp(p, "RSD PTR ", 8))
			continue;
		p = phys_get(c->view, pa, avail);
		if (p && rsdp_valid(p, avail))
			return pa;
	}
	return 0;
}

static u64 rsdp_find(const struct ctx *c)
{
	const u8 *seg = phys_get(c->view, EBDA_SEG_PTR, 2);
	u64 pa = 0;

	if (seg) {
		u64 ebda = (u64)get_le16(seg) << 4;

		/* The EBDA lies below the 640 KiB line when there is one. */
		if (ebda >= 0x400 && ebda < 0xa0000)
			pa = rsdp_scan(c, ebda, ebda + 1024);
	}
	return pa ? pa : rsdp_scan(c, BIOS_AREA_START, BIOS_AREA_END);
}

/*
 * The table at pa with a plausible length and a zero checksum, or NULL with
 * a report. want is its expected signature (NULL: any).
 */
static const u8 *table_get(const struct ctx *c, u64 pa, const char *want, u32 *len_out)
{
	const u8 *h = phys_get(c->view, pa, sizeof(struct acpi_sdt_hdr));
	u32 len;
	const u8 *t;

	if (!h) {
		say(c, "ACPI: table at 0x%lx is out of reach", pa);
		return NULL;
	}
	len = get_le32(h + offsetof(struct acpi_sdt_hdr, length));
	if (want && memcmp(h, want, 4)) {
		say(c, "ACPI: table at 0x%lx is not the %.4s it should be", pa, want);
		return NULL;
	}
	if (len < sizeof(struct acpi_sdt_hdr) || len > ACPI_TABLE_MAX) {
		say(c, "ACPI: %.4s at 0x%lx has an impossible length %u", (const char *)h, pa, len);
		return NULL;
	}
	t = phys_get(c->view, pa, len);
	if (!t) {
		say(c, "ACPI: %.4s at 0x%lx (%u bytes) is out of reach", (const char *)h, pa, len);
		return NULL;
	}
	if (checksum(t, len)) {
		say(c, "ACPI: %.4s at 0x%lx has a bad checksum", (const char *)h, pa);
		return NULL;
	}
	*len_out = len;
	return t;
}

/* Picks the XSDT when the RSDP has a good one, else the RSDT. */
static int root_find(const struct ctx *c, const u8 *rsdp, struct acpi_info *info)
{
	struct acpi_rsdp r = { 0 };
	u32 len;

	memcpy(&r, rsdp, rsdp[15] >= 2 ? sizeof(r) : RSDP_V1_LEN);
	if (r.revision >= 2 && r.xsdt_addr) {
		if (table_get(c, r.xsdt_addr, "XSDT", &len)) {
			info->root_pa = r.xsdt_addr;
			info->root_is_xsdt = true;
			return 0;
		}
		say(c, "ACPI: falling back from the XSDT to the RSDT");
	}
	if (r.rsdt_addr && table_get(c, r.rsdt_addr, "RSDT", &len)) {
		info->root_pa = r.rsdt_addr;
		info->root_is_xsdt = false;
		return 0;
	}
	say(c, "ACPI: no usable XSDT or RSDT");
	return -ENOENT;
}

static u64 find_table(const struct ctx *c, const struct acpi_info *info, const char sig[4])
{
	u32 len, entry = info->root_is_xsdt ? 8 : 4;
	const u8 *root = table_get(c, info->root_pa, info->root_is_xsdt ? "XSDT" : "RSDT", &len);

	if (!root)
		return 0;
	for (u32 off = sizeof(struct acpi_sdt_hdr); off + entry <= len; off += entry) {
		u64 pa = entry == 8 ? get_le64(root + off) : get_le32(root + off);
		const u8 *h = pa ? phys_get(c->view, pa, 4) : NULL;
		u32 tlen;

		if (h && memcmp(h, sig, 4) == 0 && table_get(c, pa, sig, &tlen))
			return pa;
	}
	return 0;
}

u64 acpi_find_table(const struct phys_view *view, const struct acpi_info *info,
		    const char sig[4], acpi_report_fn report, void *rctx)
{
	struct ctx c = { .view = view, .report = report, .rctx = rctx };

	return info->root_pa ? find_table(&c, info, sig) : 0;
}

const u8 *acpi_get_table(const struct phys_view *view, const struct acpi_info *info,
			 const char sig[4], u32 *len, acpi_report_fn report, void *rctx)
{
	struct ctx c = { .view = view, .report = report, .rctx = rctx };
	u64 pa = info->root_pa ? find_table(&c, info, sig) : 0;

	return pa ? table_get(&c, pa, sig, len) : NULL;
}

static void add_cpu(const struct ctx *c, struct acpi_info *info, u32 apic_id, u32 flags)
{
	if (!(flags & MADT_CPU_ENABLED))
		return;
	for (u32 i = 0; i < info->nr_cpus; i++)
		if (info->apic_ids[i] == apic_id)
			return; /* listed as both local APIC and x2APIC */
	if (info->nr_cpus == MAX_CPUS) {
		info->nr_cpus_dropped++;
		return;
	}
	info->apic_ids[info->nr_cpus++] = apic_id;
}

/* The smallest length each entry type we read must have. */
static u8 madt_min_len(u8 type)
{
	switch (type) {
	case MADT_LAPIC: return sizeof(struct madt_lapic);
	case MADT_IOAPIC: return sizeof(struct madt_ioapic);
	case MADT_ISO: return sizeof(struct madt_iso);
	case MADT_LAPIC_OVERRIDE: return sizeof(struct madt_lapic_override);
	case MADT_X2APIC: return sizeof(struct madt_x2apic);
	default: return 2;
	}
}

static int madt_parse(const struct ctx *c, const u8 *t, u32 len, struct acpi_info *info)
{
	struct acpi_madt m;

	if (len < sizeof(m)) {
		say(c, "ACPI: MADT too short (%u bytes)", len);
		return -EINVAL;
	}
	memcpy(&m, t, sizeof(m));
	info->lapic_addr = m.lapic_addr;
	info->pcat_compat = m.flags & MADT_PCAT_COMPAT;

	for (u32 off = sizeof(m); off < len;) {
		u8 type, elen;
		union {
			struct madt_lapic lapic;
			struct madt_ioapic ioapic;
			struct madt_iso iso;
			struct madt_lapic_override ovr;
			struct madt_x2apic x2apic;
		} e;

		if (len - off < 2) {
			say(c, "ACPI: MADT has a stray byte at offset %u", off);
			return -EINVAL;
		}
		type = t[off];
		elen = t[off + 1];
		if (elen < madt_min_len(type) || elen > len - off) {
			say(c, "ACPI: MADT entry type %u at offset %u has a bad length %u", type, off,
			    elen);
			return -EINVAL;
		}
		memcpy(&e, t + off, MIN((u32)elen, (u32)sizeof(e)));
		switch (type) {
		case MADT_LAPIC:
			add_cpu(c, info, e.lapic.apic_id, e.lapic.flags);
			break;
		case MADT_X2APIC:
			add_cpu(c, info, e.x2apic.x2apic_id, e.x2apic.flags);
			break;
		case MADT_IOAPIC:
			if (info->nr_ioapics == ACPI_MAX_IOAPICS) {
				say(c, "ACPI: more than %u I/O APICs; ignoring id %u", ACPI_MAX_IOAPICS,
				    e.ioapic.id);
				break;
			}
			info->ioapics[info->nr_ioapics++] = (struct acpi_ioapic){
				.id = e.ioapic.id, .addr = e.ioapic.addr, .gsi_base = e.ioapic.gsi_base
			};
			break;
		case MADT_ISO:
			if (info->nr_isos < ACPI_MAX_ISOS)
				info->isos[info->nr_isos++] = (struct acpi_iso){
					.source = e.iso.source, .gsi = e.iso.gsi, .flags = e.iso.flags
				};
			break;
		case MADT_LAPIC_OVERRIDE:
			info->lapic_addr = e.ovr.addr;
			break;
		default:
			break;
		}
		off += elen;
	}
	if (info->nr_cpus_dropped)
		say(c, "ACPI: MADT lists %u more enabled CPUs than the %u supported; ignored",
		    info->nr_cpus_dropped, MAX_CPUS);
	if (info->nr_cpus == 0) {
		say(c, "ACPI: MADT lists no enabled CPU");
		return -EINVAL;
	}
	return 0;
}

int acpi_parse(const struct phys_view *view, const u8 *rsdp_copy, bool scan_bios,
	       struct acpi_info *info, acpi_report_fn report, void *rctx)
{
	struct ctx c = { .view = view, .report = report, .rctx = rctx };
	const u8 *rsdp = NULL, *madt;
	u64 madt_pa;
	u32 len;
	int ret;

	memset(info, 0, sizeof(*info));
	if (rsdp_copy) {
		if (rsdp_valid(rsdp_copy, sizeof(struct acpi_rsdp)))
			rsdp = rsdp_copy;
		else
			say(&c, "ACPI: the loader's RSDP copy is invalid%s",
			    scan_bios ? "; scanning memory" : "");
	}
	if (!rsdp && !scan_bios) {
		say(&c, "ACPI: no RSDP from the loader, and no BIOS areas to scan (UEFI)");
		return -ENOENT;
	}
	if (!rsdp) {
		info->rsdp_pa = rsdp_find(&c);
		/* rsdp_scan() checked that the view reaches all of it. */
		if (info->rsdp_pa)
			rsdp = phys_get(view, info->rsdp_pa, RSDP_V1_LEN);
		if (rsdp && rsdp[15] >= 2)
			rsdp = phys_get(view, info->rsdp_pa, sizeof(struct acpi_rsdp));
	}
	if (!rsdp) {
		say(&c, "ACPI: no RSDP found");
		return -ENOENT;
	}
	ret = root_find(&c, rsdp, info);
	if (ret)
		return ret;
	madt_pa = find_table(&c, info, "APIC");
	if (!madt_pa) {
		say(&c, "ACPI: no valid MADT (signature APIC)");
		return -ENOENT;
	}
	madt = table_get(&c, madt_pa, "APIC", &len);
	if (!madt)
		return -EINVAL;
	ret = madt_parse(&c, madt, len, info);
	if (ret) {
		info->nr_cpus = 0;
		info->nr_ioapics = 0;
		info->nr_isos = 0;
	}
	return ret;
}
