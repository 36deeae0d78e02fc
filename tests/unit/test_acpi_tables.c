/*
 * The guest's ACPI tables, parsed back: by hand at the offsets of the ACPI
 * 6.4 specification, and by the hypervisor's own table parser
 * (arch/x86/acpi.c) over a fake physical memory, as a guest would find them
 * by scanning 0xe0000-0xfffff. The DSDT's AML is compared byte for byte with
 * what `iasl -d` (ACPICA 20200925) disassembles to the intended ASL.
 */
#define _GNU_SOURCE /* memmem */
#include "unit.h"
#include "devices/acpi_tables.h"

#include <string.h>
#include "arch/x86/acpi.h"
#include "devices/acpi_pm.h"
#include "devices/pci_intx.h"

#define MEM_SIZE 0x200000u
#define TABLES_GPA 0xe0000u
static u8 mem[MEM_SIZE];

static const void *fake_map(void *ctx, u64 pa, u64 len)
{
	if (pa > MEM_SIZE || len > MEM_SIZE - pa)
		return NULL;
	return mem + pa;
}

static const struct phys_view view = { .map = fake_map };

static void report(void *ctx, const char *msg)
{
	fprintf(stderr, "acpi: %s\n", msg);
	(*(int *)ctx)++;
}

static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static u8 sum(const u8 *p, u64 len)
{
	u8 s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* A table in fake memory: its signature, length and checksum checked. */
static const u8 *table(u64 pa, const char *sig)
{
	const u8 *t;

	CHECK(pa >= TABLES_GPA && pa + 36 <= TABLES_GPA + ACPI_TABLES_MAX_SIZE);
	if (pa < TABLES_GPA || pa + 36 > MEM_SIZE)
		return NULL;
	t = mem + pa;
	CHECK(!memcmp(t, sig, 4));
	CHECK(rd32(t + 4) >= 36 && pa + rd32(t + 4) <= MEM_SIZE);
	CHECK_EQ(sum(t, rd32(t + 4)), 0);
	CHECK(!memcmp(t + 10, "UTSUWA", 6));
	return t;
}

static int build(u32 cpus, bool pci_root, u64 *rsdp)
{
	struct acpi_platform p;
	int used;

	memset(mem, 0xcc, sizeof(mem)); /* so a byte left unwritten shows */
	acpi_platform_defaults(&p, cpus);
	p.pci_root = pci_root;
	used = acpi_tables_build(mem + TABLES_GPA, ACPI_TABLES_MAX_SIZE, TABLES_GPA, &p, rsdp);
	CHECK(used > 0 && used <= ACPI_TABLES_MAX_SIZE);
	return used;
}

/* The FADT and MADT from the XSDT, checking the RSDP, XSDT and RSDT on the way. */
static void roots(u64 rsdp_pa, const u8 **fadt, const u8 **madt)
{
	const u8 *r = mem + rsdp_pa, *x, *rs;

	CHECK(!memcmp(r, "RSD PTR ", 8));
	CHECK_EQ(sum(r, 20), 0);
	CHECK_EQ(sum(r, 36), 0);
	CHECK_EQ(r[15], 2);         /* revision */
	CHECK_EQ(rd32(r + 20), 36); /* length */
	CHECK(!memcmp(r + 9, "UTSUWA", 6));
	x = table(rd64(r + 24), "XSDT");
	rs = table(rd32(r + 16), "RSDT");
	CHECK_EQ(rd32(x + 4), 36 + 2 * 8);
	CHECK_EQ(rd32(rs + 4), 36 + 2 * 4);
	CHECK_EQ(rd32(rs + 36), rd64(x + 36));
	CHECK_EQ(rd32(rs + 40), rd64(x + 44));
	*fadt = table(rd64(x + 36), "FACP");
	*madt = table(rd64(x + 44), "APIC");
}

static void check_gas(const u8 *g, u8 bits, u8 access, u64 addr)
{
	CHECK_EQ(g[0], 1); /* SystemIO */
	CHECK_EQ(g[1], bits);
	CHECK_EQ(g[2], 0);
	CHECK_EQ(g[3], access);
	CHECK_EQ(rd64(g + 4), addr);
}

TEST(rsdp_roots_and_checksums)
{
	u64 rsdp = 0;
	const u8 *fadt, *madt;

	build(4, true, &rsdp);
	CHECK_EQ(rsdp, TABLES_GPA);
	roots(rsdp, &fadt, &madt);
}

TEST(fadt_fields)
{
	u64 rsdp;
	const u8 *f, *m, *facs, *dsdt;

	build(2, true, &rsdp);
	roots(rsdp, &f, &m);
	CHECK_EQ(rd32(f + 4), 276);
	CHECK_EQ(f[8], 6);          /* revision */
	CHECK_EQ(f[131], 4);        /* minor version: ACPI 6.4 */
	CHECK_EQ(rd32(f + 36), rd64(f + 132)); /* FIRMWARE_CTRL = X_FIRMWARE_CTRL */
	CHECK_EQ(rd32(f + 40), rd64(f + 140)); /* DSDT = X_DSDT */
	facs = mem + rd64(f + 132);
	CHECK(!memcmp(facs, "FACS", 4));
	CHECK_EQ(rd32(facs + 4), 64);
	CHECK_EQ(rd64(f + 132) % 64, 0);
	CHECK_EQ(facs[32], 2);      /* version */
	CHECK_EQ(rd32(facs + 16), 0); /* the global lock is free */
	dsdt = table(rd64(f + 140), "DSDT");
	CHECK(dsdt != NULL);
	CHECK_EQ(rd16(f + 46), 9);  /* SCI_INT */
	CHECK_EQ(rd32(f + 48), 0);  /* SMI_CMD: none, ACPI already on */
	CHECK_EQ(f[52], 0);
	CHECK_EQ(f[53], 0);
	CHECK_EQ(rd32(f + 56), ACPI_PM_BASE + ACPI_PM1_STS);
	CHECK_EQ(rd32(f + 60), 0);
	CHECK_EQ(rd32(f + 64), ACPI_PM_BASE + ACPI_PM1_CNT);
	CHECK_EQ(rd32(f + 68), 0);
	CHECK_EQ(rd32(f + 76), ACPI_PM_BASE + ACPI_PM_TMR);
	CHECK_EQ(rd32(f + 80), 0);  /* no GPE0 */
	CHECK_EQ(f[88], 4);
	CHECK_EQ(f[89], 2);
	CHECK_EQ(f[91], 4);
	CHECK_EQ(rd16(f + 96), 101);
	CHECK_EQ(rd16(f + 98), 1001);
	CHECK_EQ(f[108], 0x32);     /* CENTURY */
	CHECK_EQ(rd16(f + 109), ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_VGA_NOT_PRESENT);
	u32 flags = rd32(f + 112);
	CHECK(flags & ACPI_FADT_RESET_REG_SUP);
	CHECK(flags & ACPI_FADT_TMR_VAL_EXT);
	CHECK(flags & ACPI_FADT_WBINVD);
	CHECK(!(flags & ACPI_FADT_PWR_BUTTON)); /* a fixed-feature power button */
	CHECK(!(flags & BIT(20)));               /* not hardware-reduced */
	check_gas(f + 116, 8, 1, 0xcf9);         /* RESET_REG */
	CHECK_EQ(f[128], 0x06);                  /* RESET_VALUE */
	check_gas(f + 148, 32, 2, 0x600);        /* X_PM1a_EVT_BLK */
	CHECK_EQ(rd64(f + 160 + 4), 0);          /* no PM1b */
	check_gas(f + 172, 16, 2, 0x604);        /* X_PM1a_CNT_BLK */
	check_gas(f + 208, 32, 3, 0x608);        /* X_PM_TMR_BLK */
	CHECK_EQ(rd64(f + 220 + 4), 0);          /* no X_GPE0 */
	CHECK(!memcmp(f + 268, "UTSUWA", 6));    /* hypervisor vendor identity */
}

TEST(madt_entries)
{
	u64 rsdp;
	const u8 *f, *m, *e;
	u32 len;

	build(3, true, &rsdp);
	roots(rsdp, &f, &m);
	len = rd32(m + 4);
	CHECK_EQ(len, 44 + 3 * 8 + 12 + 2 * 10 + 6);
	CHECK_EQ(m[8], 5);
	CHECK_EQ(rd32(m + 36), 0xfee00000);
	CHECK_EQ(rd32(m + 40), 1); /* PCAT_COMPAT */
	e = m + 44;
	for (u32 i = 0; i < 3; i++, e += 8) {
		CHECK_EQ(e[0], 0);
		CHECK_EQ(e[1], 8);
		CHECK_EQ(e[2], i);   /* ACPI processor UID */
		CHECK_EQ(e[3], i);   /* APIC ID */
		CHECK_EQ(rd32(e + 4), 1);
	}
	CHECK_EQ(e[0], 1);
	CHECK_EQ(e[1], 12);
	CHECK_EQ(e[2], 3);       /* I/O APIC ID: after the CPUs' */
	CHECK_EQ(rd32(e + 4), 0xfec00000);
	CHECK_EQ(rd32(e + 8), 0);
	e += 12;
	CHECK_EQ(e[0], 2);
	CHECK_EQ(e[1], 10);
	CHECK_EQ(e[2], 0);       /* ISA */
	CHECK_EQ(e[3], 0);       /* IRQ 0 */
	CHECK_EQ(rd32(e + 4), 2); /* -> GSI 2 */
	CHECK_EQ(rd16(e + 8), 0); /* conforms: edge, active high */
	e += 10;
	CHECK_EQ(e[0], 2);
	CHECK_EQ(e[3], 9);
	CHECK_EQ(rd32(e + 4), 9);
	CHECK_EQ(rd16(e + 8), 0x000d); /* active high, level */
	e += 10;
	CHECK_EQ(e[0], 4);       /* Local APIC NMI */
	CHECK_EQ(e[1], 6);
	CHECK_EQ(e[2], 0xff);    /* all processors */
	CHECK_EQ(e[5], 1);       /* LINT1 */
	CHECK(e + 6 == m + len);
}

/* The hypervisor's own parser finds the same, starting from a memory scan. */
TEST(parsed_by_arch_acpi)
{
	struct acpi_info info;
	u64 rsdp;
	int problems = 0;

	build(4, true, &rsdp);
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, &problems), 0);
	CHECK_EQ(problems, 0);
	CHECK_EQ(info.rsdp_pa, TABLES_GPA);
	CHECK(info.root_is_xsdt);
	CHECK_EQ(info.nr_cpus, 4);
	for (u32 i = 0; i < 4; i++)
		CHECK_EQ(info.apic_ids[i], i);
	CHECK_EQ(info.lapic_addr, 0xfee00000);
	CHECK(info.pcat_compat);
	CHECK_EQ(info.nr_ioapics, 1);
	CHECK_EQ(info.ioapics[0].addr, 0xfec00000);
	CHECK_EQ(info.ioapics[0].id, 4);
	CHECK_EQ(info.ioapics[0].gsi_base, 0);
	CHECK_EQ(info.nr_isos, 2);
	CHECK_EQ(info.isos[0].source, 0);
	CHECK_EQ(info.isos[0].gsi, 2);
	CHECK_EQ(info.isos[1].source, 9);
	CHECK_EQ(info.isos[1].flags, 0xd);
	CHECK(acpi_find_table(&view, &info, "FACP", report, &problems) != 0);
	CHECK(acpi_find_table(&view, &info, "APIC", report, &problems) != 0);
	CHECK_EQ(problems, 0);
}

