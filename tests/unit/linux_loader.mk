UNIT_TESTS += test_linux_loader
test_linux_loader_SRCS := tests/unit/test_linux_loader.c loaders/linux.c loaders/start_state.c \
	loaders/raw.c core/vm_mem.c lib/string.c
$(BUILD)/unit/test_linux_loader: loaders/linux.h
