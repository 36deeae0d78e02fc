# make bench-peer: the exit benchmark under utsuwa and under KVM, side by side
# (bench/README.md, "Side by side with KVM"). Included by the Makefile after
# tests/guests/guests.mk and mk/run.mk (BUILD, SETUP, GUEST_OUT, Q).
#
#   make bench-peer   builds tools/kvm-runner, the Linux guest (linux-guest)
#                     and the L1 Linux system (bench/peer/build-l1.sh, kept in
#                     build/peer), runs bench/peer/bench-peer.sh; ends with one
#                     line per exit kind and the Linux boot's:
#                     peer <kind> utsuwa=<N> kvm=<N> ratio=<kvm/utsuwa>
#                     peer linux-boot native=<N> utsuwa=<N> kvm=<N>
#                     peer linux-boot overhead utsuwa=<R> kvm=<R>
#   make bench-io     the same L1 system, and utsuwa, run two Linux guests each
#                     with io-bench (tools/io-bench): disk and network requests
#                     in instructions (bench/io.sh; bench/README.md, "I/O");
#                     io <kind> utsuwa=<N> kvm=<N> ratio=<kvm/utsuwa>
#   make bench-passthru  no L1: two Linux guests given a NIC each by PCI
#                     passthrough (e1000e, virtio-net-pci) against utsuwa's
#                     virtio-net and the same kernel natively, round trips and
#                     a TCP stream in instructions (bench/passthru.sh;
#                     bench/README.md, "I/O: a passed-through NIC");
#                     io passthrough-<kind> nic=<M> passthrough=<N> virtio-net=<N> native=<N>
#   make bench-paging the Linux guest's page-table-heavy workloads (boot to
#                     /init, fork+exec, mmap+touch+munmap) natively, under
#                     utsuwa with nested and shadow paging and under KVM in
#                     the same L1 with npt=1 and npt=0, in instructions
#                     (bench/paging.sh; bench/README.md, "Paging");
#                     paging <workload> native=<N> nested=<N> shadow=<N> kvm_nested=<N> kvm_shadow=<N>
#   make bench-migrate a Linux VM running mig-bench (tools/mig-bench), idle and
#                     dirtying memory, migrated live between two utsuwa hosts
#                     and between two L1 machines of this system with QEMU's
#                     migration under KVM (bench/migrate.sh,
#                     bench/peer/migrate.sh; bench/README.md "Live migration");
#                     migrate <workload>-<figure> utsuwa=<N> kvm=<N>
#
# KVM runs inside QEMU's emulated machine (TCG, -cpu qemu64,+svm,+npt (scripts/qemu-svm-cpu.sh)), never on
# the build machine's /dev/kvm. Not part of make test.

PEER_OUT := $(BUILD)/peer

# The KVM runner: a static Linux program, built with utsuwa's own loader and
# device models (compiled for the host, as the unit tests do).
PEER_RUNNER_SRCS := tools/kvm-runner/kvm-runner.c loaders/raw.c loaders/start_state.c \
	core/gmem_access.c core/bus.c devices/uart8250.c devices/testdev.c devices/pci_intx.c \
	lib/string.c
PEER_RUNNER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-static -DHOST_TEST -Iinclude -Iarch/x86/include -I.

$(PEER_OUT)/kvm-runner: $(PEER_RUNNER_SRCS) $(wildcard include/hv/*.h) \
		devices/uart8250.h devices/testdev.h | $(SETUP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(PEER_RUNNER_CFLAGS) -o $@ $(PEER_RUNNER_SRCS)

# The L1 system: vmlinuz and the initramfs (the runner, the bench guest, QEMU
# with its libraries and firmware, the Linux guest). Its inputs include this
# machine's QEMU and libraries, so the script is run every time and packs
# again only when a checksum of its inputs changed (a second or two when not).
.PHONY: peer-l1
peer-l1: $(PEER_OUT)/kvm-runner $(GUEST_OUT)/bench.bin \
		$(GUEST_OUT)/vmlinuz $(GUEST_OUT)/initrd.gz | $(SETUP)
	@$(if $(Q),echo "  L1      $(PEER_OUT)/initramfs.cpio")
	$(Q)sh bench/peer/build-l1.sh $(PEER_OUT)/kvm-runner $(GUEST_OUT)/bench.bin $(PEER_OUT) $(GUEST_OUT)

.PHONY: bench-peer
bench-peer: $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin linux-guest peer-l1 | $(SETUP)
	@sh bench/peer/bench-peer.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin $(PEER_OUT) $(GUEST_OUT)

.PHONY: bench-io
bench-io: $(BUILD)/utsuwa.elf linux-guest peer-l1 | $(SETUP)
	@sh bench/io.sh $(BUILD)/utsuwa.elf $(GUEST_OUT) $(PEER_OUT)

.PHONY: bench-passthru
bench-passthru: $(BUILD)/utsuwa.elf linux-guest | $(SETUP)
	@sh bench/passthru.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)

.PHONY: bench-paging
bench-paging: $(BUILD)/utsuwa.elf linux-guest peer-l1 | $(SETUP)
	@sh bench/paging.sh $(BUILD)/utsuwa.elf $(GUEST_OUT) $(PEER_OUT)

.PHONY: bench-migrate
bench-migrate: $(BUILD)/utsuwa.elf linux-guest peer-l1 | $(SETUP)
	@bash bench/migrate.sh $(BUILD)/utsuwa.elf $(GUEST_OUT) $(PEER_OUT)
