UNIT_TESTS += test_apic_bus
test_apic_bus_SRCS := tests/unit/test_apic_bus.c devices/apic_bus.c devices/vlapic.c
$(BUILD)/unit/test_apic_bus: devices/apic_bus.h devices/vlapic.h arch/x86/include/asm/apic_regs.h
