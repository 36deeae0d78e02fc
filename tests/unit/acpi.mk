UNIT_TESTS += test_acpi
test_acpi_SRCS := tests/unit/test_acpi.c arch/x86/acpi.c lib/format.c
