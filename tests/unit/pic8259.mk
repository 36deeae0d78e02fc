UNIT_TESTS += test_pic8259
test_pic8259_SRCS := tests/unit/test_pic8259.c devices/pic8259.c core/bus.c
$(BUILD)/unit/test_pic8259: devices/pic8259.h
