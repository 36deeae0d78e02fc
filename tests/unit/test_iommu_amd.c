/*
 * The AMD-Vi pieces that build or read memory the IOMMU uses, on the host:
 * the I/O page-table builder (drivers/iommu_amd_pt.c) over a fake physical
 * memory that counts every table page, checked by a walker written here from
 * 48882 2.2.3 rather than by the builder's own lookup; the IVRS parser
 * (drivers/iommu_amd_ivrs.c) on good and broken tables; and the device
 * table entry, command and event layouts (drivers/iommu_amd_fmt.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/iommu_amd.h"
#include "unit.h"

/* ---- a fake physical memory for table pages ---- */

#define FAKE_PAGES 64
#define FAKE_BASE 0x40000000ull /* table pages' "physical" addresses start here */
static u64 fake_mem[FAKE_PAGES][512];
static bool fake_used[FAKE_PAGES];
static unsigned fake_live, fake_limit = FAKE_PAGES;

static u64 fake_alloc(void *ctx)
{
	if (fake_live >= fake_limit)
		return 0;
	for (unsigned i = 0; i < FAKE_PAGES; i++)
		if (!fake_used[i]) {
			fake_used[i] = true;
			fake_live++;
			memset(fake_mem[i], 0, sizeof(fake_mem[i])); /* zeroed, as page_alloc */
			return FAKE_BASE + (u64)i * 4096;
		}
	return 0;
}

static u64 *fake_ptr(void *ctx, u64 pa)
{
	u64 i = (pa - FAKE_BASE) / 4096;

	if (pa < FAKE_BASE || i >= FAKE_PAGES || pa % 4096 || !fake_used[i]) {
		fprintf(stderr, "table page 0x%llx is not one of ours\n", (unsigned long long)pa);
		abort();
	}
	return fake_mem[i];
}

static void fake_free(void *ctx, u64 pa)
{
	fake_ptr(ctx, pa);
	fake_used[(pa - FAKE_BASE) / 4096] = false;
	fake_live--;
}

static const struct amd_pt_mem mem = { .alloc = fake_alloc, .free = fake_free, .to_ptr = fake_ptr };

static void fake_reset(void)
{
	memset(fake_used, 0, sizeof(fake_used));
	fake_live = 0;
	fake_limit = FAKE_PAGES;
}

/*
 * The IOMMU's walk, 48882 2.2.3: from the DTE's root down Mode levels, each
 * entry present (bit 0), its Next Level one less than the table it sits in
 * (0 at a 4 KiB leaf), the permissions ANDed on the way. Returns the
 * permissions the device has at iova (0: the access faults) and the page.
 */
static unsigned walk(u64 root, u64 iova, u64 *pa)
{
	unsigned perm = IOMMU_READ | IOMMU_WRITE;
	u64 table = root;

	for (unsigned level = 4; level >= 1; level--) {
		u64 e = fake_ptr(NULL, table)[(iova >> (12 + 9 * (level - 1))) & 511];
		unsigned next = (e >> 9) & 7;

		if (!(e & 1))
			return 0;
		perm &= (e & BIT(61) ? IOMMU_READ : 0) | (e & BIT(62) ? IOMMU_WRITE : 0);
		if (next != level - 1) {
			fprintf(stderr, "level %u entry says next level %u\n", level, next);
			return 0;
		}
		table = e & 0x000ffffffffff000ull;
	}
	*pa = table | (iova & 4095);
	return perm;
}

