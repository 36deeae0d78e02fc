UNIT_TESTS += test_linux_loader
test_linux_loader_SRCS := tests/unit/test_linux_loader.c loaders/linux.c loaders/start_state.c \
	loaders/raw.c core/gmem_access.c lib/string.c
$(BUILD)/unit/test_linux_loader: loaders/linux.h
$(BUILD)/unit/test_linux_loader: tests/unit/fake_gmem.h