/* AML PkgLength (ACPI 6.4, 20.2.4): the value and how many bytes encode it. */
static u32 pkglength(const u8 *p, u32 *nbytes)
{
	u32 n = p[0] >> 6, v = n ? p[0] & 0x0f : p[0] & 0x3f;

	for (u32 i = 0; i < n; i++)
		v |= (u32)p[1 + i] << (4 + 8 * i);
	*nbytes = n + 1;
	return v;
}

static const u8 s5_aml[] = {
	0x08, '_', 'S', '5', '_',   /* Name(_S5, */
	0x12, 0x08, 0x04,           /* Package, PkgLength 8, 4 elements */
	0x0a, ACPI_PM_SLP_TYP_S5,   /* BytePrefix 5: PM1a SLP_TYP */
	0x0a, ACPI_PM_SLP_TYP_S5,   /* BytePrefix 5: PM1b SLP_TYP */
	0x00, 0x00,                 /* Zero, Zero (reserved) */
};

/* The _CRS resource template (ACPI 6.4, 6.4.3), as iasl writes it. */
static const u8 crs_aml[] = {
	/* WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xff, 0, 0x100) */
	0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
	/* IO(Decode16, 0xcf8, 0xcf8, 1, 8) */
	0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
	/* WordIO(..., EntireRange, 0, 0x0000, 0x0cf7, 0, 0x0cf8) */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00, 0xf8, 0x0c,
	/* WordIO(..., EntireRange, 0, 0x0d00, 0xffff, 0, 0xf300) */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3,
	/* DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
	 *             0, 0xc0000000, 0xfeafffff, 0, 0x3eb00000) */
	0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,
	0xff, 0xff, 0xaf, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x3e,
	/* EndTag */
	0x79, 0x00,
};

