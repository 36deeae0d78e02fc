# ---- make fuzz, part four: the shadow MMU (tests/fuzz/fuzz_shadow.c) ----
# Adds fuzz-shadow as a prerequisite of mk/fuzz.mk's fuzz target: random
# guest page tables in every paging mode, #PF, INVLPG and flushes; after
# each step every shadow leaf must lie in the VM's RAM, and a model TLB per
# root tag must hold nothing the shadow dropped (docs/shadow-paging.md).
# FUZZ_SHADOW_RUNS inputs, 1,000,000 by default; no seeds (libFuzzer starts
# from nothing and the fold flag links random words into tables).

FUZZ_SHADOW_RUNS ?= 1000000
FUZZ_SHADOW_DIR := $(FUZZ_DIR)/shadow
FUZZ_SHADOW_SRCS := arch/x86/mmu/shadow_gwalk.c arch/x86/mmu/shadow_pt.c arch/x86/mmu/shadow_roots.c \
	arch/x86/mmu/shadow_tlb.c core/tlb_tag.c \
	arch/x86/mmu/shadow_fault.c core/gmem_access.c lib/string.c
FUZZ_SHADOW_HDRS := include/hv/shadow.h include/hv/tlb_tag.h tests/unit/shadow_check.h tests/unit/fake_gmem.h \
	arch/x86/pt_walk.h

.PHONY: fuzz-shadow
fuzz: fuzz-shadow
fuzz-build: $(FUZZ_DIR)/fuzz_shadow
fuzz-shadow: $(FUZZ_DIR)/fuzz_shadow
	@mkdir -p $(FUZZ_SHADOW_DIR)/corpus
	cd $(FUZZ_SHADOW_DIR) && ../fuzz_shadow -runs=$(FUZZ_SHADOW_RUNS) -max_len=16384 \
		-print_final_stats=1 corpus

$(FUZZ_DIR)/fuzz_shadow: tests/fuzz/fuzz_shadow.c $(FUZZ_SHADOW_SRCS) $(FUZZ_SHADOW_HDRS) | $(FUZZ_DIR)/.clang-ok
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/unit -o $@ tests/fuzz/fuzz_shadow.c $(FUZZ_SHADOW_SRCS)
