UNIT_TESTS += test_pit8254
test_pit8254_SRCS := tests/unit/test_pit8254.c devices/pit8254.c core/bus.c
$(BUILD)/unit/test_pit8254: devices/pit8254.h