static const u8 *dsdt_of(u64 rsdp, u32 *len)
{
	const u8 *f, *m, *d;

	roots(rsdp, &f, &m);
	d = table(rd64(f + 140), "DSDT");
	*len = rd32(d + 4);
	CHECK_EQ(d[8], 2); /* revision 2: 64-bit integers */
	return d;
}

TEST(dsdt_s5_only)
{
	u64 rsdp;
	u32 len;
	const u8 *d;

	build(1, false, &rsdp);
	d = dsdt_of(rsdp, &len);
	CHECK_EQ(len, 36 + sizeof(s5_aml));
	CHECK(!memcmp(d + 36, s5_aml, sizeof(s5_aml)));
}

/*
 * The _PRT's package list, from NumElements to end: slots 1-31, pins 0-3 in
 * order, each Package(4) { 0xSSSSFFFF, pin, Zero, GSI } with the GSI of
 * devices/pci_intx.h, integers in iasl's shortest form (ACPI 6.4, 6.2.13,
 * 20.2.3). The first entries are spelled out as `iasl` compiles
 * Package(){0x0001FFFF, Zero, Zero, 0x11}, Package(){0x0001FFFF, One, Zero, 0x12}.
 */
static void check_prt(const u8 *p, const u8 *end)
{
	static const u8 first[] = {
		0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x11,
		0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00, 0x01, 0x00, 0x0a, 0x12,
	};
	unsigned entries = 0;

	CHECK_EQ(p[0], 124);
	p++;
	CHECK(!memcmp(p, first, sizeof(first)));
	for (unsigned slot = 1; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4 && p + 12 <= end; pin++) {
			u8 want_pin[2] = { (u8)pin, 0 }; /* Zero, One, or BytePrefix n */
			unsigned pin_len = pin <= 1 ? 1 : 2;
			u32 n, len;

			if (pin > 1) {
				want_pin[0] = 0x0a;
				want_pin[1] = (u8)pin;
			}
			CHECK_EQ(p[0], 0x12);
			len = pkglength(p + 1, &n);
			CHECK_EQ(n, 1);
			CHECK_EQ(len, 1 + 1 + 5 + pin_len + 1 + 2);
			CHECK_EQ(p[2], 4);
			CHECK_EQ(p[3], 0x0c); /* DWordPrefix */
			CHECK_EQ(rd32(p + 4), slot << 16 | 0xffff);
			CHECK(!memcmp(p + 8, want_pin, pin_len));
			CHECK_EQ(p[8 + pin_len], 0x00); /* Source: Zero, a GSI */
			CHECK_EQ(p[9 + pin_len], 0x0a);
			CHECK_EQ(p[10 + pin_len], pci_intx_gsi(slot, pin + 1));
			CHECK_EQ(p[10 + pin_len], 16 + (slot + pin) % 8);
			p += 1 + len;
			entries++;
		}
	}
	CHECK_EQ(entries, 124);
	CHECK(p == end);
}

