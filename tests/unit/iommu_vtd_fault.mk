UNIT_TESTS += test_iommu_vtd_fault
test_iommu_vtd_fault_SRCS := tests/unit/test_iommu_vtd_fault.c drivers/iommu_vtd_fault.c
$(BUILD)/unit/test_iommu_vtd_fault: drivers/iommu_vtd_regs.h drivers/iommu.h
