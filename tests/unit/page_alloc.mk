UNIT_TESTS += test_page_alloc
test_page_alloc_SRCS := tests/unit/test_page_alloc.c core/mm_ranges.c core/mm_bitmap.c core/mm_heap.c \
	arch/x86/idmap_pt.c arch/x86/pt_walk.c
$(BUILD)/unit/test_page_alloc: arch/x86/pt_walk.h