TEST(dsdt_pci_root)
{
	u64 rsdp;
	u32 len, n, scope_len, dev_len, buf_len;
	const u8 *d, *p, *end;

	build(2, true, &rsdp);
	d = dsdt_of(rsdp, &len);
	end = d + len;
	CHECK(!memcmp(d + 36, s5_aml, sizeof(s5_aml)));
	p = d + 36 + sizeof(s5_aml);
	/* Scope(\_SB) spans the rest of the table. */
	CHECK_EQ(p[0], 0x10);
	scope_len = pkglength(p + 1, &n);
	CHECK(p + 1 + scope_len == end);
	p += 1 + n;
	CHECK(!memcmp(p, "\\_SB_", 5));
	p += 5;
	/* Device(PCI0) spans the rest of the scope. */
	CHECK(p[0] == 0x5b && p[1] == 0x82);
	dev_len = pkglength(p + 2, &n);
	CHECK(p + 2 + dev_len == end);
	p += 2 + n;
	CHECK(!memcmp(p, "PCI0", 4));
	p += 4;
	static const u8 hid_uid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,
				      0x08, '_', 'U', 'I', 'D', 0x00 };
	CHECK(!memcmp(p, hid_uid, sizeof(hid_uid))); /* EisaId("PNP0A03") = 0x030ad041 */
	p += sizeof(hid_uid);
	/* Name(_CRS, Buffer(84) {...}), */
	CHECK(!memcmp(p, "\x08_CRS\x11", 6));
	buf_len = pkglength(p + 6, &n);
	CHECK_EQ(n, 2); /* past 63 bytes: the two-byte form */
	CHECK_EQ(buf_len, n + 2 + sizeof(crs_aml));
	p += 6 + n;
	CHECK(p[0] == 0x0a && p[1] == sizeof(crs_aml));
	p += 2;
	CHECK(!memcmp(p, crs_aml, sizeof(crs_aml)));
	p += sizeof(crs_aml);
	/* then Name(_PRT, Package(124) {...}) ends the device. */
	CHECK(!memcmp(p, "\x08_PRT\x12", 6));
	CHECK(p + 6 + pkglength(p + 6, &n) == end);
	check_prt(p + 6 + n, end);
}

