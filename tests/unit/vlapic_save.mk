UNIT_TESTS += test_vlapic_save
test_vlapic_save_SRCS := tests/unit/test_vlapic_save.c devices/vlapic.c
$(BUILD)/unit/test_vlapic_save: devices/vlapic.h devices/vlapic_state.h arch/x86/include/asm/apic_regs.h
