UNIT_TESTS += test_msr
test_msr_SRCS := tests/unit/test_msr.c arch/x86/emul/msr.c devices/vlapic.c devices/pvclock.c \
	core/gmem_access.c core/vm_clock.c lib/string.c
