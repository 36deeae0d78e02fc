UNIT_TESTS += test_iommu_vtd_pt
test_iommu_vtd_pt_SRCS := tests/unit/test_iommu_vtd_pt.c drivers/iommu_vtd_pt.c
$(BUILD)/unit/test_iommu_vtd_pt: drivers/iommu_vtd_pt.h drivers/iommu.h
