UNIT_TESTS += test_vmx
test_vmx_SRCS := tests/unit/test_vmx.c arch/x86/vmx/vmx_conv.c \
	arch/x86/nested_pt.c arch/x86/pt_walk.c lib/string.c