TEST(dsdt_pci_root_without_window)
{
	struct acpi_platform p;
	u64 rsdp;
	u32 len, n;
	const u8 *d, *crs;

	memset(mem, 0, sizeof(mem));
	acpi_platform_defaults(&p, 1);
	p.pci_mmio_size = 0;
	CHECK(acpi_tables_build(mem + TABLES_GPA, ACPI_TABLES_MAX_SIZE, TABLES_GPA, &p, &rsdp) > 0);
	d = dsdt_of(rsdp, &len);
	crs = memmem(d, len, "\x08_CRS\x11", 6);
	CHECK(crs != NULL);
	if (!crs)
		return;
	CHECK_EQ(pkglength(crs + 6, &n), 1 + 2 + sizeof(crs_aml) - 26); /* one byte now */
	CHECK_EQ(n, 1);
	CHECK(!memcmp(crs + 9, crs_aml, sizeof(crs_aml) - 28));   /* bus and I/O as before */
	CHECK(!memcmp(crs + 9 + sizeof(crs_aml) - 28, "\x79\x00", 2));
	crs += 9 + sizeof(crs_aml) - 26;
	CHECK(!memcmp(crs, "\x08_PRT\x12", 6)); /* the same _PRT follows */
	check_prt(crs + 6 + 2, d + len);
}

