# ---- make fuzz, part: the VT-d DMAR parser (tests/fuzz/fuzz_dmar.c) ----
# Adds fuzz-dmar as a prerequisite of mk/fuzz.mk's fuzz target, with the same
# flags and clang. It runs FUZZ_DMAR_RUNS inputs; seeds come from
# tests/fuzz/fuzz_dmar_seeds.c (docs/iommu-vtd.md).

FUZZ_DMAR_RUNS ?= 1000000
FUZZ_DMAR_DIR := $(FUZZ_DIR)/dmar
FUZZ_DMAR_SRCS := drivers/iommu_vtd_dmar.c lib/format.c lib/string.c
FUZZ_DMAR_HDRS := drivers/iommu_vtd_dmar.h tests/unit/dmar_image.h

.PHONY: fuzz-dmar
fuzz: fuzz-dmar
fuzz-build: $(FUZZ_DIR)/fuzz_dmar
fuzz-dmar: $(FUZZ_DIR)/fuzz_dmar $(FUZZ_DMAR_DIR)/seeds/.done
	@mkdir -p $(FUZZ_DMAR_DIR)/corpus
	cd $(FUZZ_DMAR_DIR) && ../fuzz_dmar -runs=$(FUZZ_DMAR_RUNS) -max_len=4096 \
		-print_final_stats=1 corpus seeds

$(FUZZ_DIR)/fuzz_dmar: tests/fuzz/fuzz_dmar.c $(FUZZ_DMAR_SRCS) $(FUZZ_DMAR_HDRS) | $(FUZZ_DIR)/.clang-ok
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_dmar.c $(FUZZ_DMAR_SRCS)

$(FUZZ_DIR)/fuzz_dmar_seeds: tests/fuzz/fuzz_dmar_seeds.c $(FUZZ_DMAR_HDRS) | $(SETUP)
	@mkdir -p $(FUZZ_DIR)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(UNIT_CFLAGS) -o $@ tests/fuzz/fuzz_dmar_seeds.c

$(FUZZ_DMAR_DIR)/seeds/.done: $(FUZZ_DIR)/fuzz_dmar_seeds
	@rm -rf $(FUZZ_DMAR_DIR)/seeds && mkdir -p $(FUZZ_DMAR_DIR)/seeds
	$(FUZZ_DIR)/fuzz_dmar_seeds $(FUZZ_DMAR_DIR)/seeds
	@touch $@
