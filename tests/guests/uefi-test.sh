#!/bin/bash
# UEFI machines (issue 15): make iso's ISO, built with a test VM on its
# command line, booted twice from QEMU's CD-ROM drive:
#   - by OVMF (Debian's ovmf: UEFI firmware; GRUB's x86_64-efi image in the
#     ISO loads utsuwa by Multiboot2 and exits boot services), 2 CPUs: utsuwa
#     says the firmware is UEFI, takes its memory map from the EFI memory map
#     tag and the RSDP from the loader's ACPI tag (it reads no BIOS area),
#     puts the AP start-up code in a page the map says is free, brings both
#     CPUs up, and the test VM (basic-long on 2 vCPUs) passes;
#   - by SeaBIOS (QEMU's default), the same ISO: BIOS still boots, with the
#     Multiboot2 memory map tag.
# Prints one PASS/FAIL line per check and "uefi: N passed, N failed".
#
# Usage: uefi-test.sh -k build/utsuwa.elf -g build/guests -o build/guests/logs
# (-k is not used: the ISO is make iso's, with the Makefile's build/utsuwa.elf)
set -u
name=uefi driver_needs="basic-long.bin"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"

ovmf=/usr/share/OVMF
dir=$root/build/uefi
iso=$dir/utsuwa.iso
cfg='exit=qemu vm=long,image=basic-long.bin,mode=long,mem=16M,cpus=2,arg=2,expect=0'
for f in "$ovmf/OVMF_CODE.fd" "$ovmf/OVMF_VARS.fd"; do
	[ -f "$f" ] || driver_abort "missing $f (scripts/setup-deps.sh installs ovmf)"
done
mkdir -p "$dir" || exit 2

# ---- the ISO: make iso's rule, our configuration, beside the user's ISO ----
rm -f "$iso"
make -C "$root" --no-print-directory iso ISO="$iso" ISO_ROOT="$dir/iso" \
	ISO_CONFIG="$cfg" ISO_IMAGES=basic-long >"$dir/make-iso.out" 2>&1 ||
	driver_abort "make iso failed (see $dir/make-iso.out)"
xorriso -indev "$iso" -report_el_torito plain 2>/dev/null | grep -q 'boot img.*UEFI'
check $? "the ISO has a UEFI El Torito boot image"

# ---- OVMF: the firmware's variable store is a copy, written by the firmware ----
cp "$ovmf/OVMF_VARS.fd" "$dir/OVMF_VARS.fd" || exit 2
DRIVER_QEMU_ARGS="-drive if=pflash,format=raw,readonly=on,file=$ovmf/OVMF_CODE.fd
	-drive if=pflash,format=raw,file=$dir/OVMF_VARS.fd"
driver_start_iso "$log_dir/uefi-ovmf.log" 150 2 "$iso"
wait_for 'utsuwa: all VMs ended' 140
check $? "OVMF: GRUB EFI boots utsuwa and its VM ends"
driver_wait
log=$(since)
grep -aq '^boot: UEFI firmware (EFI system table at 0x[0-9a-f]*[1-9a-f][0-9a-f]*)' <<<"$log"
check $? "OVMF: utsuwa knows the firmware is UEFI (the EFI system table tag)"
grep -aq '^boot: memory map from the EFI memory map tag (Multiboot2 tag 17, [1-9][0-9]* descriptors)' <<<"$log"
check $? "OVMF: the memory map comes from the EFI memory map tag"
grep -aq "^acpi: RSDP from the loader's copy (Multiboot2 tag 1[45]" <<<"$log" &&
	! grep -aq '^acpi: RSDP at ' <<<"$log"
check $? "OVMF: the RSDP comes from the loader's ACPI tag, not a BIOS-area scan"
grep -aq '^smp: start-up code at 0x[0-9a-f]*000, a page the memory map says is free' <<<"$log"
check $? "OVMF: the AP start-up code is in a free page below 1 MiB"
grep -aq '^smp: 2 of 2 CPUs online' <<<"$log"
check $? "OVMF: both CPUs come up"
grep -aq 'utsuwa: all VMs ended: 1 as expected, 0 not' <<<"$log" && [ "$emu_rc" = 1 ]
check $? "OVMF: the test VM passes (QEMU exit status $emu_rc, 1 expected)"

# ---- SeaBIOS: the same ISO on a BIOS machine ----
DRIVER_QEMU_ARGS=
set_mark
driver_start_iso "$log_dir/uefi-seabios.log" 120 2 "$iso"
mark=0
wait_for 'utsuwa: all VMs ended' 110
check $? "SeaBIOS: GRUB (i386-pc) boots the same ISO and its VM ends"
driver_wait
log=$(since)
grep -aq '^boot: memory map from the memory map tag (Multiboot2 tag 6)' <<<"$log" &&
	! grep -aq '^boot: UEFI firmware' <<<"$log"
check $? "SeaBIOS: a BIOS boot, the memory map from the Multiboot2 memory map tag"
grep -aq '^smp: 2 of 2 CPUs online' <<<"$log" &&
	grep -aq 'utsuwa: all VMs ended: 1 as expected, 0 not' <<<"$log" && [ "$emu_rc" = 1 ]
check $? "SeaBIOS: both CPUs come up and the test VM passes (QEMU exit status $emu_rc)"
driver_end
