UNIT_TESTS += test_cpuid
test_cpuid_SRCS := tests/unit/test_cpuid.c arch/x86/emul/cpuid.c core/cpu_features.c lib/string.c lib/format.c
