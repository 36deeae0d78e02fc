UNIT_TESTS += test_pci_passthru
test_pci_passthru_SRCS := tests/unit/test_pci_passthru.c devices/pci_passthru.c devices/pci_host.c \
	devices/apic_bus.c devices/vlapic.c
$(BUILD)/unit/test_pci_passthru: devices/pci_passthru.h devices/pci_host.h devices/apic_bus.h
