UNIT_TESTS += test_virtio_blk
test_virtio_blk_SRCS := tests/unit/test_virtio_blk.c drivers/virtio_blk.c drivers/virtio_drv.c core/blockdev.c lib/string.c
$(BUILD)/unit/test_virtio_blk: drivers/virtio_blk.h drivers/virtio_drv.h drivers/hw.h tests/unit/fake_driver_host.h