TEST(map_builds_four_levels_the_iommu_walks)
{
	struct amd_pt pt;
	u64 pa = 0;

	fake_reset();
	CHECK_EQ(amd_pt_init(&pt, &mem), 0);
	CHECK_EQ(fake_live, 1);
	/* Three pages across a level-1 table boundary, read and write. */
	CHECK_EQ(amd_pt_map(&pt, 0x1ff000, 0x7000000, 3 * 4096, IOMMU_READ | IOMMU_WRITE), 0);
	CHECK_EQ(walk(pt.root, 0x1ff123, &pa), IOMMU_READ | IOMMU_WRITE);
	CHECK_EQ(pa, 0x7000123);
	CHECK_EQ(walk(pt.root, 0x200000, &pa), IOMMU_READ | IOMMU_WRITE);
	CHECK_EQ(pa, 0x7001000);
	CHECK_EQ(walk(pt.root, 0x201fff, &pa), IOMMU_READ | IOMMU_WRITE);
	CHECK_EQ(pa, 0x7002fff);
	/* Root, level 3, level 2, two level-1 tables. */
	CHECK_EQ(fake_live, 5);
	/* Neighbours stay unmapped. */
	CHECK_EQ(walk(pt.root, 0x1fe000, &pa), 0);
	CHECK_EQ(walk(pt.root, 0x202000, &pa), 0);
	/* A read-only page: the device may read, not write. */
	CHECK_EQ(amd_pt_map(&pt, 0x800000000000ull - 4096, 0x9000, 4096, IOMMU_READ), 0);
	CHECK_EQ(walk(pt.root, 0x800000000000ull - 4096, &pa), IOMMU_READ);
	amd_pt_destroy(&pt);
	CHECK_EQ(fake_live, 0);
}

TEST(absent_entries_are_marked_not_zero)
{
	struct amd_pt pt;
	u64 *root;

	fake_reset();
	CHECK_EQ(amd_pt_init(&pt, &mem), 0);
	root = fake_ptr(NULL, pt.root);
	/* Not present, and not 0: QEMU 7.2 reports only such entries. */
	for (unsigned i = 0; i < 512; i++)
		CHECK_EQ(root[i], AMD_PTE_ABSENT);
	CHECK_EQ(AMD_PTE_ABSENT & AMD_PTE_PR, 0);
	amd_pt_destroy(&pt);
}

TEST(unmap_removes_exactly_the_range)
{
	struct amd_pt pt;
	u64 pa;
	unsigned perm;

	fake_reset();
	CHECK_EQ(amd_pt_init(&pt, &mem), 0);
	CHECK_EQ(amd_pt_map(&pt, 0x10000, 0x10000, 8 * 4096, IOMMU_READ | IOMMU_WRITE), 0);
	amd_pt_unmap(&pt, 0x12000, 2 * 4096);
	CHECK_EQ(walk(pt.root, 0x11000, &pa), IOMMU_READ | IOMMU_WRITE);
	CHECK_EQ(walk(pt.root, 0x12000, &pa), 0);
	CHECK_EQ(walk(pt.root, 0x13fff, &pa), 0);
	CHECK_EQ(walk(pt.root, 0x14000, &pa), IOMMU_READ | IOMMU_WRITE);
	CHECK_EQ(amd_pt_lookup(&pt, 0x12000, &pa, &perm), 0);
	CHECK_EQ(amd_pt_lookup(&pt, 0x14010, &pa, &perm), 1);
	CHECK_EQ(pa, 0x14010);
	CHECK_EQ(perm, IOMMU_READ | IOMMU_WRITE);
	/* Unmapping what was never mapped makes no tables. */
	amd_pt_unmap(&pt, 0x7f0000000000ull, 4096);
	CHECK_EQ(fake_live, 4);
	/* Mapping again replaces. */
	CHECK_EQ(amd_pt_map(&pt, 0x12000, 0x99000, 4096, IOMMU_WRITE), 0);
	CHECK_EQ(walk(pt.root, 0x12000, &pa), IOMMU_WRITE);
	CHECK_EQ(pa, 0x99000);
	amd_pt_destroy(&pt);
	CHECK_EQ(fake_live, 0);
}

