# The guest matrix and the exit benchmark under Bochs, with Intel VT-x
# emulated (cpu: model=tigerlake), booted from a GRUB ISO per case
# (tests/bochs/README.md). Included by the Makefile after
# tests/guests/guests.mk (GUEST_OUT).
#
#   make test-vmx    every case of tests/guests/matrix.cfg under Bochs, then
#                    lifecycle-vmx (below) and the Linux lifecycle test under
#                    Bochs (tests/guests/lifecycle-test.sh -b bochs, about 10
#                    minutes); ends with "N passed, N failed", non-zero on a
#                    failure. VMX_CASES=<names> runs some matrix cases and
#                    nothing else, BOCHS_JOBS=<n> sets parallelism (default 2).
#   make bench-vmx   the exit benchmark under Bochs on one CPU:
#                    "exit <kind> vmx min=<N> median=<N>" (instructions).
#   make lifecycle-vmx  pause, resume, snapshot, restore, a damaged snapshot,
#                    the escape key and 100 create/destroy cycles, driven
#                    through Bochs's COM1 with a counting test guest
#                    (tests/bochs/lifecycle-vmx.sh, about 2 minutes; part of
#                    make test); "lifecycle-vmx: N passed, N failed".
#   make test-migrate-vmx  live migration VT-x to VT-x: two Bochs machines whose
#                    e1000s share a bxhub, a count guest A to B and back
#                    (tests/bochs/migrate-vmx.sh; not part of make test);
#                    "migrate-vmx: N passed, N failed".
#   make test-migrate-xvendor  the same with host A a QEMU (AMD-V) on the hub
#                    (-b qemu): AMD-V to VT-x and back (docs/migration.md,
#                    "VT-x and cross-vendor").
#
#   make test-shadow-vmx  matrix cases under Bochs on a CPU without nested
#                    paging for utsuwa (tests/bochs/run-bochs.sh with
#                    BOCHS_SHADOW=1: Bochs's Lynnfield model, EPT without
#                    unrestricted guest), where every VM gets shadow page
#                    tables and real mode runs in virtual-8086 mode
#                    (docs/shadow-paging.md): VMX_SHADOW_CASES (below; about
#                    15 minutes on two cores, Linux on two vCPUs 6 of them),
#                    then lifecycle-vmx's checks (pause, snapshot, restore,
#                    create/destroy) on that CPU; VMX_CASES=<names> runs those
#                    matrix cases and nothing else. "vmx-guests: N passed, N
#                    failed", "lifecycle-vmx: N passed, N failed".
#   make test-shadow-noept  the same cases but three on a VT-x CPU without
#                    EPT at all (Bochs's Core 2, VMX_NOEPT_CPU below);
#                    VMX_CASES=<names> picks others. "vmx-guests: N passed,
#                    N failed".
#
# VMX_TEST_CASES is what `make test` runs under Bochs (about 4 minutes on
# two cores): the test guests in every mode, SMP, preemption, pinning,
# isolation, the APICs, the platform, the vCPU state round trip, the CPU's
# conformance (conform, a few seconds), malformed virtqueue chains (badvq-alone;
# badvq with its Linux VM takes minutes there), Linux on one CPU, and a VM of
# 1.75 GiB on a 2 GiB machine (bigmem-2g, about a minute: no Bochs machine
# above 2 GiB, whose RAM Bochs swaps, README "Robustness"), and paging=shadow beside
# EPT (paging-shadow, shadow-modes: real mode in virtual-8086 mode). The SMP Linux cases pass
# too but take 5-15 minutes each under Bochs: make test-vmx.

VMX_CASES ?=
VMX_TEST_CASES ?= real prot long modes-smp4 vcpus-smp4 preempt pinned isolation triplefault watchdog multiboot multiboot-low \
	apic-smp2 platform badconfig reset dirtylog dirtylog-smp vstate conform drleak drbp badvq-alone isolation-walk \
	oncrash-reset oncrash-reset-smp linux-1cpu bigmem-2g nmi x2apic pic-real timers inject level tscscale timers-scaled paging-shadow shadow-modes
# make test-shadow-vmx's: the test guests in every mode, SMP, the MMU test
# guest, the real-mode PIC guest, dirty logging and Linux on two vCPUs.
VMX_SHADOW_CASES ?= real prot long modes-smp4 vcpus-smp4 preempt pinned isolation triplefault \
	multiboot multiboot-low apic-smp2 platform badconfig reset dirtylog dirtylog-smp vstate \
	conform drleak badvq-alone isolation-walk oncrash-reset oncrash-reset-smp bigmem-2g nmi x2apic \
	pic-real timers paging vm86lm linux-2cpu
