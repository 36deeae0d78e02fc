UNIT_TESTS += test_e1000e
test_e1000e_SRCS := tests/unit/test_e1000e.c drivers/e1000e.c lib/string.c
$(BUILD)/unit/test_e1000e: drivers/e1000e.h drivers/nic.h drivers/hw.h tests/unit/fake_driver_host.h
