UNIT_TESTS += test_pci_host
test_pci_host_SRCS := tests/unit/test_pci_host.c devices/pci_host.c core/bus.c
$(BUILD)/unit/test_pci_host: devices/pci_host.h
