#!/bin/bash
# The machine's disk through utsuwa's own drivers, booted under QEMU (AMD-V):
# GPT disk images made here with sgdisk (package gdisk), attached as QEMU's
# NVMe controller (and virtio-blk-pci), with a trivial VM. Checks that the
# boot log lists the disk and its partitions by name, that the self-test
# (disktest=gpt:scratch: 16 writes in flight, flush, read back, completion
# by MSI-X) passes and its data reached the image, that a damaged primary
# GPT falls back to the backup (on a q35 machine, the controller behind a
# PCIe root port), that a disk with both tables damaged is
# reported and not used, that a boot without disks is as before, and that
# data survives power-off: two Linux VMs on partitions of the two disks
# (disk=gpt:<name>) write 64 MiB each and its checksum and power off (the
# bytes land in the images), and two new VMs in a second QEMU run on the same
# images read it back and verify it.
# One PASS/FAIL line per check, then "disk-boot: N passed, N failed".
#   disk-boot-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=disk-boot driver_needs="basic-long.bin vmlinuz initrd.gz"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
has() { if grep -qaE -- "$2" "$1"; then ok "$3"; else bad "$3"; fi; }
hasnt() { if grep -qaE -- "$2" "$1"; then bad "$3"; else ok "$3"; fi; }
finish() { driver_end; exit; }

guest=$guest_dir/basic-long.bin
command -v sgdisk >/dev/null || { bad "sgdisk present (sh scripts/setup-deps.sh)"; finish; }
img_dir=$root/build/disk-test
mkdir -p "$img_dir" "$log_dir" || exit 2
vm="vm=long,image=basic-long.bin,mode=long,mem=16M,cpus=1,expect=0"
MiB=$((1024 * 1024))

# A 64 MiB disk: <prefix>scratch (8 MiB, the self-test's), <prefix>data (16 MiB).
make_image() {
	rm -f "$1" && truncate -s 64M "$1" &&
		sgdisk -n 1:2048:+8M -c "1:${2:-}scratch" -n 2:0:+16M -c "2:${2:-}data" "$1" >/dev/null
}
# Whether image $1 has the self-test's pattern in its scratch partition's
# first MiB and nothing written after it.
pattern_only_there() {
	[ "$(dd if="$1" bs=512 skip=2048 count=2048 status=none | tr -d '\0' | wc -c)" -ge $((MiB / 2)) ] &&
	[ "$(dd if="$1" bs=512 skip=4096 count=16384 status=none | tr -d '\0' | wc -c)" = 0 ] &&
	[ "$(dd if="$1" bs=512 skip=18432 count=32768 status=none | tr -d '\0' | wc -c)" = 0 ]
}
# Overwrites 16 bytes at LBA $2 of image $1 (a header's signature and revision).
damage() { printf 'XXXXXXXXXXXXXXXX' | dd of="$1" bs=1 seek=$(($2 * 512)) conv=notrunc status=none; }
last_lba() { echo $(($(stat -c %s "$1") / 512 - 1)); }

# boot LOG APPEND QEMU-ARGS...: one boot, up to 300 s; $vm the VMs, $mods their files.
boot() {
	local log=$1 append=$2
	shift 2
	timeout -k 5 300 "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G \
		-smp 2 -display none -monitor none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" -kernel "$kernel" \
		-append "exit=qemu $append $vm" -initrd "${mods:-$guest}" >"$log" 2>&1 </dev/null
	tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
}
nvme() { echo -drive "file=$1,if=none,id=d$2,format=raw" -device "nvme,serial=utsuwa$2,drive=d$2${3:+,bus=$3}"; }
vblk() { echo -drive "file=$1,if=none,id=d$2,format=raw" -device "virtio-blk-pci,drive=d$2"; }

# 1. A good disk on NVMe and one on virtio-blk-pci, with the self-test on
# each scratch partition; exit=halt keeps the monitor, where `disks` lists them.
img=$img_dir/good.img vimg=$img_dir/vgood.img log=$log_dir/disk-boot-nvme.log
make_image "$img" && make_image "$vimg" v || { bad "sgdisk makes the images"; finish; }
DRIVER_QEMU_ARGS="$(nvme "$img" 0) $(vblk "$vimg" 1)" driver_start "$log" 300 2 \
	"exit=halt disktest=gpt:scratch disktest=gpt:vscratch $vm" "$guest"
