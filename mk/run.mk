# The commands that boot utsuwa in QEMU: run, test, bench (README.md).
# Included by the Makefile after tests/guests/guests.mk (GUEST_BINS, GUEST_OUT).
#
#   make run     utsuwa on 4 emulated CPUs with a Linux VM that has the console
#                (Ctrl-] the monitor, Ctrl-A X quits QEMU; docs/console.md)
#                and the network through QEMU's user NAT (RUN_NET).
#                RUN_CONFIG / RUN_IMAGES override the VMs.
#   make test    the host unit tests, then the guest matrix (tests/guests/matrix.cfg)
#                the console and lifecycle tests (tests/guests/console-test.sh,
#                lifecycle-test.sh, net-lifecycle-test.sh, uplink-test.sh,
#                netstack-test.sh, api-e2e-test.sh: the API through utsuwactl,
#                api-storm-test.sh), the disk tests (disk-boot-test.sh,
#                run-disk-test.sh: make run's disk), the ISO under UEFI (OVMF) and BIOS
#                (uefi-test.sh), a subset under Bochs (VT-x) and the lifecycle
#                there (tests/bochs/lifecycle-vmx.sh), utsuwactl against a fake API server
#                (tests/utsuwactl/ctl-test.sh, make test-ctl);
#                ends with "N passed, N failed", non-zero on any failure.
#                MATRIX_CASES=<names> runs some cases; GUEST_JOBS=<n> sets parallelism.
#   make test-iommu  tests/guests/iommu-test.sh alone (IOMMU=amd, or IOMMU=intel for
#                -device intel-iommu), about 30 s; part of make test (both).
#   make test-uefi  make iso's ISO with a test VM, booted by OVMF on 2 CPUs and by
#                SeaBIOS (tests/guests/uefi-test.sh, about 25 s; part of make test).
#   make bench   the exit benchmark under QEMU -icount and Bochs, then the
#                Linux-boot benchmark (bench/README.md).
#   make bench-linux  Linux boot to the shell, native and as a utsuwa guest.
#   make bench-api    POST /vms/NAME/start to the first entry and to /init, API round trips.
#
# Everything runs under QEMU TCG with AMD-V emulated, never KVM.

QEMU ?= qemu-system-x86_64
QEMU_SVM_CPU := $(shell . ./scripts/qemu-svm-cpu.sh && echo $$QEMU_SVM_CPU)
QEMU_SVM := -accel tcg -cpu $(QEMU_SVM_CPU) -m 1G -no-reboot

# The default VM: Debian's kernel with a busybox shell on the console
# (docs/linux-guest.md), attached to it (console=linux, docs/console.md), and
# a persistent disk: the partition utsuwa-data of RUN_DISK, the emulated
# machine's NVMe disk, which holds ext4 and is mounted at /data in the guest.
# RUN_DISK is made at the first run (scripts/make-run-disk.sh: a sparse
# 256 MiB image, a GPT, ext4) and kept; delete it to start over. make
# run-tests shows the test guests instead, without the disk.
# tests/guests/run-disk-test.sh boots this same configuration, disk and NIC,
# through make print-run-config, print-run-disk-args and print-run-net-args.
RUN_DISK ?= $(BUILD)/run/disk.img
RUN_CONFIG ?= exit=halt console=linux hostip=10.0.2.50/24,gw=10.0.2.2 \
	vm=linux,image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=2,disk=gpt:utsuwa-data,net,cmdline="console=ttyS0 quiet"
RUN_DISK_QEMU = $(if $(RUN_DISK),-drive file=$(RUN_DISK)$(comma)if=none$(comma)id=rundisk$(comma)format=raw \
	-device nvme$(comma)serial=utsuwa-run$(comma)drive=rundisk)