TEST(bad_ranges_are_refused)
{
	struct amd_pt pt;

	fake_reset();
	CHECK_EQ(amd_pt_init(&pt, &mem), 0);
	CHECK_EQ(amd_pt_map(&pt, 0x1001, 0x1000, 4096, IOMMU_READ), -EINVAL);
	CHECK_EQ(amd_pt_map(&pt, 0x1000, 0x1001, 4096, IOMMU_READ), -EINVAL);
	CHECK_EQ(amd_pt_map(&pt, 0x1000, 0x1000, 100, IOMMU_READ), -EINVAL);
	CHECK_EQ(amd_pt_map(&pt, 0x1000, 0x1000, 0, IOMMU_READ), -EINVAL);
	CHECK_EQ(amd_pt_map(&pt, 0x1000, 0x1000, 4096, 0), -EINVAL);
	CHECK_EQ(amd_pt_map(&pt, 0x1000, 0x1000, 4096, 4), -EINVAL);
	/* Beyond the 48 bits four levels reach, and wrapping. */
	CHECK_EQ(amd_pt_map(&pt, 1ull << 48, 0x1000, 4096, IOMMU_READ), -EINVAL);
	CHECK_EQ(amd_pt_map(&pt, (1ull << 48) - 4096, 0x1000, 8192, IOMMU_READ), -EINVAL);
	CHECK_EQ(amd_pt_map(&pt, ~0ull - 4095, 0x1000, 8192, IOMMU_READ), -EINVAL);
	/* A physical address beyond the 52 bits an entry holds. */
	CHECK_EQ(amd_pt_map(&pt, 0x1000, 1ull << 52, 4096, IOMMU_READ), -EINVAL);
	CHECK_EQ(fake_live, 1); /* nothing was built */
	amd_pt_destroy(&pt);
}

TEST(out_of_memory_keeps_what_was_mapped)
{
	struct amd_pt pt;
	u64 pa;

	fake_reset();
	CHECK_EQ(amd_pt_init(&pt, &mem), 0);
	fake_limit = 4; /* root + one path down: the second level-1 table fails */
	CHECK_EQ(amd_pt_map(&pt, 0x1ff000, 0x5000000, 2 * 4096, IOMMU_READ), -ENOMEM);
	CHECK_EQ(walk(pt.root, 0x1ff000, &pa), IOMMU_READ);
	CHECK_EQ(walk(pt.root, 0x200000, &pa), 0);
	amd_pt_destroy(&pt);
	CHECK_EQ(fake_live, 0);
	fake_limit = 0;
	CHECK_EQ(amd_pt_init(&pt, &mem), -ENOMEM);
}

/* ---- device table entries, commands, events ---- */

TEST(dte_layout)
{
	u64 dte[4] = { 1, 2, 3, 4 };

	amd_dte_make(dte, 0x1234, 0xabcde000, IOMMU_READ | IOMMU_WRITE);
	/* V, TV, Mode 4 (bits 11:9), root 51:12, IR 61, IW 62; DomainID 79:64. */
	CHECK_EQ(dte[0], 0x1ull | 0x2 | 4ull << 9 | 0xabcde000 | 1ull << 61 | 1ull << 62);
	CHECK_EQ(dte[1], 0x1234);
	CHECK_EQ(dte[2], 0); /* IV = 0: interrupts not remapped */
	CHECK_EQ(dte[3], 0);
	/* Blocked: valid, translating, no permission. */
	amd_dte_make(dte, 0, 0x5000, 0);
	CHECK_EQ(dte[0], 0x3ull | 4ull << 9 | 0x5000);
}

TEST(command_layouts)
{
	u32 c[4];

	amd_cmd_completion_wait(c, 0x123456789a8ull, 0x1122334455667788ull);
	CHECK_EQ(c[0], 0x456789a8u | 1);   /* store address 31:3, S */
	CHECK_EQ(c[1], 0x1u << 28 | 0x123); /* opcode 1, store address 51:32 */
	CHECK_EQ(c[2], 0x55667788u);
	CHECK_EQ(c[3], 0x11223344u);
	amd_cmd_inval_dte(c, 0x0418);
	CHECK_EQ(c[0], 0x0418);
	CHECK_EQ(c[1], 0x2u << 28);
	CHECK_EQ(c[2] | c[3], 0);
	amd_cmd_inval_domain(c, 7);
	CHECK_EQ(c[0], 0);
	CHECK_EQ(c[1], 0x3u << 28 | 7);
	CHECK_EQ(c[2], 0xfffff000u | 3); /* S, PDE, address 7FFF_FFFF_FFFF_F000 */
	CHECK_EQ(c[3], 0x7fffffffu);
}

