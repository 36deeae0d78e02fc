UNIT_TESTS += test_iommu_vtd
test_iommu_vtd_SRCS := tests/unit/test_iommu_vtd.c drivers/iommu_vtd.c drivers/iommu_vtd_unit.c drivers/iommu_vtd_qi.c \
	drivers/iommu_vtd_dmar.c drivers/iommu_vtd_pt.c drivers/iommu_vtd_fault.c lib/format.c \
	lib/string.c
$(BUILD)/unit/test_iommu_vtd: drivers/iommu_vtd.h drivers/iommu_vtd_regs.h drivers/iommu_vtd_dmar.h \
	drivers/iommu_vtd_pt.h drivers/iommu.h drivers/hw.h tests/unit/dmar_image.h \
	tests/unit/fake_driver_host.h arch/x86/include/asm/clflush.h
