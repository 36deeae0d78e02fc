UNIT_TESTS += test_pci_intx
test_pci_intx_SRCS := tests/unit/test_pci_intx.c devices/pci_intx.c devices/vioapic.c \
	devices/apic_bus.c devices/vlapic.c
$(BUILD)/unit/test_pci_intx: devices/pci_intx.h devices/vioapic.h devices/apic_bus.h \
	devices/vlapic.h arch/x86/include/asm/apic_regs.h
