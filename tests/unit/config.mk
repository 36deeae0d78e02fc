UNIT_TESTS += test_config
test_config_SRCS := tests/unit/test_config.c core/config.c core/cpu_features.c lib/format.c lib/string.c
