UNIT_TESTS += test_gmem
test_gmem_SRCS := tests/unit/test_gmem.c core/gmem.c core/gmem_access.c core/gmem_dirty.c \
	arch/x86/nested_pt.c arch/x86/nested_pt_edit.c arch/x86/pt_walk.c
$(BUILD)/unit/test_gmem: arch/x86/nested_pt.h
$(BUILD)/unit/test_gmem: arch/x86/pt_walk.h
