UNIT_TESTS += test_fetch
test_fetch_SRCS := tests/unit/test_fetch.c arch/x86/emul/fetch.c arch/x86/emul/gwalk.c \
	arch/x86/emul/decode.c core/gmem_access.c
$(BUILD)/unit/test_fetch: arch/x86/emul/fetch.h arch/x86/emul/gwalk.h arch/x86/emul/decode.h \
	arch/x86/emul/gmem.h
$(BUILD)/unit/test_fetch: tests/unit/fake_gmem.h
