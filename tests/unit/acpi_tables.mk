UNIT_TESTS += test_acpi_tables
test_acpi_tables_SRCS := tests/unit/test_acpi_tables.c devices/acpi_tables.c arch/x86/acpi.c \
	lib/format.c
$(BUILD)/unit/test_acpi_tables: devices/acpi_tables.h devices/acpi_pm.h arch/x86/acpi.h
