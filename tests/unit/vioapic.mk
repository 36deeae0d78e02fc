UNIT_TESTS += test_vioapic
test_vioapic_SRCS := tests/unit/test_vioapic.c devices/vioapic.c devices/apic_bus.c devices/vlapic.c \
	core/bus.c
$(BUILD)/unit/test_vioapic: devices/vioapic.h devices/apic_bus.h devices/vlapic.h \
	arch/x86/include/asm/apic_regs.h