TEST(too_small_and_bad_input)
{
	struct acpi_platform p;
	u64 rsdp = 0;
	int used;
	u8 *buf;

	acpi_platform_defaults(&p, 2);
	used = acpi_tables_build(mem, MEM_SIZE, 0x1000, &p, &rsdp);
	CHECK(used > 0);
	/* Every shorter buffer: -ENOSPC and no write past its end (ASan watches). */
	for (int size = 0; size < used; size++) {
		buf = malloc(size ? size : 1);
		CHECK_EQ(acpi_tables_build(buf, size, 0x1000, &p, &rsdp), -ENOSPC);
		free(buf);
	}
	CHECK_EQ(acpi_tables_build(mem, MEM_SIZE, 0x1008, &p, &rsdp), -EINVAL); /* unaligned */
	CHECK_EQ(acpi_tables_build(NULL, MEM_SIZE, 0x1000, &p, &rsdp), -EINVAL);
	p.nr_cpus = 0;
	CHECK_EQ(acpi_tables_build(mem, MEM_SIZE, 0x1000, &p, &rsdp), -EINVAL);
	p.nr_cpus = 256;
	CHECK_EQ(acpi_tables_build(mem, MEM_SIZE, 0x1000, &p, &rsdp), -EINVAL);
	acpi_platform_defaults(&p, 2);
	p.pci_mmio_base = 0xf0000000;
	p.pci_mmio_size = 0x20000000; /* past 4 GiB */
	CHECK_EQ(acpi_tables_build(mem, MEM_SIZE, 0x1000, &p, &rsdp), -EINVAL);
}

TEST(many_cpus_fit)
{
	struct acpi_platform p;
	u64 rsdp;
	int used;
	const u8 *f, *m;

	memset(mem, 0, sizeof(mem));
	acpi_platform_defaults(&p, 255);
	used = acpi_tables_build(mem + TABLES_GPA, ACPI_TABLES_MAX_SIZE, TABLES_GPA, &p, &rsdp);
	CHECK(used > 0);
	roots(rsdp, &f, &m);
	CHECK_EQ(rd32(m + 4), 44 + 255 * 8 + 12 + 20 + 6);
	CHECK_EQ(m[44 + 254 * 8 + 3], 254);
	CHECK_EQ(m[44 + 255 * 8 + 2], 255); /* the I/O APIC's ID */
}

/* Placed above 4 GiB: no RSDT, the 32-bit pointers 0, the 64-bit ones set. */
TEST(above_4g)
{
	struct acpi_platform p;
	u64 rsdp, gpa = 0x100000000ULL + 0x10;
	u8 *buf = calloc(1, ACPI_TABLES_MAX_SIZE);
	const u8 *f;
	int used;

	acpi_platform_defaults(&p, 1);
	used = acpi_tables_build(buf, ACPI_TABLES_MAX_SIZE, gpa, &p, &rsdp);
	CHECK(used > 0);
	CHECK_EQ(rsdp, gpa);
	CHECK_EQ(rd32(buf + 16), 0); /* RsdtAddress */
	CHECK_EQ(sum(buf, 20), 0);
	CHECK_EQ(sum(buf, 36), 0);
	f = buf + (rd64(buf + 24) - gpa); /* XSDT */
	CHECK(!memcmp(f, "XSDT", 4));
	f = buf + (rd64(f + 36) - gpa);   /* FADT */
	CHECK(!memcmp(f, "FACP", 4));
	CHECK_EQ(sum(f, 276), 0);
	CHECK_EQ(rd32(f + 36), 0);
	CHECK_EQ(rd32(f + 40), 0);
	CHECK_EQ(rd64(f + 132) % 64, 0); /* the FACS still 64-byte aligned */
	CHECK(!memcmp(buf + (rd64(f + 132) - gpa), "FACS", 4));
	CHECK(!memcmp(buf + (rd64(f + 140) - gpa), "DSDT", 4));
	free(buf);
}

int main(void)
{
	RUN(rsdp_roots_and_checksums);
	RUN(fadt_fields);
	RUN(madt_entries);
	RUN(parsed_by_arch_acpi);
	RUN(dsdt_s5_only);
	RUN(dsdt_pci_root);
	RUN(dsdt_pci_root_without_window);
	RUN(too_small_and_bad_input);
	RUN(many_cpus_fit);
	RUN(above_4g);
	return unit_done();
}