RUN_IMAGES ?= vmlinuz initrd.gz
# The machine's NIC: QEMU's user network (NAT; the build machine is
# 10.0.2.2) behind a virtio-net-pci card utsuwa drives as the switch's uplink.
# The hypervisor's own address on it (hostip= above) serves the management
# API (docs/api.md) on port 8080, forwarded to the build machine's loopback
# port RUN_API_PORT; its token is RUN_API_TOKEN's, made at the first run and
# handed over in a .cfg module (RUN_API_CFG), not on the command line, which
# the boot log prints.
RUN_API_PORT ?= 8080
RUN_API_TOKEN := $(BUILD)/run/api-token
RUN_API_CFG := $(BUILD)/run/api.cfg
RUN_NET ?= -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$(RUN_API_PORT)-10.0.2.50:8080 \
	-device virtio-net-pci,netdev=n0
RUN_TESTS_CONFIG := exit=halt \
	vm=real,image=basic-real.bin,mode=real,mem=16M,cpus=1,expect=0 \
	vm=prot,image=basic-prot.bin,mode=prot,mem=16M,cpus=1,expect=0 \
	vm=long,image=basic-long.bin,mode=long,mem=16M,cpus=2,arg=2,expect=0 \
	vm=spin,image=spin.bin,mode=long,mem=16M,cpus=1,arg=0,expect=0
RUN_TESTS_IMAGES := basic-real basic-prot basic-long spin

comma := ,
empty :=
space := $(empty) $(empty)

.PHONY: run run-tests test test-uefi bench bench-linux bench-snapshot bench-api print-run-config print-run-disk-args \
	print-run-net-args
run: $(BUILD)/utsuwa.elf $(patsubst %,$(GUEST_OUT)/%,$(RUN_IMAGES)) $(RUN_DISK) $(RUN_API_CFG) \
		$(BUILD)/utsuwactl | $(SETUP)
	@echo "run: QEMU with 4 CPUs; Ctrl-] switches between the VM and the monitor; Ctrl-A X quits"
	$(if $(RUN_DISK),@echo "run: the VM's disk (/data) is $(RUN_DISK); delete it to start over")
	@echo "run: the management API, from another terminal:" \
		"$(BUILD)/utsuwactl --host 127.0.0.1:$(RUN_API_PORT) --token-file $(RUN_API_TOKEN) list"
	$(QEMU) $(QEMU_SVM) -smp 4 -display none -serial mon:stdio $(RUN_DISK_QEMU) \
		-device isa-debug-exit,iobase=0xf4,iosize=4 $(RUN_NET) -kernel $(BUILD)/utsuwa.elf \
		-append '$(strip $(RUN_CONFIG))' \
		-initrd "$(subst $(space),$(comma),$(patsubst %,$(GUEST_OUT)/%,$(RUN_IMAGES)) $(RUN_API_CFG))"

# The API's token: 128 random bits, made once, readable by its owner only.
$(RUN_API_CFG):
	@mkdir -p $(dir $@)
	@umask 077; t=$$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n'); \
		printf '%s\n' "$$t" >$(RUN_API_TOKEN) && printf 'api_token=%s\n' "$$t" >$@

run-tests:
	$(MAKE) run RUN_CONFIG='$(RUN_TESTS_CONFIG) hostip=10.0.2.50/24,gw=10.0.2.2' RUN_DISK= \
		RUN_IMAGES="$(patsubst %,%.bin,$(RUN_TESTS_IMAGES))"

# Made once; never remade while it exists (it has no prerequisites).
ifneq ($(RUN_DISK),)
$(RUN_DISK): | $(SETUP)
	sh scripts/make-run-disk.sh $@
endif

# What make run boots, for tests/guests/run-disk-test.sh (RUN_DISK=<its image>).
print-run-config:
	@echo '$(strip $(RUN_CONFIG))'
print-run-disk-args:
	@echo '$(strip $(RUN_DISK_QEMU))'
print-run-net-args:
	@echo '$(strip $(RUN_NET))'

