UNIT_TESTS += test_virtio_net
test_virtio_net_SRCS := tests/unit/test_virtio_net.c devices/virtio_net.c devices/virtqueue.c \
	core/vswitch.c core/gmem_access.c lib/string.c
$(BUILD)/unit/test_virtio_net: devices/virtio_net.h devices/virtqueue.h tests/unit/fake_gmem.h
