/*
 * The ACPI parser over a fake physical memory holding synthetic tables: the
 * usual layouts, and broken ones (bad checksums, impossible lengths, tables
 * out of reach) that must give a message and no CPUs rather than a crash.
 */
#include "unit.h"
#include <string.h>
#include "arch/x86/acpi.h"

/* Physical [0, MEM_SIZE) is mem[]. */
#define MEM_SIZE 0x200000u
static u8 *mem;

static const void *fake_map(void *ctx, u64 pa, u64 len)
{
	if (pa > MEM_SIZE || len > MEM_SIZE - pa)
		return NULL;
	return mem + pa;
}

static const struct phys_view view = { .map = fake_map };

/* The same memory, counting each look below 1 MiB (a UEFI machine has no BIOS areas). */
static unsigned low_reads;
static const void *counting_map(void *ctx, u64 pa, u64 len)
{
	if (pa < 0x100000)
		low_reads++;
	return fake_map(ctx, pa, len);
}
static const struct phys_view counting_view = { .map = counting_map };
static struct acpi_info info;

static char msgs[16][160];
static unsigned nr_msgs;

static void report(void *ctx, const char *msg)
{
	if (nr_msgs < 16)
		strcpy(msgs[nr_msgs++], msg);
}

static bool reported(const char *needle)
{
	for (unsigned i = 0; i < nr_msgs; i++)
		if (strstr(msgs[i], needle))
			return true;
	return false;
}

static void put16(u64 pa, u16 v) { memcpy(mem + pa, &v, 2); }
static void put32(u64 pa, u32 v) { memcpy(mem + pa, &v, 4); }
static void put64(u64 pa, u64 v) { memcpy(mem + pa, &v, 8); }

static u8 sum(u64 pa, u64 len)
{
	u8 s = 0;

	while (len--)
		s += mem[pa++];
	return s;
}

#define RSDP_PA 0xe0100
#define XSDT_PA 0x100000
#define RSDT_PA 0x101000
#define MADT_PA 0x102000
#define HPET_PA 0x103000

static void fix_table_checksum(u64 pa)
{
	u32 len;

	memcpy(&len, mem + pa + 4, 4);
	mem[pa + 9] = 0;
	mem[pa + 9] = (u8)-sum(pa, len);
}

static void table_header(u64 pa, const char *sig, u32 len)
{
	memcpy(mem + pa, sig, 4);
	put32(pa + 4, len);
	mem[pa + 8] = 1;
	memcpy(mem + pa + 10, "UTSUWA", 6);
}

static void put_rsdp(u64 pa, u8 revision, u32 rsdt, u64 xsdt)
{
	memcpy(mem + pa, "RSD PTR ", 8);
	memcpy(mem + pa + 9, "UTSUWA", 6);
	mem[pa + 15] = revision;
	put32(pa + 16, rsdt);
	put32(pa + 20, 36);
	put64(pa + 24, xsdt);
	mem[pa + 8] = 0;
	mem[pa + 8] = (u8)-sum(pa, 20);
	mem[pa + 32] = 0;
	mem[pa + 32] = (u8)-sum(pa, 36);
}

/* MADT builder: entries appended at madt_end. */
static u64 madt_end;

static void madt_begin(u32 lapic_addr, u32 flags)
{
	table_header(MADT_PA, "APIC", 44);
	put32(MADT_PA + 36, lapic_addr);
	put32(MADT_PA + 40, flags);
	madt_end = MADT_PA + 44;
}

static void madt_lapic(u8 apic_id, u32 flags)
{
	mem[madt_end] = 0;
	mem[madt_end + 1] = 8;
	mem[madt_end + 2] = apic_id; /* processor UID: anything */
	mem[madt_end + 3] = apic_id;
	put32(madt_end + 4, flags);
	madt_end += 8;
}

static void madt_x2apic(u32 id, u32 flags)
{
	mem[madt_end] = 9;
	mem[madt_end + 1] = 16;
	put32(madt_end + 4, id);
	put32(madt_end + 8, flags);
	put32(madt_end + 12, id);
	madt_end += 16;
}

