UNIT_TESTS += test_uart8250
test_uart8250_SRCS := tests/unit/test_uart8250.c devices/uart8250.c core/bus.c
$(BUILD)/unit/test_uart8250: devices/uart8250.h
