# ---- make fuzz: the IVRS parser (tests/fuzz/fuzz_ivrs.c) ----
# Adds fuzz-ivrs as a prerequisite of mk/fuzz.mk's fuzz target, with the same
# flags and clang. It runs FUZZ_IVRS_RUNS inputs; seeds come from
# tests/fuzz/fuzz_ivrs_seeds.c.

FUZZ_IVRS_RUNS ?= 1000000
FUZZ_IVRS_DIR := $(FUZZ_DIR)/ivrs
FUZZ_IVRS_SRCS := drivers/iommu_amd_ivrs.c lib/string.c
FUZZ_IVRS_HDRS := drivers/iommu_amd.h drivers/iommu.h

.PHONY: fuzz-ivrs
fuzz: fuzz-ivrs
fuzz-build: $(FUZZ_DIR)/fuzz_ivrs
fuzz-ivrs: $(FUZZ_DIR)/fuzz_ivrs $(FUZZ_IVRS_DIR)/seeds/.done
	@mkdir -p $(FUZZ_IVRS_DIR)/corpus
	cd $(FUZZ_IVRS_DIR) && ../fuzz_ivrs -runs=$(FUZZ_IVRS_RUNS) -max_len=4096 \
		-print_final_stats=1 corpus seeds

$(FUZZ_DIR)/fuzz_ivrs: tests/fuzz/fuzz_ivrs.c $(FUZZ_IVRS_SRCS) $(FUZZ_IVRS_HDRS) | $(FUZZ_DIR)/.clang-ok
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_ivrs.c $(FUZZ_IVRS_SRCS)

$(FUZZ_DIR)/fuzz_ivrs_seeds: tests/fuzz/fuzz_ivrs_seeds.c | $(SETUP)
	@mkdir -p $(FUZZ_DIR)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(UNIT_CFLAGS) -o $@ tests/fuzz/fuzz_ivrs_seeds.c

$(FUZZ_IVRS_DIR)/seeds/.done: $(FUZZ_DIR)/fuzz_ivrs_seeds
	@rm -rf $(FUZZ_IVRS_DIR)/seeds && mkdir -p $(FUZZ_IVRS_DIR)/seeds
	$(FUZZ_DIR)/fuzz_ivrs_seeds $(FUZZ_IVRS_DIR)/seeds
	@touch $@
