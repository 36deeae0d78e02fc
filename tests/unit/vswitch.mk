UNIT_TESTS += test_vswitch
test_vswitch_SRCS := tests/unit/test_vswitch.c core/vswitch.c lib/string.c
