UNIT_TESTS += test_cpu_features
test_cpu_features_SRCS := tests/unit/test_cpu_features.c core/cpu_features.c core/cpu_pool.c lib/format.c lib/string.c