wait_for 'utsuwa: vm long: exited' 240
wait_for 'utsuwa> $' 20
cmd disks
out=$(since)
grep -aqE '^  gpt:scratch +8 MiB  rw  - +partition of nvme0' <<<"$out"
check $? "nvme: the monitor's disks lists gpt:scratch (8 MiB, rw, unused)"
grep -aqE '^  nvme0 +64 MiB  rw  - ' <<<"$out"
check $? "nvme: the monitor's disks lists nvme0"
driver_cleanup
trap - EXIT
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
has "$log" '^pci: 00:0[0-9a-f]\.0 1b36:0010 class 010802 \(NVMe\)' "nvme: the PCI scan lists the controller"
has "$log" '^nvme0: .*serial "utsuwa0".*64 MiB \(131072 sectors\).*MSI-X' "nvme: nvme0 registered, 64 MiB, MSI-X"
has "$log" '^gpt: nvme0: partition 1 gpt:scratch: sectors 2048-18431' "nvme: partition gpt:scratch listed"
has "$log" '^gpt: nvme0: partition 2 gpt:data: sectors 18432-51199' "nvme: partition gpt:data listed"
has "$log" '^gpt: nvme0: 2 partitions from the primary table' "nvme: read from the primary table"
has "$log" '^disktest: gpt:scratch: PASS' "nvme: self-test (writes in flight, flush, read back) passes"
if pattern_only_there "$img"; then
	ok "nvme: the pattern is in the image's first MiB of scratch, nothing outside it"
else
	bad "nvme: the pattern is in the image's first MiB of scratch, nothing outside it"
fi
has "$log" '^pci: 00:0[0-9a-f]\.0 1af4:10(01|42) class 010000' "virtio: the PCI scan lists the device"
has "$log" '^vblk0: .*virtio-blk: 64 MiB \(131072 sectors\).*MSI-X' "virtio: vblk0 registered, 64 MiB, MSI-X"
has "$log" '^gpt: vblk0: partition 1 gpt:vscratch: sectors 2048-18431' "virtio: partition gpt:vscratch listed"
has "$log" '^gpt: vblk0: partition 2 gpt:vdata: sectors 18432-51199' "virtio: partition gpt:vdata listed"
has "$log" '^disktest: gpt:vscratch: PASS' "virtio: self-test passes"
if pattern_only_there "$vimg"; then
	ok "virtio: the pattern is in the image's first MiB of vscratch, nothing outside it"
else
	bad "virtio: the pattern is in the image's first MiB of vscratch, nothing outside it"
fi
has "$log" '^utsuwa: vm long: exited with code 0' "nvme+virtio: the VM runs"

# 2. The primary header damaged: the backup is used. On a q35 machine with
# the controller behind a PCIe root port: found across the bridge.
img=$img_dir/primary-damaged.img log=$log_dir/disk-boot-backup.log
make_image "$img" && damage "$img" 1
boot "$log" "" -machine q35 -device pcie-root-port,id=rp1,chassis=1 $(nvme "$img" 0 rp1)
has "$log" '^pci: 0[1-9a-f]:00\.0 1b36:0010 class 010802 \(NVMe\)' "backup: the controller is found behind a PCIe root port"
has "$log" "^gpt: nvme0: the primary GPT header has no 'EFI PART' signature; using the backup" "backup: the damage is reported"
has "$log" '^gpt: nvme0: partition 2 gpt:data' "backup: partitions listed from the backup"
has "$log" '^gpt: nvme0: 2 partitions from the backup table' "backup: read from the backup table"

# 3. Both headers damaged: reported, the disk not used (no partitions).
img=$img_dir/both-damaged.img log=$log_dir/disk-boot-damaged.log
make_image "$img" && damage "$img" 1 && damage "$img" "$(last_lba "$img")"
boot "$log" "disktest=gpt:scratch" $(nvme "$img" 0)
has "$log" '^gpt: nvme0: the primary GPT header .* and the backup .*: the disk is not used' "damaged: both tables reported bad"
hasnt "$log" '^gpt: nvme0: partition' "damaged: no partition registered"
has "$log" '^disktest: gpt:scratch: FAIL: no such blockdev' "damaged: its partitions cannot be used"
has "$log" '^utsuwa: vm long: as expected' "damaged: the VM runs"

# 4. No disk: no driver, nothing registered, the VM as before.
log=$log_dir/disk-boot-none.log
boot "$log" ""
has "$log" '^pci: [0-9]+ functions' "none: the PCI scan runs"
hasnt "$log" '^(nvme|vblk)[0-9]|^gpt:' "none: no disk, no partitions"
has "$log" '^utsuwa: vm long: as expected' "none: the VM runs"

