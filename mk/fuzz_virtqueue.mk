# ---- make fuzz: the virtqueue fuzzer, run before the snapshot fuzzer ----
# tests/fuzz/fuzz_virtqueue.c over devices/virtqueue.c; FUZZ_VQ_RUNS inputs
# (1M by default: the figure in README.md), no seed corpus (the input is raw
# guest RAM; libFuzzer grows its own in build/fuzz/vq-corpus).
FUZZ_VQ_RUNS ?= 1000000
FUZZ_VQ_SRCS := tests/fuzz/fuzz_virtqueue.c devices/virtqueue.c core/gmem_access.c lib/string.c

.PHONY: fuzz-virtqueue
fuzz: fuzz-virtqueue
fuzz-build: $(FUZZ_DIR)/fuzz_virtqueue

fuzz-virtqueue: $(FUZZ_DIR)/fuzz_virtqueue
	@mkdir -p $(FUZZ_DIR)/vq-corpus
	cd $(FUZZ_DIR) && ./fuzz_virtqueue -runs=$(FUZZ_VQ_RUNS) -max_len=12288 \
		-print_final_stats=1 vq-corpus

$(FUZZ_DIR)/fuzz_virtqueue: $(FUZZ_VQ_SRCS) devices/virtqueue.h tests/unit/fake_gmem.h \
		$(wildcard include/hv/*.h) | $(FUZZ_DIR)/.clang-ok
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_VQ_SRCS)
