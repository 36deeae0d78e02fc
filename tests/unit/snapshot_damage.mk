UNIT_TESTS += test_snapshot_damage
test_snapshot_damage_SRCS = tests/unit/test_snapshot_damage.c $(SNAPSHOT_SRCS)
$(BUILD)/unit/test_snapshot_damage: core/snapshot_layout.h tests/unit/snap_host_alloc.h
