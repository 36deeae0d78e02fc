/*
 * A placeholder so that a machine with a DMAR boots: replaced by the VT-d
 * driver (drivers/iommu_vtd*.c, issue 13). It finds no unit, so core/iommu.c
 * says "no VT-d driver" and DMA stays unrestricted.
 */
#include "drivers/iommu.h"

static int vtd_init(const u8 *table, u32 len)
{
	return -ENODEV;
}

const struct iommu_ops iommu_vtd_ops = {
	.name = "VT-d",
	.init = vtd_init,
};
