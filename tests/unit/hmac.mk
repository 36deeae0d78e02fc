UNIT_TESTS += test_hmac
test_hmac_SRCS := tests/unit/test_hmac.c lib/sha256.c lib/hmac_sha256.c
$(BUILD)/unit/test_hmac: lib/sha256.h lib/hmac_sha256.h
