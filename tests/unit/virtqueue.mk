UNIT_TESTS += test_virtqueue
test_virtqueue_SRCS := tests/unit/test_virtqueue.c devices/virtqueue.c core/gmem_access.c lib/string.c
$(BUILD)/unit/test_virtqueue: devices/virtqueue.h tests/unit/fake_gmem.h
