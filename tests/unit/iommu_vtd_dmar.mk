UNIT_TESTS += test_iommu_vtd_dmar
test_iommu_vtd_dmar_SRCS := tests/unit/test_iommu_vtd_dmar.c drivers/iommu_vtd_dmar.c \
	lib/format.c lib/string.c
$(BUILD)/unit/test_iommu_vtd_dmar: drivers/iommu_vtd_dmar.h tests/unit/dmar_image.h