TEST(event_decoding)
{
	struct iommu_fault f;
	/* IO_PAGE_FAULT of 00:04.0, a write (RW, bit 21 of dword 1), not present. */
	u32 pf[4] = { 0x0020, 0x2u << 28 | BIT(21) | 1, 0x01a00000, 0x1 };
	u32 perm[4] = { 0x0308, 0x2u << 28 | BIT(20) | BIT(22), 0x1000, 0 };
	u32 cmd[4] = { 0, 0x5u << 28, 0x4000, 0 };

	CHECK_EQ(amd_event_decode(pf, &f), 1);
	CHECK_EQ(f.bdf, 0x0020);
	CHECK_EQ(f.addr, 0x101a00000ull);
	CHECK(f.write);
	CHECK(!strcmp(f.what, "not present"));
	CHECK(!f.source_unknown);
	CHECK_EQ(amd_event_decode(perm, &f), 1);
	CHECK_EQ(f.bdf, 0x0308);
	CHECK(!f.write);
	CHECK(!strcmp(f.what, "no permission"));
	/* Not a device's fault: reported by the driver, not as a DMA fault. */
	CHECK_EQ(amd_event_decode(cmd, &f), 0);
	CHECK(!strcmp(f.what, "illegal command"));
}

/* ---- IVRS ---- */

static u8 t[512];
static u32 tlen;

static void put16(u32 off, u16 v) { t[off] = (u8)v; t[off + 1] = (u8)(v >> 8); }
static void put64(u32 off, u64 v) { for (int i = 0; i < 8; i++) t[off + i] = (u8)(v >> 8 * i); }

static void ivrs_start(void)
{
	memset(t, 0, sizeof(t));
	memcpy(t, "IVRS", 4);
	t[36] = 0x40; /* IVinfo */
	tlen = 48;
}

/* An IVHD of type ty for unit bdf at base, with the entries e[0..n). */
static void ivhd(u8 ty, u16 bdf, u64 base, const u8 *e, u32 n)
{
	u32 hlen = ty == 0x10 ? 24 : 40, off = tlen;

	t[off] = ty;
	put16(off + 2, (u16)(hlen + n));
	put16(off + 4, bdf);
	put16(off + 6, 0x40);
	put64(off + 8, base);
	if (n)
		memcpy(t + off + hlen, e, n);
	tlen += hlen + n;
}

static void finish(void) { put16(4, (u16)tlen); }

TEST(ivrs_units_and_device_ranges)
{
	/* Select 00:03.0, a range 00:08.0-00:10.7, an ACPI HID entry with a
	 * 3-byte UID, an alias select, a special (IOAPIC, DeviceID 00:14.0). */
	static const u8 e[] = {
		0x02, 0x18, 0x00, 0x00,
		0x03, 0x40, 0x00, 0x00, 0x04, 0x87, 0x00, 0x00,
		0xf0, 0xa0, 0x00, 0x00, 'A', 'M', 'D', 'I', '0', '0', '4', '0',
		'A', 'M', 'D', 'I', '0', '0', '4', '0', 0, 3, 'U', 'I', 'D',
		0x42, 0x20, 0x00, 0x00, 0x00, 0x21, 0x00, 0x00,
		0x48, 0x00, 0x00, 0xd7, 0x21, 0xa0, 0x00, 0x01,
	};
	struct amd_ivrs r;
	const char *why = NULL;

	ivrs_start();
	ivhd(0x10, 0x0010, 0xfed80000, e, sizeof(e));
	/* The same unit again as 11h: kept as 11h. An IVMD block: skipped. */
	ivhd(0x11, 0x0010, 0xfed80000, e, 4);
	t[tlen] = 0x20;
	put16(tlen + 2, 32);
	tlen += 32;
	ivhd(0x40, 0x0100, 0xfec00000, e, 4);
	finish();
	CHECK_EQ(amd_ivrs_parse(t, tlen, &r, &why), 0);
	CHECK_EQ(r.ivinfo, 0x40);
	CHECK_EQ(r.nr_units, 2);
	CHECK_EQ(r.units[0].type, 0x11);
	CHECK_EQ(r.units[0].bdf, 0x0010);
	CHECK_EQ(r.units[0].mmio_base, 0xfed80000);
	CHECK_EQ(r.units[0].cap_off, 0x40);
	CHECK_EQ(r.units[1].type, 0x40);
	CHECK_EQ(r.units[1].bdf, 0x0100);

	/* Only the 10h block: its entries give the range. */
	ivrs_start();
	ivhd(0x10, 0x0010, 0xfed80000, e, sizeof(e));
	finish();
	CHECK_EQ(amd_ivrs_parse(t, tlen, &r, &why), 0);
	CHECK_EQ(r.units[0].first_bdf, 0x0018);
	CHECK_EQ(r.units[0].last_bdf, 0x00a0);
	CHECK_EQ(r.units[0].nr_entries, 6);
}

