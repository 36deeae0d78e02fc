UNIT_TESTS += test_loader
test_loader_SRCS := tests/unit/test_loader.c loaders/raw.c loaders/start_state.c core/gmem_access.c lib/string.c
$(BUILD)/unit/test_loader: tests/unit/fake_gmem.h