# All the parts always run: unit tests, the matrix under QEMU (AMD-V), the
# console and monitor and a VM's lifecycle driven through QEMU's serial line
# (tests/guests/console-test.sh and lifecycle-test.sh, each check counts one), two
# VMs on the switch through snapshot and restore (net-lifecycle-test.sh), a
# subset of the matrix under Bochs (VT-x, VMX_TEST_CASES in mk/bochs.mk; all of
# it: make test-vmx), and a VM's lifecycle and the console driven through
# Bochs's COM1 with a counting test guest (tests/bochs/lifecycle-vmx.sh, each
# check counts one), the machine's disks (disk-boot-test.sh), its NIC as the
# switch's uplink (uplink-test.sh), the hypervisor's own address on the
# switch with the API's TCP listener (netstack-test.sh), the AMD IOMMU on a
# q35 machine: every function blocked, utsuwa's own NIC and disk working
# behind it, a stray DMA refused and reported (iommu-test.sh, docs/iommu.md), the API end to end
# through utsuwactl (api-e2e-test.sh), 10,000 random and malformed API
# requests while a canary VM counts (api-storm-test.sh,
# tests/api-storm/storm.c), live migration between two QEMU hosts joined by a
# socket network (migrate-test.sh, docs/migration.md), the same through
# utsuwactl between two hosts on QEMU user networks (migrate-ctl-test.sh),
# PCI passthrough from
# the monitor (passthru-test.sh, docs/passthrough.md), a Linux VM driving a
# passed-through e1000e and virtio-net behind each IOMMU (passthru-linux-test.sh),
# utsuwactl against a
# fake API server (tests/utsuwactl/ctl-test.sh), and make iso's ISO booted by
# UEFI firmware (OVMF) and by SeaBIOS (tests/guests/uefi-test.sh).
# tests/sum-results.sh sums them in the last line.
test: $(BUILD)/utsuwa.elf $(BUILD)/utsuwactl guests linux-guest $(CTL_TEST_BINS) | $(SETUP)
	@mkdir -p $(BUILD)/test; start=$$(date +%s); \
	{ $(MAKE) --no-print-directory unit; echo $$? >$(BUILD)/test/unit.rc; } 2>&1 \
		| tee $(BUILD)/test/unit.out; \
	if [ "$$(cat $(BUILD)/test/unit.rc)" != 0 ] && ! grep -q '^unit: [0-9]* passed, [1-9]' \
		$(BUILD)/test/unit.out; then echo "unit: 0 passed, 1 failed" >>$(BUILD)/test/unit.out; fi; \
	bash tests/guests/run-matrix.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
		-o $(GUEST_OUT)/logs $(MATRIX_CASES) 2>&1 | tee $(BUILD)/test/guests.out; \
	bash tests/guests/console-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
		-o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/console.out; \
	bash tests/guests/lifecycle-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
		-o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/lifecycle.out; \
	bash tests/guests/net-lifecycle-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
		-o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/net-lifecycle.out; \
	bash tests/guests/disk-boot-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/disk-boot.out; \
	bash tests/guests/uplink-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/uplink.out; \
	bash tests/guests/iommu-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/iommu.out; \
	bash tests/guests/iommu-test.sh -i intel -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/iommu-intel.out; \
	bash tests/guests/netstack-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/netstack.out; \
	bash tests/guests/api-e2e-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/api-e2e.out; \
	bash tests/guests/api-storm-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/api-storm.out; \
	bash tests/guests/migrate-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/migrate.out; \
	bash tests/guests/migrate-ctl-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/migrate-ctl.out; \
	bash tests/guests/passthru-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/passthru.out; \
	for pl in amd-e1000e intel-e1000e amd-virtio intel-virtio; do \
		bash tests/guests/passthru-linux-test.sh -i $${pl%-*} -n $${pl#*-} -k $(BUILD)/utsuwa.elf \
			-g $(GUEST_OUT) -o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/passthru-linux-$$pl.out; \
	done; \
	bash tests/guests/run-disk-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
		-o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/run-disk.out; \
	bash tests/guests/uefi-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
		-o $(GUEST_OUT)/logs 2>&1 | tee $(BUILD)/test/uefi.out; \
	$(BOCHS_RUN) $(VMX_TEST_CASES) 2>&1 | tee $(BUILD)/test/vmx.out; \
	$(BOCHS_NOEPT_RUN) $(VMX_NOEPT_TEST_CASES) 2>&1 | tee $(BUILD)/test/vmx-noept.out; \
	$(LIFECYCLE_VMX) 2>&1 | tee $(BUILD)/test/lifecycle-vmx.out; \
	$(CTL_TEST) 2>&1 | tee $(BUILD)/test/ctl.out; \
	sh tests/sum-results.sh -t $$(($$(date +%s) - start)) unit:$(BUILD)/test/unit.out \
		guests:$(BUILD)/test/guests.out console:$(BUILD)/test/console.out \
		lifecycle:$(BUILD)/test/lifecycle.out \
		net-lifecycle:$(BUILD)/test/net-lifecycle.out vmx-guests:$(BUILD)/test/vmx.out \
		vmx-guests:$(BUILD)/test/vmx-noept.out \
		lifecycle-vmx:$(BUILD)/test/lifecycle-vmx.out disk-boot:$(BUILD)/test/disk-boot.out \
		uplink:$(BUILD)/test/uplink.out iommu-amd:$(BUILD)/test/iommu.out \
		iommu-intel:$(BUILD)/test/iommu-intel.out \
		netstack:$(BUILD)/test/netstack.out \
		api-e2e:$(BUILD)/test/api-e2e.out \
		api-storm:$(BUILD)/test/api-storm.out migrate:$(BUILD)/test/migrate.out \
		migrate-ctl:$(BUILD)/test/migrate-ctl.out \
		run-disk:$(BUILD)/test/run-disk.out ctl:$(BUILD)/test/ctl.out \
		uefi:$(BUILD)/test/uefi.out passthru:$(BUILD)/test/passthru.out \
		passthru-linux-amd-e1000e:$(BUILD)/test/passthru-linux-amd-e1000e.out \
		passthru-linux-intel-e1000e:$(BUILD)/test/passthru-linux-intel-e1000e.out \
		passthru-linux-amd-virtio:$(BUILD)/test/passthru-linux-amd-virtio.out \
		passthru-linux-intel-virtio:$(BUILD)/test/passthru-linux-intel-virtio.out

# The IOMMU test alone: IOMMU=amd (default) or IOMMU=intel (-device intel-iommu).
IOMMU ?= amd
.PHONY: test-iommu
test-iommu: $(BUILD)/utsuwa.elf guests | $(SETUP)
	bash tests/guests/iommu-test.sh -i $(IOMMU) -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs

test-uefi: $(BUILD)/utsuwa.elf guests | $(SETUP)
	bash tests/guests/uefi-test.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) -o $(GUEST_OUT)/logs

