/* The DMAR parser (drivers/iommu_vtd_dmar.c) on hand-built tables. */
#include "unit.h"
#include "dmar_image.h"
#include "drivers/iommu.h"
#include "drivers/iommu_vtd_dmar.h"

static int reports;
static void report(void *ctx, const char *msg)
{
	reports++;
	if (getenv("DRIVER_TEST_VERBOSE"))
		fprintf(stderr, "%s\n", msg);
}

/* Two units: 0xfed91000 lists an endpoint 00:02.0 and a bridge at 00:1c.0
 * (buses 2-4); 0xfed90000 takes the rest of segment 0. One RMRR for 00:14.0. */
static u32 two_units(struct dmar_image *m)
{
	static const u8 gfx[1][2] = { { 2, 0 } }, bridge[1][2] = { { 0x1c, 0 } },
			usb[1][2] = { { 0x14, 0 } };
	u32 u, r;

	dmar_begin(m, 46, 1);
	u = dmar_drhd(m, 0xfed91000, 0, false);
	dmar_scope(m, u, VTD_SCOPE_ENDPOINT, 0, 1, gfx);
	dmar_scope(m, u, VTD_SCOPE_BRIDGE, 0, 1, bridge);
	dmar_drhd(m, 0xfed90000, 0, true);
	r = dmar_rmrr(m, 0, 0x7b800000, 0x7b9fffff);
	dmar_scope(m, r, VTD_SCOPE_ENDPOINT, 0, 1, usb);
	return dmar_end(m);
}

/* The fake bus: 00:1c.0 is a bridge to buses 2..4, 02:00.0 one to 3..3. */
static bool bridges(void *ctx, u16 bdf, u8 *sec, u8 *sub)
{
	if (bdf == PCI_BDF(0, 0x1c, 0)) {
		*sec = 2, *sub = 4;
		return true;
	}
	if (bdf == PCI_BDF(2, 0, 0)) {
		*sec = 3, *sub = 3;
		return true;
	}
	return false;
}

TEST(two_drhds_and_an_rmrr)
{
	struct dmar_image m;
	struct vtd_dmar d;
	u32 len = two_units(&m);

	reports = 0;
	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), 0);
	CHECK_EQ(reports, 0);
	CHECK_EQ(d.haw, 46);
	CHECK_EQ(d.flags, VTD_DMAR_INTR_REMAP);
	CHECK_EQ(d.nr_drhds, 2);
	CHECK_EQ(d.drhd[0].reg_base, 0xfed91000);
	CHECK(!d.drhd[0].include_all);
	CHECK_EQ(d.drhd[0].nr_scopes, 2);
	CHECK_EQ(d.drhd[0].scopes[0].type, VTD_SCOPE_ENDPOINT);
	CHECK_EQ(d.drhd[0].scopes[0].path[0][0], 2);
	CHECK_EQ(d.drhd[0].scopes[1].type, VTD_SCOPE_BRIDGE);
	CHECK_EQ(d.drhd[1].reg_base, 0xfed90000);
	CHECK(d.drhd[1].include_all);
	CHECK_EQ(d.drhd[1].nr_scopes, 0);
	CHECK_EQ(d.nr_rmrrs, 1);
	CHECK_EQ(d.rmrr[0].base, 0x7b800000);
	CHECK_EQ(d.rmrr[0].limit, 0x7b9fffff);
	CHECK_EQ(d.rmrr[0].nr_scopes, 1);
	CHECK_EQ(d.rmrr[0].scopes[0].path[0][0], 0x14);
}

TEST(unit_for_a_function)
{
	struct dmar_image m;
	struct vtd_dmar d;
	u32 len = two_units(&m);

	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), 0);
	CHECK_EQ(vtd_dmar_unit_for(&d, 0, PCI_BDF(0, 2, 0), bridges, NULL), 0);
	CHECK_EQ(vtd_dmar_unit_for(&d, 0, PCI_BDF(0, 2, 1), bridges, NULL), 1);
	CHECK_EQ(vtd_dmar_unit_for(&d, 0, PCI_BDF(0, 0x1c, 0), bridges, NULL), 0);
	CHECK_EQ(vtd_dmar_unit_for(&d, 0, PCI_BDF(3, 0, 0), bridges, NULL), 0);
	CHECK_EQ(vtd_dmar_unit_for(&d, 0, PCI_BDF(4, 7, 3), bridges, NULL), 0);
	CHECK_EQ(vtd_dmar_unit_for(&d, 0, PCI_BDF(5, 0, 0), bridges, NULL), 1);
	CHECK_EQ(vtd_dmar_unit_for(&d, 1, PCI_BDF(0, 2, 0), bridges, NULL), -1);
	/* Without a way to read bridges, the sub-hierarchy is only its bridge. */
	CHECK_EQ(vtd_dmar_unit_for(&d, 0, PCI_BDF(3, 0, 0), NULL, NULL), 1);
}

