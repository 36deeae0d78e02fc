# ---- make fuzz, part five: the migration stream (tests/fuzz/fuzz_migrate.c) ----
# Adds fuzz-migrate as a prerequisite of mk/fuzz.mk's fuzz target, with the
# same flags and clang. It runs FUZZ_MIGRATE_RUNS inputs from an empty
# corpus: the target seals its own frames from structured inputs
# (docs/migration.md).

FUZZ_MIGRATE_RUNS ?= 100000
FUZZ_MIGRATE_DIR := $(FUZZ_DIR)/migrate
FUZZ_MIGRATE_SRCS := core/migrate_stream.c lib/sha256.c lib/hmac_sha256.c lib/crc32.c \
	lib/format.c lib/string.c
FUZZ_MIGRATE_HDRS := include/hv/migrate_stream.h core/snapshot_layout.h lib/hmac_sha256.h \
	lib/sha256.h

.PHONY: fuzz-migrate
fuzz: fuzz-migrate
fuzz-build: $(FUZZ_DIR)/fuzz_migrate
fuzz-migrate: $(FUZZ_DIR)/fuzz_migrate
	@mkdir -p $(FUZZ_MIGRATE_DIR)/corpus
	cd $(FUZZ_MIGRATE_DIR) && ../fuzz_migrate -runs=$(FUZZ_MIGRATE_RUNS) -max_len=300000 \
		-print_final_stats=1 corpus

$(FUZZ_DIR)/fuzz_migrate: tests/fuzz/fuzz_migrate.c $(FUZZ_MIGRATE_SRCS) $(FUZZ_MIGRATE_HDRS) | $(FUZZ_DIR)/.clang-ok
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_migrate.c $(FUZZ_MIGRATE_SRCS)
