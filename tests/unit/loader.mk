UNIT_TESTS += test_loader
test_loader_SRCS := tests/unit/test_loader.c loaders/raw.c loaders/start_state.c core/vm_mem.c lib/string.c
