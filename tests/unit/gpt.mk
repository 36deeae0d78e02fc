UNIT_TESTS += test_gpt
test_gpt_SRCS := tests/unit/test_gpt.c core/gpt.c lib/crc32.c lib/format.c lib/string.c
$(BUILD)/unit/test_gpt: core/gpt.h tests/unit/gpt_image.h
