UNIT_TESTS += test_nvme
test_nvme_SRCS := tests/unit/test_nvme.c drivers/nvme.c core/blockdev.c lib/string.c
$(BUILD)/unit/test_nvme: drivers/nvme.h drivers/hw.h tests/unit/fake_driver_host.h