# make test-shadow-noept's: the same on Bochs's Core 2 (core2_penryn_t9600),
# VT-x without EPT, VPIDs, the preemption timer and the EFER and PAT
# controls (MSR-load lists switch those, arch/x86/vmx/vmx_msr_list.c).
# Not preempt, dirtylog-smp, vm86lm: without the preemption timer only host
# interrupts bring a vCPU out of guest mode, and Bochs 2.7 makes no exit for
# them while the guest has IF = 0 (its VM entry evaluates the interrupt mask
# before guest mode; on a CPU they exit whatever the guest's IF):
# docs/shadow-paging.md, "Not done".
VMX_NOEPT_CPU := core2_penryn_t9600
VMX_NOEPT_CASES ?= $(filter-out preempt dirtylog-smp vm86lm,$(VMX_SHADOW_CASES))
# What make test runs there (about 20 s): the MMU test guest and long mode.
VMX_NOEPT_TEST_CASES ?= long paging
BOCHS_NOEPT_RUN := BOCHS_SHADOW=1 BOCHS_CPU=$(VMX_NOEPT_CPU) bash tests/bochs/run-bochs.sh \
	-k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(BUILD)/bochs-noept
BOCHS_RUN := bash tests/bochs/run-bochs.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
	-o $(BUILD)/bochs
LIFECYCLE_VMX := bash tests/bochs/lifecycle-vmx.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
	-o $(BUILD)/bochs
MIGRATE_VMX := bash tests/bochs/migrate-vmx.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
	-o $(BUILD)/bochs

.PHONY: test-vmx bench-vmx lifecycle-vmx test-migrate-vmx test-migrate-xvendor test-shadow-vmx \
	test-shadow-noept

test-shadow-noept: $(BUILD)/utsuwa.elf guests linux-guest | $(SETUP)
	$(BOCHS_NOEPT_RUN) $(or $(strip $(VMX_CASES)),$(VMX_NOEPT_CASES))

test-shadow-vmx: $(BUILD)/utsuwa.elf guests linux-guest | $(SETUP)
	BOCHS_SHADOW=1 bash tests/bochs/run-bochs.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
		-o $(BUILD)/bochs-shadow $(or $(strip $(VMX_CASES)),$(VMX_SHADOW_CASES)); rc=$$?; \
	if [ -z "$(strip $(VMX_CASES))" ]; then \
		BOCHS_CPU=corei5_lynnfield_750 bash tests/bochs/lifecycle-vmx.sh -k $(BUILD)/utsuwa.elf \
			-g $(GUEST_OUT) -o $(BUILD)/bochs-shadow || rc=1; \
	fi; exit $$rc
LIFECYCLE_LINUX_VMX := bash tests/guests/lifecycle-test.sh -b bochs -k $(BUILD)/utsuwa.elf \
	-g $(GUEST_OUT) -o $(BUILD)/bochs

ifneq ($(strip $(VMX_CASES)),)
test-vmx: $(BUILD)/utsuwa.elf guests linux-guest | $(SETUP)
	$(BOCHS_RUN) $(VMX_CASES)
else
test-vmx: $(BUILD)/utsuwa.elf guests linux-guest | $(SETUP)
	@mkdir -p $(BUILD)/test-vmx; start=$$(date +%s); \
	$(BOCHS_RUN) 2>&1 | tee $(BUILD)/test-vmx/vmx.out; \
	$(LIFECYCLE_VMX) 2>&1 | tee $(BUILD)/test-vmx/lifecycle-vmx.out; \
	$(LIFECYCLE_LINUX_VMX) 2>&1 | tee $(BUILD)/test-vmx/lifecycle-linux-vmx.out; \
	sh tests/sum-results.sh -t $$(($$(date +%s) - start)) vmx-guests:$(BUILD)/test-vmx/vmx.out \
		lifecycle-vmx:$(BUILD)/test-vmx/lifecycle-vmx.out \
		lifecycle-linux-vmx:$(BUILD)/test-vmx/lifecycle-linux-vmx.out
endif

bench-vmx: $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin | $(SETUP)
	@bash tests/bochs/bench-vmx.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin

lifecycle-vmx: $(BUILD)/utsuwa.elf guests | $(SETUP)
	$(LIFECYCLE_VMX)

test-migrate-vmx: $(BUILD)/utsuwa.elf guests | $(SETUP)
	$(MIGRATE_VMX)

test-migrate-xvendor: $(BUILD)/utsuwa.elf guests | $(SETUP)
	$(MIGRATE_VMX) -b qemu

# make test-long (issue 15, item 3): crashme round after round for
# CRASHME_MINUTES (default 30) under QEMU (AMD-V) and, every fourth round,
# Bochs (VT-x): tests/guests/crashme-long.sh. Not part of make test.
CRASHME_MINUTES ?= 30
.PHONY: test-long
test-long: $(BUILD)/utsuwa.elf guests | $(SETUP)
	@mkdir -p $(BUILD)/test-long
	bash tests/guests/crashme-long.sh -m $(CRASHME_MINUTES) -o $(BUILD)/test-long 2>&1 | \
		tee $(BUILD)/test-long/crashme-long.out; \
	sh tests/sum-results.sh crashme-long:$(BUILD)/test-long/crashme-long.out
