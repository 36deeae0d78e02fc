# make bench-peer: the exit benchmark under utsuwa and under KVM, side by side
# (bench/README.md, "Side by side with KVM"). Included by the Makefile after
# tests/guests/guests.mk and mk/run.mk (BUILD, SETUP, GUEST_OUT, Q).
#
#   make bench-peer   builds tools/kvm-runner and the L1 Linux system
#                     (bench/peer/build-l1.sh, kept in build/peer), runs
#                     bench/peer/bench-peer.sh; ends with one line per exit kind:
#                     peer <kind> utsuwa=<N> kvm=<N> ratio=<kvm/utsuwa>
#
# KVM runs inside QEMU's emulated machine (TCG, -cpu qemu64,+svm,+npt (scripts/qemu-svm-cpu.sh)), never on
# the build machine's /dev/kvm. Not part of make test.

PEER_OUT := $(BUILD)/peer

# The KVM runner: a static Linux program, built with utsuwa's own loader and
# device models (compiled for the host, as the unit tests do).
PEER_RUNNER_SRCS := tools/kvm-runner/kvm-runner.c loaders/raw.c loaders/start_state.c \
	core/vm_mem.c core/bus.c devices/uart8250.c devices/testdev.c lib/string.c
PEER_RUNNER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-static -DHOST_TEST -Iinclude -Iarch/x86/include -I.

$(PEER_OUT)/kvm-runner: $(PEER_RUNNER_SRCS) $(wildcard include/hv/*.h) \
		devices/uart8250.h devices/testdev.h | $(SETUP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(PEER_RUNNER_CFLAGS) -o $@ $(PEER_RUNNER_SRCS)

# The L1 system: vmlinuz and the initramfs (with the runner and the bench guest).
$(PEER_OUT)/initramfs.cpio.gz: $(PEER_OUT)/kvm-runner $(GUEST_OUT)/bench.bin bench/peer/init \
		bench/peer/build-l1.sh | $(SETUP)
	@$(if $(Q),echo "  L1      $@")
	$(Q)sh bench/peer/build-l1.sh $(PEER_OUT)/kvm-runner $(GUEST_OUT)/bench.bin $(PEER_OUT)

.PHONY: bench-peer
bench-peer: $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin $(PEER_OUT)/initramfs.cpio.gz | $(SETUP)
	@sh bench/peer/bench-peer.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin $(PEER_OUT)
