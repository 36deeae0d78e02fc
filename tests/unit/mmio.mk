UNIT_TESTS += test_mmio
test_mmio_SRCS := tests/unit/test_mmio.c arch/x86/emul/mmio.c arch/x86/emul/decode.c core/bus.c
$(BUILD)/unit/test_mmio: arch/x86/emul/mmio.h arch/x86/emul/decode.h
