UNIT_TESTS += test_multiboot_guest
test_multiboot_guest_SRCS := tests/unit/test_multiboot_guest.c loaders/multiboot_guest.c \
	loaders/linux.c loaders/start_state.c loaders/raw.c core/gmem_access.c lib/string.c
$(BUILD)/unit/test_multiboot_guest: loaders/multiboot_guest.h loaders/linux.h
$(BUILD)/unit/test_multiboot_guest: tests/unit/fake_gmem.h
