UNIT_TESTS += test_acpi_pm
test_acpi_pm_SRCS := tests/unit/test_acpi_pm.c devices/acpi_pm.c devices/pci_host.c core/bus.c
$(BUILD)/unit/test_acpi_pm: devices/acpi_pm.h devices/pci_host.h
