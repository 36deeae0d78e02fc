/* VT-d fault records decoded (drivers/iommu_vtd_fault.c, VT-d spec 10.4.14, Appendix A). */
#include <string.h>
#include "unit.h"
#include "drivers/iommu.h"
#include "drivers/iommu_vtd_regs.h"

TEST(decodes_a_record)
{
	struct iommu_fault f;
	/* 00:03.0 read 0x12345678 with no context entry (reason 2): F set, T = 1 (read). */
	u64 lo = 0x12345000, hi = VTD_FRCD_F | VTD_FRCD_READ | 2ULL << 32 | PCI_BDF(0, 3, 0);

	memset(&f, 0, sizeof(f));
	CHECK(vtd_frcd_decode(lo, hi, &f));
	CHECK_EQ(f.bdf, 0x18);
	CHECK_EQ(f.addr, 0x12345000);
	CHECK(!f.write);
	CHECK(!strcmp(f.what, "not present (context entry)"));
	/* A write without permission (reason 5) from 02:01.7. */
	hi = VTD_FRCD_F | 5ULL << 32 | PCI_BDF(2, 1, 7);
	CHECK(vtd_frcd_decode(0xabcdef123, hi, &f));
	CHECK_EQ(f.bdf, 0x20f);
	CHECK_EQ(f.addr, 0xabcdef000);
	CHECK(f.write);
	CHECK(!strcmp(f.what, "no permission (write)"));
	/* F clear: no record. */
	CHECK(!vtd_frcd_decode(lo, hi & ~VTD_FRCD_F, &f));
}

TEST(reason_names)
{
	CHECK(!strcmp(vtd_fault_reason(1), "not present (root entry)"));
	CHECK(!strcmp(vtd_fault_reason(6), "no permission (read)"));
	CHECK(!strcmp(vtd_fault_reason(0x22), "interrupt: entry not present"));
	CHECK(!strcmp(vtd_fault_reason(0x0), "unknown fault reason"));
	CHECK(!strcmp(vtd_fault_reason(0x31), "scalable-mode fault"));
	for (unsigned i = 0; i < 256; i++)
		CHECK(vtd_fault_reason((u8)i) != NULL);
}

int main(void)
{
	RUN(decodes_a_record);
	RUN(reason_names);
	return unit_done();
}
