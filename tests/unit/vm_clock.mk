UNIT_TESTS += test_vm_clock
test_vm_clock_SRCS := tests/unit/test_vm_clock.c core/vm_clock.c
