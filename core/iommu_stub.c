/*
 * placeholder until core/iommu.c lands; delete at merge.
 *
 * The functions of drivers/iommu.h as on a machine without an IOMMU, so the
 * passthrough branch links: no IOMMU is found, nothing is translated, and a
 * VM cannot be given a function's DMA (iommu_attach_vm says -ENODEV).
 */
#include "drivers/iommu.h"

int iommu_init(void)
{
	return 0;
}

const struct iommu_ops *iommu_active(void)
{
	return NULL;
}

int iommu_grant_host(u64 pa, u64 size, unsigned perm)
{
	return 0;
}

int iommu_attach_host(u16 bdf)
{
	return 0;
}

int iommu_attach_vm(struct vm *vm, u16 bdf)
{
	return -ENODEV;
}

void iommu_detach_vm(struct vm *vm, u16 bdf)
{
}

void iommu_poll_faults(void)
{
}
