UNIT_TESTS += test_vnic
test_vnic_SRCS := tests/unit/test_vnic.c drivers/virtio_net.c drivers/virtio_drv.c lib/string.c
$(BUILD)/unit/test_vnic: drivers/virtio_net.h drivers/virtio_drv.h drivers/nic.h drivers/hw.h tests/unit/fake_driver_host.h
