# ---- make fuzz: the snapshot fuzzer (libFuzzer), not part of make test ----
# Builds tests/fuzz/fuzz_snapshot.c with clang's -fsanitize=fuzzer,address,undefined,
# writes a seed corpus with a host program (tests/fuzz/fuzz_seeds.c; no binary
# seeds are committed) and runs the fuzzer for FUZZ_SECONDS. What it finds new
# goes to build/fuzz/corpus; a crash leaves build/fuzz/crash-* and fails.
# clang and its runtime come from Debian (scripts/setup-deps.sh fuzz).

FUZZ_SECONDS ?= 60
FUZZ_CC := clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-DHOST_TEST -Iinclude -Iarch/x86/include -I. -Itests/fuzz
FUZZ_LIB_SRCS = tests/fuzz/fuzz_devices.c core/snapshot_vm.c $(DEVICE_SNAP_SRCS) $(SNAPSHOT_SRCS)
FUZZ_HDRS = tests/fuzz/fuzz_devices.h tests/fuzz/fuzz_input.h include/hv/snapshot.h \
	include/hv/snapshot_vm.h core/snapshot_layout.h $(wildcard devices/*.h)

.PHONY: fuzz fuzz-build
fuzz: $(FUZZ_DIR)/fuzz_snapshot $(FUZZ_DIR)/seeds/.done
	@mkdir -p $(FUZZ_DIR)/corpus
	cd $(FUZZ_DIR) && ./fuzz_snapshot -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-print_final_stats=1 corpus seeds

fuzz-build: $(FUZZ_DIR)/fuzz_snapshot

$(FUZZ_DIR)/.clang-ok: scripts/setup-deps.sh
	@mkdir -p $(FUZZ_DIR)
	sh scripts/setup-deps.sh fuzz
	@touch $@

$(FUZZ_DIR)/fuzz_snapshot: tests/fuzz/fuzz_snapshot.c $(FUZZ_LIB_SRCS) $(FUZZ_HDRS) | $(FUZZ_DIR)/.clang-ok
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_snapshot.c $(FUZZ_LIB_SRCS)

# The seed writer is an ordinary host program (gcc, ASan/UBSan as the unit tests).
$(FUZZ_DIR)/fuzz_seeds: tests/fuzz/fuzz_seeds.c $(FUZZ_LIB_SRCS) $(FUZZ_HDRS) | $(SETUP)
	@mkdir -p $(FUZZ_DIR)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(UNIT_CFLAGS) -Itests/fuzz -o $@ tests/fuzz/fuzz_seeds.c $(FUZZ_LIB_SRCS)

$(FUZZ_DIR)/seeds/.done: $(FUZZ_DIR)/fuzz_seeds
	@rm -rf $(FUZZ_DIR)/seeds && mkdir -p $(FUZZ_DIR)/seeds
	$(FUZZ_DIR)/fuzz_seeds $(FUZZ_DIR)/seeds
	@touch $@
