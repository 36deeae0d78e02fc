UNIT_TESTS += test_vlapic
test_vlapic_SRCS := tests/unit/test_vlapic.c devices/vlapic.c
$(BUILD)/unit/test_vlapic: devices/vlapic.h arch/x86/include/asm/apic_regs.h
