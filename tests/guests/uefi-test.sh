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
# Both times the log is on the screen too (a machine without a serial port):
# GRUB leaves a GOP framebuffer on UEFI and EGA text on BIOS (Multiboot2 tag
# 8); the machine is stopped for a moment through QEMU's monitor to compare
# the screen with what utsuwa wrote to the serial line: the first line of the
# RGB screen pixel by pixel against the font, every row of the EGA screen
# against the serial log (tests/guests/lib/screen-check.sh).
# Prints one PASS/FAIL line per check and "uefi: N passed, N failed".
#
# Usage: uefi-test.sh -k build/utsuwa.elf -g build/guests -o build/guests/logs
# (-k is not used: the ISO is make iso's, with the Makefile's build/utsuwa.elf)
set -u
name=uefi driver_needs="basic-long.bin"
. "$(dirname "$0")/lib/console-driver.sh"
. "$(dirname "$0")/lib/screen-check.sh"
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
screen_monitor_args || driver_abort "no free TCP port for QEMU's monitor"
DRIVER_QEMU_ARGS="-drive if=pflash,format=raw,readonly=on,file=$ovmf/OVMF_CODE.fd
	-drive if=pflash,format=raw,file=$dir/OVMF_VARS.fd $screen_args"
driver_start_iso "$log_dir/uefi-ovmf.log" 150 2 "$iso"
screen_open "$dir/monitor-ovmf.out" || driver_abort "QEMU's monitor did not answer"
# The first line on the screen; the machine is stopped before it goes on.
screen_line='console: the log is on the screen too: '
driver_poll=0.05
wait_for "^$screen_line[0-9]+x[0-9]+ RGB framebuffer" 120
check $? "OVMF: the log goes to the GOP framebuffer too (an RGB one, Multiboot2 tag 8)"
rm -f "$dir/screen-ovmf.ppm"
screen_cmd stop
screen_cmd "screendump $dir/screen-ovmf.ppm"
for _ in $(seq 100); do
	grep -aq 'screendump' "$dir/monitor-ovmf.out" && [ -s "$dir/screen-ovmf.ppm" ] &&
		sleep 0.2 && break
	sleep 0.1
done
screen_cmd cont
screen_rgb_row0 "$dir/screen-ovmf.ppm" "$screen_line"
check $? "OVMF: the screen's first line shows '$screen_line' in the 8x16 font"
screen_close
driver_poll=0.2
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
screen_monitor_args || driver_abort "no free TCP port for QEMU's monitor"
DRIVER_QEMU_ARGS=$screen_args
driver_start_iso "$log_dir/uefi-seabios.log" 120 2 "$iso"
mark=0
screen_open "$dir/monitor-seabios.out" || driver_abort "QEMU's monitor did not answer"
driver_poll=0.05
wait_for "^$screen_line[0-9]+x[0-9]+ EGA text framebuffer at 0xb8000" 100
check $? "SeaBIOS: the log goes to the EGA text screen too (Multiboot2 tag 8)"
screen_cmd stop
screen_cmd "xp /4000xb 0xb8000"
for _ in $(seq 50); do
	grep -aq '^0*b8f98: ' <(tr -d '\r' <"$dir/monitor-seabios.out") && break
	sleep 0.1
done
screen_cmd cont
# EGA text scrolls: by now the first line may be gone, but every row is the log's.
screen_ega_mirrors "$dir/monitor-seabios.out" "$log_dir/uefi-seabios.log"
check $? "SeaBIOS: the 80x25 text at 0xB8000 shows lines of the serial log"
screen_close
driver_poll=0.2
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
