UNIT_TESTS += test_iommu_amd
test_iommu_amd_SRCS := tests/unit/test_iommu_amd.c drivers/iommu_amd_pt.c drivers/iommu_amd_ivrs.c \
	drivers/iommu_amd_fmt.c lib/string.c
$(BUILD)/unit/test_iommu_amd: drivers/iommu_amd.h drivers/iommu.h
