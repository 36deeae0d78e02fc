UNIT_TESTS += test_intercept
test_intercept_SRCS := tests/unit/test_intercept.c core/intercept.c core/bus.c \
	arch/x86/svm/svm_maps.c arch/x86/vmx/vmx_maps.c lib/string.c
