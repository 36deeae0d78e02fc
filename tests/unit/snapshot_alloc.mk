UNIT_TESTS += test_snapshot_alloc
test_snapshot_alloc_SRCS = tests/unit/test_snapshot_alloc.c core/snapshot_alloc.c $(SNAPSHOT_SRCS)
$(BUILD)/unit/test_snapshot_alloc: core/snapshot_layout.h
