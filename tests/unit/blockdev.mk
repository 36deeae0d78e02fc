UNIT_TESTS += test_blockdev
test_blockdev_SRCS := tests/unit/test_blockdev.c core/blockdev.c lib/string.c