static void madt_ioapic(u8 id, u32 addr, u32 gsi)
{
	mem[madt_end] = 1;
	mem[madt_end + 1] = 12;
	mem[madt_end + 2] = id;
	put32(madt_end + 4, addr);
	put32(madt_end + 8, gsi);
	madt_end += 12;
}

static void madt_iso(u8 source, u32 gsi, u16 flags)
{
	mem[madt_end] = 2;
	mem[madt_end + 1] = 10;
	mem[madt_end + 3] = source;
	put32(madt_end + 4, gsi);
	put16(madt_end + 8, flags);
	madt_end += 10;
}

static void madt_finish(void)
{
	put32(MADT_PA + 4, (u32)(madt_end - MADT_PA));
	fix_table_checksum(MADT_PA);
}

/* A machine: RSDP v2 in the BIOS area, XSDT and RSDT both listing HPET and MADT. */
static void machine(void)
{
	memset(mem, 0, MEM_SIZE);
	nr_msgs = 0;
	table_header(HPET_PA, "HPET", 56);
	fix_table_checksum(HPET_PA);

	madt_begin(0xfee00000, 1);
	madt_lapic(0, 1);
	madt_lapic(1, 1);
	madt_lapic(2, 0);         /* disabled: not a CPU we may start */
	madt_ioapic(0, 0xfec00000, 0);
	madt_iso(0, 2, 0);
	madt_iso(9, 9, 0xd);
	madt_x2apic(1, 1);        /* the same CPU again, as an x2APIC */
	madt_x2apic(300, 1);      /* an x2APIC-only CPU */
	madt_finish();

	table_header(XSDT_PA, "XSDT", 36 + 16);
	put64(XSDT_PA + 36, HPET_PA);
	put64(XSDT_PA + 44, MADT_PA);
	fix_table_checksum(XSDT_PA);
	table_header(RSDT_PA, "RSDT", 36 + 8);
	put32(RSDT_PA + 36, HPET_PA);
	put32(RSDT_PA + 40, MADT_PA);
	fix_table_checksum(RSDT_PA);
	put_rsdp(RSDP_PA, 2, RSDT_PA, XSDT_PA);
}

TEST(scan_finds_rsdp_and_parses_madt)
{
	machine();
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), 0);
	CHECK_EQ(nr_msgs, 0);
	CHECK_EQ(info.rsdp_pa, RSDP_PA);
	CHECK(info.root_is_xsdt);
	CHECK_EQ(info.root_pa, XSDT_PA);
	CHECK_EQ(info.lapic_addr, 0xfee00000);
	CHECK(info.pcat_compat);
	CHECK_EQ(info.nr_cpus, 3);
	CHECK_EQ(info.apic_ids[0], 0);
	CHECK_EQ(info.apic_ids[1], 1);
	CHECK_EQ(info.apic_ids[2], 300);
	CHECK_EQ(info.nr_ioapics, 1);
	CHECK_EQ(info.ioapics[0].addr, 0xfec00000);
	CHECK_EQ(info.nr_isos, 2);
	CHECK_EQ(info.isos[1].source, 9);
	CHECK_EQ(info.isos[1].flags, 0xd);
	CHECK_EQ(acpi_find_table(&view, &info, "HPET", report, NULL), HPET_PA);
	CHECK_EQ(acpi_find_table(&view, &info, "DMAR", report, NULL), 0);
}

TEST(get_table_maps_whole_checked_table)
{
	const u8 *t;
	u32 len = 0;

	machine();
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), 0);
	t = acpi_get_table(&view, &info, "HPET", &len, report, NULL);
	CHECK(t != NULL);
	CHECK_EQ(len, 56);
	CHECK(t && memcmp(t, "HPET", 4) == 0);
	CHECK(acpi_get_table(&view, &info, "IVRS", &len, report, NULL) == NULL);
	/* A bad checksum: not handed out. */
	mem[HPET_PA + 40] ^= 1;
	CHECK(acpi_get_table(&view, &info, "HPET", &len, report, NULL) == NULL);
	/* A length past what the view reaches: not handed out either. */
	fix_table_checksum(HPET_PA);
	CHECK(acpi_get_table(&view, &info, "HPET", &len, report, NULL) != NULL);
	put32(HPET_PA + 4, 0x7fff0);
	CHECK(acpi_get_table(&view, &info, "HPET", &len, report, NULL) == NULL);
}

