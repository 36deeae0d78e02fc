UNIT_TESTS += test_decode
test_decode_SRCS := tests/unit/test_decode.c arch/x86/emul/decode.c
$(BUILD)/unit/test_decode: arch/x86/emul/decode.h
