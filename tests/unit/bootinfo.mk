UNIT_TESTS += test_bootinfo
test_bootinfo_SRCS := tests/unit/test_bootinfo.c arch/x86/boot/bootinfo.c arch/x86/boot/efi_memmap.c
