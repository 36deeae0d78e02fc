UNIT_TESTS += test_snapshot_vm
test_snapshot_vm_SRCS = tests/unit/test_snapshot_vm.c core/snapshot_vm.c $(SNAPSHOT_SRCS)
$(BUILD)/unit/test_snapshot_vm: core/snapshot_layout.h tests/unit/snap_host_alloc.h
