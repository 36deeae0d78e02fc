UNIT_TESTS += test_gwalk
test_gwalk_SRCS := tests/unit/test_gwalk.c arch/x86/emul/gwalk.c core/gmem_access.c
$(BUILD)/unit/test_gwalk: arch/x86/emul/gwalk.h arch/x86/emul/gmem.h
$(BUILD)/unit/test_gwalk: tests/unit/fake_gmem.h
