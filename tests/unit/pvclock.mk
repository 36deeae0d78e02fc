UNIT_TESTS += test_pvclock
test_pvclock_SRCS := tests/unit/test_pvclock.c devices/pvclock.c
$(BUILD)/unit/test_pvclock: devices/pvclock.h
