UNIT_TESTS += test_config_format
test_config_format_SRCS := tests/unit/test_config_format.c core/config_format.c core/config.c core/cpu_features.c \
	lib/format.c lib/string.c