TEST(rsdp_in_ebda_and_from_loader_copy)
{
	u8 copy[36];

	/* The EBDA (segment at 0x40e) is scanned first. */
	machine();
	memset(mem + RSDP_PA, 0, 36);
	put16(0x40e, 0x9fc0);
	put_rsdp(0x9fc00 + 0x30, 0, RSDT_PA, 0); /* ACPI 1.0: RSDT only */
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), 0);
	CHECK_EQ(info.rsdp_pa, 0x9fc30);
	CHECK(!info.root_is_xsdt);
	CHECK_EQ(info.nr_cpus, 3);

	/* A good copy from the loader wins over memory. */
	machine();
	memcpy(copy, mem + RSDP_PA, 36);
	memset(mem + RSDP_PA, 0, 36);
	CHECK_EQ(acpi_parse(&view, copy, true, &info, report, NULL), 0);
	CHECK_EQ(info.rsdp_pa, 0);
	CHECK_EQ(info.nr_cpus, 3);

	/* A bad copy is reported and memory is scanned instead. */
	machine();
	memcpy(copy, mem + RSDP_PA, 36);
	copy[8] ^= 1;
	CHECK_EQ(acpi_parse(&view, copy, true, &info, report, NULL), 0);
	CHECK(reported("RSDP copy is invalid"));
	CHECK_EQ(info.rsdp_pa, RSDP_PA);
}

TEST(uefi_reads_no_bios_area)
{
	u8 copy[36];

	/* No copy, scanning not allowed: no RSDP, and nothing below 1 MiB was read. */
	machine();
	nr_msgs = 0;
	low_reads = 0;
	CHECK_EQ(acpi_parse(&counting_view, NULL, false, &info, report, NULL), -ENOENT);
	CHECK(reported("no BIOS areas"));
	CHECK_EQ(low_reads, 0);

	/* A bad copy is not followed by a scan either. */
	memcpy(copy, mem + RSDP_PA, 36);
	copy[8] ^= 1;
	low_reads = 0;
	CHECK_EQ(acpi_parse(&counting_view, copy, false, &info, report, NULL), -ENOENT);
	CHECK_EQ(low_reads, 0);

	/* The loader's good copy: the tables above 1 MiB are all that is read. */
	copy[8] ^= 1;
	low_reads = 0;
	CHECK_EQ(acpi_parse(&counting_view, copy, false, &info, report, NULL), 0);
	CHECK_EQ(info.nr_cpus, 3);
	CHECK_EQ(low_reads, 0);
}

TEST(bad_rsdp_candidates_are_skipped)
{
	machine();
	/* A signature with a bad checksum earlier in the area, and a v2 whose
	 * extended checksum is wrong: neither is taken. */
	put_rsdp(0xe0000, 0, RSDT_PA, 0);
	mem[0xe0000 + 8] ^= 0xff;
	put_rsdp(0xe0040, 2, RSDT_PA, XSDT_PA);
	mem[0xe0040 + 32] ^= 0xff;
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), 0);
	CHECK_EQ(info.rsdp_pa, RSDP_PA);

	/* No RSDP at all. */
	memset(mem + RSDP_PA, 0, 36);
	memset(mem + 0xe0000, 0, 0x100);
	nr_msgs = 0;
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -ENOENT);
	CHECK(reported("no RSDP"));
	CHECK_EQ(info.nr_cpus, 0);
}