# Both back ends: AMD-V under QEMU -icount, VT-x under Bochs (bench/README.md);
# then Linux's boot, natively and under utsuwa (AMD-V), in QEMU.
bench: $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin linux-guest | $(SETUP)
	@sh bench/run.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin
	@bash tests/bochs/bench-vmx.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)/bench.bin
	@bash bench/linux-boot.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)

# Snapshot and restore of a 256 MiB Linux VM, in instructions (bench/README.md).
bench-snapshot: $(BUILD)/utsuwa.elf linux-guest | $(SETUP)
	@bash bench/snapshot.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)

bench-linux: $(BUILD)/utsuwa.elf linux-guest | $(SETUP)
	@bash bench/linux-boot.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)

# The management API: POST /vms/NAME/start to the first VM entry and to
# Linux's /init, and a request's cost, in instructions under icount
# (bench/api.sh, bench/README.md "Management API").
bench-api: $(BUILD)/utsuwa.elf $(BUILD)/utsuwactl linux-guest | $(SETUP)
	@bash bench/api.sh $(BUILD)/utsuwa.elf $(GUEST_OUT)

# make test-shadow: every matrix case on a CPU without nested paging (QEMU
# -npt), so every VM runs on shadow page tables (docs/shadow-paging.md).
.PHONY: test-shadow
test-shadow: $(BUILD)/utsuwa.elf guests linux-guest | $(SETUP)
	MATRIX_CPU_EXTRA=-npt bash tests/guests/run-matrix.sh -k $(BUILD)/utsuwa.elf -g $(GUEST_OUT) \
		-o $(GUEST_OUT)/logs-shadow $(MATRIX_CASES)
