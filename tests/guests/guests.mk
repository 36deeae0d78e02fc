# The test guests: flat binaries build/guests/<name>.bin, one per program and
# start mode, loaded by the hypervisor as boot modules (tests/guests/README.md).
#
#   make guests        all of them
#
# A program is C sources plus the runtime (tests/guests/lib), compiled with
# gcc -m16 (mode real), -m32 (prot) or -m64 (long), linked at the mode's load
# address with tests/guests/lib/guest.ld and copied out with objcopy.
# Neither libc nor libgcc: no multilib packages are needed.

GUEST_DIR := tests/guests
GUEST_OUT := $(BUILD)/guests
GUEST_LD ?= ld
GUEST_OBJCOPY ?= objcopy

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -nostdlib -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-fno-delete-null-pointer-checks -fno-strict-aliasing -mgeneral-regs-only \
	-Iinclude -I$(GUEST_DIR)/lib
GUEST_ASFLAGS := -D__ASSEMBLY__
GUEST_LDFLAGS := -nostdlib -static --build-id=none -z noexecstack --no-warn-rwx-segments \
	-T $(GUEST_DIR)/lib/guest.ld

# Per start mode: compiler flags, linker emulation, load address (docs/config.md).
GUEST_real_FLAGS := -m16 -march=i686 -DGUEST_MODE_REAL
GUEST_real_EMUL := elf_i386
GUEST_real_LOAD := 0x1000
GUEST_prot_FLAGS := -m32 -march=i686 -DGUEST_MODE_PROT
GUEST_prot_EMUL := elf_i386
GUEST_prot_LOAD := 0x100000
GUEST_long_FLAGS := -m64 -mno-red-zone -mcmodel=small -DGUEST_MODE_LONG
GUEST_long_EMUL := elf_x86_64
GUEST_long_LOAD := 0x100000

GUEST_LIB_SRCS := $(GUEST_DIR)/lib/runtime.c

# The programs: <name>_MODE and <name>_SRCS.
GUEST_PROGS := basic-real basic-prot basic-long spin pinned isolation triplefault apic platform reset \
	vstate bench dirtylog conform multiboot multiboot-low count drleak badvq nmi paging crashme \
	vm86lm attack exitport x2apic pic-real passthru timers inject level tscscale highmem \
	hltwake watchdog drbp
basic-real_MODE := real
basic-real_SRCS := $(GUEST_DIR)/basic.c
basic-prot_MODE := prot
basic-prot_SRCS := $(GUEST_DIR)/basic.c
basic-long_MODE := long
basic-long_SRCS := $(GUEST_DIR)/basic.c
spin_MODE := long
spin_SRCS := $(GUEST_DIR)/spin.c
pinned_MODE := long
pinned_SRCS := $(GUEST_DIR)/pinned.c
isolation_MODE := long
isolation_SRCS := $(GUEST_DIR)/isolation.c
platform_MODE := long
platform_SRCS := $(GUEST_DIR)/platform.c
nmi_MODE := long
crashme_MODE := long
vm86lm_MODE := long
attack_MODE := long
exitport_MODE := long
passthru_MODE := long
passthru_SRCS := $(GUEST_DIR)/passthru.c
exitport_SRCS := $(GUEST_DIR)/exitport.c
attack_SRCS := $(GUEST_DIR)/attack.c
vm86lm_SRCS := $(GUEST_DIR)/vm86lm.c
crashme_SRCS := $(GUEST_DIR)/crashme.c $(GUEST_DIR)/crashme-entry.S
nmi_SRCS := $(GUEST_DIR)/nmi.c
timers_MODE := long
timers_SRCS := $(GUEST_DIR)/timers.c
apic_MODE := long
apic_SRCS := $(GUEST_DIR)/apic.c
pic-real_MODE := real
pic-real_SRCS := $(GUEST_DIR)/pic-real.c
x2apic_MODE := long
x2apic_SRCS := $(GUEST_DIR)/x2apic.c
reset_MODE := long
reset_SRCS := $(GUEST_DIR)/reset.c
triplefault_MODE := long
triplefault_SRCS := $(GUEST_DIR)/triplefault.c
watchdog_MODE := long
drbp_MODE := long
drbp_SRCS := $(GUEST_DIR)/drbp.c
watchdog_SRCS := $(GUEST_DIR)/watchdog.c
dirtylog_MODE := long
dirtylog_SRCS := $(GUEST_DIR)/dirtylog.c
vstate_MODE := long
vstate_SRCS := $(GUEST_DIR)/vstate.c
paging_MODE := long
paging_SRCS := $(GUEST_DIR)/paging.c $(GUEST_DIR)/lib/ring3.c
tscscale_MODE := long
tscscale_SRCS := $(GUEST_DIR)/tscscale.c
hltwake_MODE := long
hltwake_SRCS := $(GUEST_DIR)/hltwake.c
level_MODE := long
level_SRCS := $(GUEST_DIR)/level.c
inject_MODE := long
inject_SRCS := $(GUEST_DIR)/inject.c $(GUEST_DIR)/lib/ring3.c
conform_MODE := long
conform_SRCS := $(GUEST_DIR)/conform.c $(GUEST_DIR)/lib/ring3.c
multiboot_MODE := prot
multiboot_SRCS := $(GUEST_DIR)/multiboot.c $(GUEST_DIR)/lib/multiboot-entry.S
# The same kernel linked at 0x8000, inside the loader's usual area (as
# real-mode test kernels are): <name>_LOAD overrides the mode's address.
multiboot-low_MODE := prot
multiboot-low_LOAD := 0x8000
multiboot-low_SRCS := $(multiboot_SRCS)
highmem_MODE := prot
highmem_SRCS := $(GUEST_DIR)/highmem.c $(GUEST_DIR)/lib/multiboot-entry.S
count_MODE := long
count_SRCS := $(GUEST_DIR)/count.c
badvq_MODE := long
badvq_SRCS := $(GUEST_DIR)/badvq.c
drleak_MODE := long
drleak_SRCS := $(GUEST_DIR)/drleak.c
bench_MODE := long
bench_SRCS := bench/bench.c

