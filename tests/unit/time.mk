UNIT_TESTS += test_time
test_time_SRCS := tests/unit/test_time.c arch/x86/time.c
