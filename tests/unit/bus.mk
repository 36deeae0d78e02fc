UNIT_TESTS += test_bus
test_bus_SRCS := tests/unit/test_bus.c core/bus.c