# 5. Data survives power-off, checked by other VMs: in a first boot, Linux
# VMs on partitions of both disks (disk=gpt:<name>, the VM side's virtio-blk)
# each write 64 MiB of random data with O_DIRECT and fsync and its SHA-256 in
# a header block after it (the initramfs's utsuwa-disk, utsuwa.disk=write),
# then power off, and QEMU ends. The bytes are then in the images, at the
# partitions' places. A second QEMU on the same image files starts new VMs
# (other names) on the same partitions, which read the data back and compare
# it with the stored sum (utsuwa.disk=verify).
# Disks of 128 MiB (sparse): scratch 8 MiB, data 72 MiB (sectors 18432-165887).
img=$img_dir/linux.img vimg=$img_dir/vlinux.img
for f in "$img":"" "$vimg":v; do
	rm -f "${f%%:*}" && truncate -s 128M "${f%%:*}" &&
		sgdisk -n 1:2048:+8M -c "1:${f#*:}scratch" -n 2:0:+72M -c "2:${f#*:}data" "${f%%:*}" >/dev/null ||
		bad "sgdisk makes ${f%%:*}"
done
lin='image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=1,expect=0'
linux_boot() { # linux_boot LOG MODE NVME-VM VIRTIO-VM: one QEMU, one VM on each disk
	local c="cmdline=\"console=ttyS0 utsuwa.disk=$2\""
	vm="vm=$3,$lin,disk=gpt:data,$c vm=$4,$lin,disk=gpt:vdata,$c" \
		mods="$guest_dir/vmlinuz,$guest_dir/initrd.gz" boot "$1" "" $(nvme "$img" 0) $(vblk "$vimg" 1)
}
# The facts every Linux VM here prints: its disk, nothing past its end, a clean log, a clean end.
linux_facts() { # linux_facts LOG VM PARTITION
	has "$1" "^\[$2\] utsuwa-disk: serial=gpt:$3\$" "linux $2: its disk is gpt:$3"
	has "$1" "^\[$2\] utsuwa-disk: ro=0\$" "linux $2: its disk is writable"
	has "$1" "^\[$2\] utsuwa-disk: irq=PCI-MSI" "linux $2: its disk interrupts by MSI-X"
	has "$1" "^\[$2\] utsuwa-disk: past_end_bytes=0\$" "linux $2: nothing read past its partition"
	has "$1" "^\[$2\] utsuwa-disk: dmesg_hits=0\$" "linux $2: no I/O errors or warnings"
	has "$1" "^utsuwa: vm $2: as expected" "linux $2: powered off, as expected"
}
log=$log_dir/disk-boot-linux.log
t0=$SECONDS
linux_boot "$log" write wn wv
t1=$SECONDS
log2=$log_dir/disk-boot-linux-verify.log
linux_boot "$log2" verify rn rv
echo "$name: linux write boot $((t1 - t0)) s, verify boot $((SECONDS - t1)) s"
for v in wn:rn:data:"$img" wv:rv:vdata:"$vimg"; do
	IFS=: read -r w r part file <<<"$v"
	linux_facts "$log" "$w" "$part"
	has "$log" "^\[$w\] utsuwa-disk: header_written=yes" "linux $w: 64 MiB and its checksum written"
	hasnt "$log" "^\[$w\] utsuwa-disk: write_error" "linux $w: no write error"
	sum=$(sed -n "s/^\[$w\] utsuwa-disk: written=//p" "$log")
	h=$(dd if="$file" bs=512 skip=18432 count=131072 status=none | sha256sum | cut -d' ' -f1)
	hdr=$(dd if="$file" bs=512 skip=$((18432 + 131072)) count=1 status=none | tr -d '\0' | head -n 1)
	if [ -n "$sum" ] && [ "$sum" = "$h" ] && [ "$hdr" = "utsuwa-disk bytes=67108864 sha256=$sum" ]; then
		ok "linux $w: the data and its checksum are in the image's partition"
	else
		bad "linux $w: the data and its checksum are in the image's partition"
	fi
	linux_facts "$log2" "$r" "$part"
	has "$log2" "^\[$r\] utsuwa-disk: stored=$sum\$" "linux $r (a new VM, after power-off): reads $w's checksum"
	has "$log2" "^\[$r\] utsuwa-disk: verify=yes\$" "linux $r: the 64 MiB read back match it"
done
finish
