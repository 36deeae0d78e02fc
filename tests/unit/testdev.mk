UNIT_TESTS += test_testdev
test_testdev_SRCS := tests/unit/test_testdev.c devices/testdev.c devices/pci_intx.c core/bus.c
$(BUILD)/unit/test_testdev: devices/testdev.h