TEST(bad_xsdt_falls_back_to_rsdt)
{
	machine();
	mem[XSDT_PA + 20] ^= 0x55;
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), 0);
	CHECK(reported("XSDT at 0x100000 has a bad checksum"));
	CHECK(reported("falling back"));
	CHECK(!info.root_is_xsdt);
	CHECK_EQ(info.nr_cpus, 3);

	/* Both bad: a clear failure. */
	machine();
	mem[XSDT_PA + 20] ^= 0x55;
	put32(RSDT_PA + 4, 0x7fffffff);
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -ENOENT);
	CHECK(reported("RSDT at 0x101000 has an impossible length"));
	CHECK(reported("no usable XSDT or RSDT"));

	/* A root pointing out of memory. */
	machine();
	put_rsdp(RSDP_PA, 2, 0xfff00000, 0xffffffff00000000ULL);
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -ENOENT);
	CHECK(reported("out of reach"));
}

TEST(broken_madts)
{
	/* Bad checksum: no MADT is believed, no CPUs. */
	machine();
	mem[MADT_PA + 50] ^= 1;
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -ENOENT);
	CHECK(reported("APIC at 0x102000 has a bad checksum"));
	CHECK_EQ(info.nr_cpus, 0);

	/* An entry of length 0 (an endless loop for a naive parser). */
	machine();
	madt_begin(0xfee00000, 0);
	madt_lapic(0, 1);
	mem[madt_end] = 0;
	mem[madt_end + 1] = 0;
	madt_end += 8;
	madt_finish();
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -EINVAL);
	CHECK(reported("bad length 0"));
	CHECK_EQ(info.nr_cpus, 0);

	/* An entry running past the table, and one too short for its type. */
	machine();
	madt_begin(0xfee00000, 0);
	madt_lapic(0, 1);
	madt_lapic(1, 1);
	mem[madt_end - 7] = 40;
	madt_finish();
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -EINVAL);
	machine();
	madt_begin(0xfee00000, 0);
	madt_ioapic(0, 0xfec00000, 0);
	mem[madt_end - 11] = 8;
	madt_finish();
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -EINVAL);
	CHECK_EQ(info.nr_ioapics, 0);

	/* A MADT shorter than its fixed part, and one with no enabled CPU. */
	machine();
	madt_begin(0xfee00000, 0);
	madt_end = MADT_PA + 40;
	madt_finish();
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -EINVAL);
	machine();
	madt_begin(0xfee00000, 0);
	madt_lapic(0, 0);
	madt_finish();
	nr_msgs = 0;
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -EINVAL);
	CHECK(reported("no enabled CPU"));

	/* No MADT in the root table. */
	machine();
	put64(XSDT_PA + 44, HPET_PA);
	fix_table_checksum(XSDT_PA);
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), -ENOENT);
	CHECK(reported("no valid MADT"));
}

TEST(madt_override_and_too_many_cpus)
{
	machine();
	madt_begin(0xfee00000, 0);
	for (unsigned i = 0; i < MAX_CPUS + 5; i++)
		madt_x2apic(i, 1);
	mem[madt_end] = 5; /* local APIC address override */
	mem[madt_end + 1] = 12;
	put64(madt_end + 4, 0xfed00000);
	madt_end += 12;
	madt_finish();
	CHECK_EQ(acpi_parse(&view, NULL, true, &info, report, NULL), 0);
	CHECK_EQ(info.nr_cpus, MAX_CPUS);
	CHECK_EQ(info.nr_cpus_dropped, 5);
	CHECK(reported("5 more enabled CPUs"));
	CHECK_EQ(info.lapic_addr, 0xfed00000);
	CHECK(!info.pcat_compat);
}

int main(void)
{
	mem = calloc(1, MEM_SIZE);
	RUN(scan_finds_rsdp_and_parses_madt);
	RUN(get_table_maps_whole_checked_table);
	RUN(rsdp_in_ebda_and_from_loader_copy);
	RUN(uefi_reads_no_bios_area);
	RUN(bad_rsdp_candidates_are_skipped);
	RUN(bad_xsdt_falls_back_to_rsdt);
	RUN(broken_madts);
	RUN(madt_override_and_too_many_cpus);
	free(mem);
	return unit_done();
}