GUEST_BINS := $(patsubst %,$(GUEST_OUT)/%.bin,$(GUEST_PROGS))

.PHONY: guests
guests: $(GUEST_BINS)

# Objects per mode: build/guests/obj/<mode>/<source>.o
define guest_mode_rules
$(GUEST_OUT)/obj/$(1)/%.c.o: %.c | $(SETUP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(GUEST_CFLAGS) $$(GUEST_$(1)_FLAGS) -MMD -MP -c $$< -o $$@

$(GUEST_OUT)/obj/$(1)/%.S.o: %.S | $(SETUP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(GUEST_CFLAGS) $$(GUEST_$(1)_FLAGS) $$(GUEST_ASFLAGS) -MMD -MP -c $$< -o $$@
endef
$(foreach m,real prot long,$(eval $(call guest_mode_rules,$(m))))

define guest_prog_rules
$(1)_OBJS := $$(patsubst %,$(GUEST_OUT)/obj/$$($(1)_MODE)/%.o, \
	$(GUEST_DIR)/lib/start-$$($(1)_MODE).S $$(GUEST_LIB_SRCS) $$($(1)_SRCS))
GUEST_OBJS += $$($(1)_OBJS)

$(GUEST_OUT)/$(1).elf: $$($(1)_OBJS) $(GUEST_DIR)/lib/guest.ld
	$$(GUEST_LD) -m $$(GUEST_$$($(1)_MODE)_EMUL) $$(GUEST_LDFLAGS) \
		--defsym=LOAD_ADDR=$$(or $$($(1)_LOAD),$$(GUEST_$$($(1)_MODE)_LOAD)) -o $$@ $$($(1)_OBJS)

$(GUEST_OUT)/$(1).bin: $(GUEST_OUT)/$(1).elf
	$$(GUEST_OBJCOPY) -O binary $$< $$@
endef
$(foreach p,$(GUEST_PROGS),$(eval $(call guest_prog_rules,$(p))))

-include $(GUEST_OBJS:.o=.d)

# The Linux guest: Debian 12's kernel and a busybox initramfs
# (scripts/build-linux-guest.sh, docs/linux-guest.md), next to the test guests
# so the matrix passes them as modules by name.
LINUX_DIR := $(BUILD)/linux
.PHONY: linux-guest
linux-guest: $(GUEST_OUT)/vmlinuz $(GUEST_OUT)/initrd.gz
$(LINUX_DIR)/.built: scripts/build-linux-guest.sh tools/guest-tsc/guest-tsc.c \
		tools/io-bench/io-bench.c tools/io-bench/run.sh tools/paging-bench/mmap-touch.c \
		tools/paging-bench/run.sh tools/mig-bench/mig-bench.c | $(SETUP)
	@mkdir -p $(LINUX_DIR)
	sh scripts/build-linux-guest.sh $(LINUX_DIR)
	@touch $@
$(GUEST_OUT)/vmlinuz: $(LINUX_DIR)/.built
	@mkdir -p $(GUEST_OUT)
	cp $(LINUX_DIR)/vmlinuz $@
$(GUEST_OUT)/initrd.gz: $(LINUX_DIR)/.built
	@mkdir -p $(GUEST_OUT)
	cp $(LINUX_DIR)/initrd.gz $@

# The RAM disk of the virtio-blk tests (disk=module:disk.img): 24 MiB of
# zeros made at build time, passed as a boot module; nothing committed.
guests: $(GUEST_OUT)/disk.img
$(GUEST_OUT)/disk.img:
	@mkdir -p $(dir $@)
	truncate -s 24M $@
