# utsuwa — plain GNU Make. See README.md.
#   make          build/utsuwa.elf (Multiboot v1 for QEMU -kernel, Multiboot2 for GRUB)
#                 and build/utsuwactl (the management API's CLI, mk/utsuwactl.mk)
#   make iso      build/utsuwa.iso (GRUB, for Bochs and real machines, BIOS and UEFI)
#   make run      boot the default VMs in QEMU, console attached
#   make test     host unit tests, then the guest test matrix
#   make bench    the exit benchmark under QEMU icount

BUILD := build
CC := gcc
SETUP := $(BUILD)/.deps-ok

# ---- the hypervisor (freestanding) ----
HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -fno-builtin -fno-stack-protector -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-strict-aliasing \
	-Iinclude -Iarch/x86/include -I. -flto=auto
HV_ASFLAGS := -Iinclude -Iarch/x86/include -I. -D__ASSEMBLY__
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
	-Wl,--build-id=none -Wl,--no-warn-rwx-segments -T arch/x86/boot/linker.ld

# Every .c/.S under these directories is part of the image.
HV_DIRS := arch/x86/boot arch/x86 arch/x86/emul arch/x86/mmu arch/x86/svm arch/x86/vmx core devices drivers loaders lib
HV_SRCS := $(foreach d,$(HV_DIRS),$(wildcard $(d)/*.c) $(wildcard $(d)/*.S))
HV_OBJS := $(patsubst %,$(BUILD)/hv/%.o,$(HV_SRCS))
# V=1 shows the commands.
Q := $(if $(V),,@)

.PHONY: all iso run test unit guests bench clean setup
all: $(BUILD)/utsuwa.elf
include mk/lwip.mk
include mk/font.mk

setup: $(SETUP)
$(SETUP): scripts/setup-deps.sh
	@mkdir -p $(BUILD)
	sh scripts/setup-deps.sh
	@touch $@

$(BUILD)/hv/%.c.o: %.c | $(SETUP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/hv/%.S.o: %.S | $(SETUP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(HV_ASFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/utsuwa.elf: $(HV_OBJS) $(LWIP_OBJS) arch/x86/boot/linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HV_CFLAGS) $(HV_LDFLAGS) -o $@ $(HV_OBJS) $(LWIP_OBJS)

-include $(HV_OBJS:.o=.d)

# jsmn (Debian's libjsmn-dev) is a header in /usr/include, which the
# freestanding build does not search: core/api_json.c alone gets it, after
# every other directory, so no libc header can stand in for the compiler's.
$(BUILD)/hv/core/api_json.c.o: HV_CFLAGS += -idirafter /usr/include

# ---- host unit tests (ASan + UBSan, same sources) ----
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-DHOST_TEST -Iinclude -Iarch/x86/include -I. -Itests/unit
UNIT_TESTS :=
# Each tests/unit/<name>.mk adds <name> to UNIT_TESTS and sets <name>_SRCS.
include $(wildcard tests/unit/*.mk)

UNIT_BINS := $(patsubst %,$(BUILD)/unit/%,$(UNIT_TESTS))
define unit_rule
$(BUILD)/unit/$(1): $$($(1)_SRCS) $$(wildcard include/hv/*.h) tests/unit/unit.h | $(SETUP)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  HOSTCC  $$@")
	$$(Q)$$(CC) $$(UNIT_CFLAGS) -o $$@ $$($(1)_SRCS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

unit: $(UNIT_BINS)
	@sh tests/unit/run-all.sh $(UNIT_BINS)

clean:
	rm -rf $(BUILD)

include tests/guests/guests.mk
include mk/utsuwactl.mk
include mk/run.mk
include mk/peer.mk
include mk/bochs.mk
include mk/fuzz.mk
include $(wildcard mk/fuzz_*.mk)

# ---- GRUB ISO (Bochs, real machines, BIOS and UEFI) ----
# The ISO boots utsuwa through Multiboot2 with the test guests as modules;
# ISO_CONFIG is the command line (docs/config.md). With both grub-pc-bin and
# grub-efi-amd64-bin installed, grub-mkrescue writes a hybrid image: El Torito
# entries for BIOS (i386-pc) and for UEFI (an EFI system partition image with
# GRUB's x86_64-efi BOOTX64.EFI), and a GPT/MBR for USB sticks. ISO and
# ISO_ROOT (its staging tree) let a test build its own ISO beside the user's
# (tests/guests/uefi-test.sh); the rule does not track ISO_CONFIG, so a
# caller that changes it removes the ISO first. On UEFI, grub.cfg loads
# efi_gop so that GRUB sets a graphics mode and passes it to utsuwa (tag 8)
# for its log on the screen; a BIOS GRUB leaves EGA text.
ISO_CONFIG ?= vm=long,image=basic-long.bin,mode=long,mem=16M,cpus=1 \
	vm=prot,image=basic-prot.bin,mode=prot,mem=16M,cpus=1 \
	vm=real,image=basic-real.bin,mode=real,mem=16M,cpus=1
ISO_IMAGES ?= basic-real basic-prot basic-long
ISO ?= $(BUILD)/utsuwa.iso
ISO_ROOT ?= $(BUILD)/iso

iso: $(ISO)
$(ISO): $(BUILD)/utsuwa.elf $(patsubst %,$(GUEST_OUT)/%.bin,$(ISO_IMAGES)) | $(SETUP)
	rm -rf $(ISO_ROOT) && mkdir -p $(ISO_ROOT)/boot/grub
	cp $(BUILD)/utsuwa.elf $(ISO_ROOT)/boot/
	cp $(patsubst %,$(GUEST_OUT)/%.bin,$(ISO_IMAGES)) $(ISO_ROOT)/boot/
	{ echo 'set timeout=0'; echo 'set default=0'; \
	  echo 'serial --unit=0 --speed=115200'; echo 'terminal_output serial console'; \
	  echo 'if [ "$$grub_platform" = efi ]; then insmod efi_gop; fi'; \
	  echo 'menuentry "utsuwa" {'; \
	  echo '  multiboot2 /boot/utsuwa.elf $(strip $(ISO_CONFIG))'; \
	  $(foreach i,$(ISO_IMAGES),echo '  module2 /boot/$(i).bin $(i).bin';) \
	  echo '}'; } > $(ISO_ROOT)/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(ISO_ROOT) 2>/dev/null
