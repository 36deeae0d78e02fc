UNIT_TESTS += test_gmem_layout
test_gmem_layout_SRCS = tests/unit/test_gmem_layout.c $(MIGRATE_STREAM_SRCS)
$(BUILD)/unit/test_gmem_layout: include/hv/gmem_layout.h core/snapshot_layout.h