TEST(scope_path_through_a_bridge)
{
	struct vtd_scope s = { .type = VTD_SCOPE_ENDPOINT, .start_bus = 0, .path_len = 2,
			       .path = { { 0x1c, 0 }, { 0, 0 } } };

	CHECK(vtd_scope_covers(&s, PCI_BDF(2, 0, 0), bridges, NULL));
	CHECK(!vtd_scope_covers(&s, PCI_BDF(0, 0, 0), bridges, NULL));
	s.path[0][0] = 3; /* 00:03.0 is no bridge: the path leads nowhere */
	CHECK(!vtd_scope_covers(&s, PCI_BDF(2, 0, 0), bridges, NULL));
}

TEST(qemu_like_table)
{
	struct dmar_image m;
	struct vtd_dmar d;
	u32 len = dmar_qemu_like(&m);

	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), 0);
	CHECK_EQ(d.nr_drhds, 1);
	CHECK_EQ(d.haw, 39);
	CHECK_EQ(d.drhd[0].scopes[0].type, VTD_SCOPE_IOAPIC);
	CHECK_EQ(vtd_dmar_unit_for(&d, 0, PCI_BDF(0, 3, 0), NULL, NULL), 0);
}

TEST(bad_lengths_refused)
{
	struct dmar_image m;
	struct vtd_dmar d;
	u32 len = two_units(&m);
	u8 save[2];

	/* The header's length beyond what the caller has. */
	reports = 0;
	CHECK_EQ(vtd_dmar_parse(m.buf, len - 1, &d, report, NULL), -EINVAL);
	CHECK_EQ(reports, 1);
	/* A structure's length running past the table's end. */
	memcpy(save, m.buf + 48 + 2, 2);
	dmar_put16(m.buf + 48 + 2, 0x400);
	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), -EINVAL);
	/* Zero: the walk would never move on. */
	dmar_put16(m.buf + 48 + 2, 0);
	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), -EINVAL);
	memcpy(m.buf + 48 + 2, save, 2);
	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), 0);
	/* A scope whose length runs past its DRHD. */
	m.buf[48 + 16 + 1] = 40;
	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), -EINVAL);
	/* A scope shorter than its header. */
	m.buf[48 + 16 + 1] = 4;
	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), -EINVAL);
	m.buf[48 + 16 + 1] = 8;
	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), 0);
	/* A table shorter than its fixed part, a wrong signature. */
	CHECK_EQ(vtd_dmar_parse(m.buf, 40, &d, report, NULL), -EINVAL);
	m.buf[0] = 'X';
	CHECK_EQ(vtd_dmar_parse(m.buf, len, &d, report, NULL), -EINVAL);
	CHECK_EQ(vtd_dmar_parse(NULL, 0, &d, NULL, NULL), -EINVAL);
}

TEST(bad_fields_refused)
{
	struct dmar_image m;
	struct vtd_dmar d;
	u32 u;

	dmar_begin(&m, 39, 0);
	u = dmar_drhd(&m, 0xfed90800, 0, true); /* not page aligned */
	(void)u;
	CHECK_EQ(vtd_dmar_parse(m.buf, dmar_end(&m), &d, report, NULL), -EINVAL);
	dmar_begin(&m, 39, 0);
	dmar_drhd(&m, 0xfed90000, 0, true);
	dmar_rmrr(&m, 0, 0x100000, 0xfffff); /* limit below base */
	CHECK_EQ(vtd_dmar_parse(m.buf, dmar_end(&m), &d, report, NULL), -EINVAL);
	dmar_begin(&m, 39, 0);
	dmar_rmrr(&m, 0, 0x100000, 0x1fffff); /* no DRHD at all */
	CHECK_EQ(vtd_dmar_parse(m.buf, dmar_end(&m), &d, report, NULL), -EINVAL);
	dmar_begin(&m, 39, 0);
	for (int i = 0; i < VTD_MAX_UNITS + 1; i++)
		dmar_drhd(&m, 0xfed90000 + 0x1000 * (u64)i, 0, false);
	CHECK_EQ(vtd_dmar_parse(m.buf, dmar_end(&m), &d, report, NULL), -ENOSPC);
}

TEST(unknown_structures_skipped)
{
	struct dmar_image m;
	struct vtd_dmar d;

	dmar_begin(&m, 48, 0);
	dmar_drhd(&m, 0xfed90000, 0, true);
	/* An ATSR (type 2, 8.5) of 8 bytes. */
	dmar_put16(m.buf + m.len, 2);
	dmar_put16(m.buf + m.len + 2, 8);
	m.len += 8;
	CHECK_EQ(vtd_dmar_parse(m.buf, dmar_end(&m), &d, report, NULL), 0);
	CHECK_EQ(d.nr_other, 1);
	CHECK_EQ(d.nr_drhds, 1);
}

int main(void)
{
	RUN(two_drhds_and_an_rmrr);
	RUN(unit_for_a_function);
	RUN(scope_path_through_a_bridge);
	RUN(qemu_like_table);
	RUN(bad_lengths_refused);
	RUN(bad_fields_refused);
	RUN(unknown_structures_skipped);
	return unit_done();
}
