UNIT_TESTS += test_nested_pt
test_nested_pt_SRCS := tests/unit/test_nested_pt.c arch/x86/nested_pt.c arch/x86/pt_walk.c
$(BUILD)/unit/test_nested_pt: arch/x86/pt_walk.h
