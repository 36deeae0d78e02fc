# ---- make fuzz, part two: the GPT parser (tests/fuzz/fuzz_gpt.c) ----
# Adds fuzz-gpt as a prerequisite of mk/fuzz.mk's fuzz target, with the same
# flags and clang. It runs FUZZ_GPT_RUNS inputs (not a time: the README
# quotes the count); seeds come from tests/fuzz/fuzz_gpt_seeds.c.

FUZZ_GPT_RUNS ?= 1000000
FUZZ_GPT_DIR := $(FUZZ_DIR)/gpt
FUZZ_GPT_SRCS := core/gpt.c lib/crc32.c lib/format.c lib/string.c
FUZZ_GPT_HDRS := core/gpt.h tests/unit/gpt_image.h lib/crc32.h

.PHONY: fuzz-gpt
fuzz: fuzz-gpt
fuzz-build: $(FUZZ_DIR)/fuzz_gpt
fuzz-gpt: $(FUZZ_DIR)/fuzz_gpt $(FUZZ_GPT_DIR)/seeds/.done
	@mkdir -p $(FUZZ_GPT_DIR)/corpus
	cd $(FUZZ_GPT_DIR) && ../fuzz_gpt -runs=$(FUZZ_GPT_RUNS) -max_len=40000 \
		-print_final_stats=1 corpus seeds

$(FUZZ_DIR)/fuzz_gpt: tests/fuzz/fuzz_gpt.c $(FUZZ_GPT_SRCS) $(FUZZ_GPT_HDRS) | $(FUZZ_DIR)/.clang-ok
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/unit -o $@ tests/fuzz/fuzz_gpt.c $(FUZZ_GPT_SRCS)

$(FUZZ_DIR)/fuzz_gpt_seeds: tests/fuzz/fuzz_gpt_seeds.c $(FUZZ_GPT_HDRS) | $(SETUP)
	@mkdir -p $(FUZZ_DIR)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(UNIT_CFLAGS) -o $@ tests/fuzz/fuzz_gpt_seeds.c lib/crc32.c

$(FUZZ_GPT_DIR)/seeds/.done: $(FUZZ_DIR)/fuzz_gpt_seeds
	@rm -rf $(FUZZ_GPT_DIR)/seeds && mkdir -p $(FUZZ_GPT_DIR)/seeds
	$(FUZZ_DIR)/fuzz_gpt_seeds $(FUZZ_GPT_DIR)/seeds
	@touch $@
