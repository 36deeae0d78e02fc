UNIT_TESTS += test_device_list
test_device_list_SRCS := tests/unit/test_device_list.c core/device.c lib/string.c
