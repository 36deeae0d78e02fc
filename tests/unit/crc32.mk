UNIT_TESTS += test_crc32
test_crc32_SRCS := tests/unit/test_crc32.c lib/crc32.c
$(BUILD)/unit/test_crc32: lib/crc32.h