static bool refused(const char *because)
{
	struct amd_ivrs r;
	const char *why = NULL;

	finish();
	if (amd_ivrs_parse(t, tlen, &r, &why) != -EINVAL || !why)
		return false;
	if (!strstr(why, because)) {
		fprintf(stderr, "refused for '%s', not '%s'\n", why, because);
		return false;
	}
	return true;
}

TEST(ivrs_broken_tables)
{
	static const u8 sel[] = { 0x02, 0x18, 0x00, 0x00 };
	static const u8 unknown[] = { 0x90, 0, 0, 0 };
	static const u8 hid_long[] = { 0xf0, 0, 0, 0, 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'B',
				       'B', 'B', 'B', 'B', 'B', 'B', 'B', 0, 200 };
	struct amd_ivrs r;
	const char *why;

	ivrs_start();
	CHECK(refused("no IOMMU"));
	ivrs_start();
	ivhd(0x10, 0x10, 0, sel, 4);
	CHECK(refused("base address"));
	ivrs_start();
	ivhd(0x10, 0x10, 0xfed81000, sel, 4); /* not 16 KiB aligned */
	CHECK(refused("base address"));
	ivrs_start();
	ivhd(0x10, 0x10, 0xfed80000, unknown, 4);
	CHECK(refused("size is unknown"));
	ivrs_start();
	ivhd(0x10, 0x10, 0xfed80000, hid_long, sizeof(hid_long));
	CHECK(refused("UID"));
	ivrs_start();
	ivhd(0x10, 0x10, 0xfed80000, sel, 4);
	put16(48 + 2, 200); /* the block runs past the table */
	CHECK(refused("bad length"));
	ivrs_start();
	ivhd(0x10, 0x10, 0xfed80000, sel, 4);
	put16(48 + 2, 26); /* an entry runs past its block */
	tlen = 48 + 26;
	CHECK(refused("past its block"));
	ivrs_start();
	ivhd(0x11, 0x10, 0xfed80000, NULL, 0);
	put16(48 + 2, 30); /* shorter than an 11h's fixed part */
	tlen = 48 + 30;
	CHECK(refused("shorter"));
	ivrs_start();
	ivhd(0x10, 0x10, 0xfed80000, sel, 4);
	tlen += 2; /* stray bytes */
	CHECK(refused("stray"));
	/* Too short for the header, or not an IVRS. */
	CHECK_EQ(amd_ivrs_parse(t, 40, &r, &why), -EINVAL);
	memcpy(t, "DMAR", 4);
	CHECK_EQ(amd_ivrs_parse(t, tlen, &r, &why), -EINVAL);
}

int main(void)
{
	RUN(map_builds_four_levels_the_iommu_walks);
	RUN(absent_entries_are_marked_not_zero);
	RUN(unmap_removes_exactly_the_range);
	RUN(bad_ranges_are_refused);
	RUN(out_of_memory_keeps_what_was_mapped);
	RUN(dte_layout);
	RUN(command_layouts);
	RUN(event_decoding);
	RUN(ivrs_units_and_device_ranges);
	RUN(ivrs_broken_tables);
	return unit_done();
}
