UNIT_TESTS += test_migrate_stream
MIGRATE_STREAM_SRCS := core/migrate_stream.c lib/sha256.c lib/hmac_sha256.c lib/crc32.c lib/format.c lib/string.c
test_migrate_stream_SRCS = tests/unit/test_migrate_stream.c $(MIGRATE_STREAM_SRCS)
$(BUILD)/unit/test_migrate_stream: core/snapshot_layout.h lib/hmac_sha256.h lib/sha256.h
