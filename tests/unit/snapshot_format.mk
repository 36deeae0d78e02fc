UNIT_TESTS += test_snapshot_format
SNAPSHOT_SRCS := core/snapshot_format.c core/snapshot_read.c core/snapshot_verify.c \
	lib/crc32.c lib/format.c lib/string.c
test_snapshot_format_SRCS := tests/unit/test_snapshot_format.c $(SNAPSHOT_SRCS)
$(BUILD)/unit/test_snapshot_format: core/snapshot_layout.h lib/crc32.h tests/unit/snap_host_alloc.h
