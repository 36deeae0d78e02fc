#!/bin/bash
# make run's persistent disk (README, "make run"), booted as make run boots
# it: the VM configuration and QEMU's disk options come from make
# (print-run-config, print-run-disk-args, print-run-net-args), the image from the same script
# (scripts/make-run-disk.sh), made afresh under build/run-disk-test/. Checks:
#   - the script makes a GPT partition utsuwa-data holding a clean ext4
#   - the guest mounts it at /data and says so, and gets an address by DHCP
#     through make run's NIC (QEMU's user network, the switch's uplink)
#   - a file written there in the shell, then poweroff (busybox init's
#     shutdown unmounts): the file system is clean (e2fsck) and holds the
#     file (debugfs), both read on this side; a second run of the script
#     leaves the image as it is
#   - a second boot (a new QEMU) mounts it again and the shell shows the
#     file's content; its poweroff leaves the file system clean too
# Prints one PASS/FAIL line per check and "run-disk: N passed, N failed".
#   run-disk-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=run-disk driver_needs="vmlinuz initrd.gz"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
PATH=$PATH:/usr/sbin:/sbin # sgdisk, e2fsck, debugfs
finish() { driver_end; exit; }

img_dir=$root/build/run-disk-test img=$root/build/run-disk-test/disk.img
rm -rf "$img_dir"
sh "$root/scripts/make-run-disk.sh" "$img" >/dev/null
check $? "scripts/make-run-disk.sh makes the image" || finish
# make's complaints (under make test -j: the jobserver it cannot reach) go
# to a file, shown if this fails.
cfg=$(make -s --no-print-directory -C "$root" print-run-config 2>"$log_dir/run-disk-make.err") &&
	disk_args=$(make -s --no-print-directory -C "$root" print-run-disk-args RUN_DISK="$img" \
		2>>"$log_dir/run-disk-make.err") &&
	net_args=$(make -s --no-print-directory -C "$root" print-run-net-args \
		RUN_API_PORT=$((20000 + RANDOM % 20000)) \
		2>>"$log_dir/run-disk-make.err") &&
	[ -n "$cfg" ] && [ -n "$disk_args" ] && [ -n "$net_args" ]
check $? "make prints make run's configuration, disk and NIC options" ||
	{ cat "$log_dir/run-disk-make.err"; finish; }
vm=$(sed -n 's/.*vm=\([^,]*\),.*disk=gpt:utsuwa-data.*/\1/p' <<<"$cfg")
[ -n "$vm" ]
check $? "make run's VM ($vm) has disk=gpt:utsuwa-data" || finish
part=$(sgdisk -i 1 "$img")
grep -q "^Partition name: 'utsuwa-data'" <<<"$part"
check $? "the image's GPT has partition 1 named utsuwa-data"
offset=$(($(sed -n 's/^First sector: \([0-9]*\).*/\1/p' <<<"$part") * 512))
fs="$img?offset=$offset" # e2fsprogs' unix I/O manager takes the partition's place so
# clean: e2fsck finds nothing wrong and the file system was unmounted (its
# state clean, no journal left to replay).
clean() {
	e2fsck -fn "$fs" >"$log_dir/run-disk-e2fsck.out" 2>&1 &&
		dumpe2fs -h "$fs" 2>/dev/null | grep -q '^Filesystem state: *clean$' &&
		! dumpe2fs -h "$fs" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'
}
clean
check $? "the partition holds a clean ext4 (e2fsck -fn)"

prompt='utsuwa-guest:/# '
token=utsuwa-run-disk-$RANDOM$RANDOM
seq_md5=$(seq 1 100000 | md5sum | cut -d' ' -f1)
# boot N: make run's configuration and disk in QEMU, on 2 CPUs (make run has
# 4; the build machine shares 2), up to 300 s; the guest's shell ready.
boot() {
	rm -f "$work/in"
	DRIVER_QEMU_ARGS="$disk_args $net_args" driver_start "$log_dir/run-disk-$1.log" 300 2 "$cfg" \
		"$guest_dir/vmlinuz,$guest_dir/initrd.gz"
	mark=0
	wait_for "^utsuwa-guest: /data is the VM's disk \(ext4, [0-9]+ MiB free\)" 200
	check $? "boot $1: the guest mounts the disk at /data and says so"
	wait_for '^utsuwa-guest: eth0 10\.0\.2\.[0-9]+/24 by DHCP' 60
	check $? "boot $1: the guest gets an address by DHCP through the uplink"
	wait_for "$prompt" 60
}
# power_off N: the shell's poweroff ends the VM; then QEMU is ended (exit=halt
# keeps the hypervisor's monitor up).
power_off() {
	set_mark
	type_keys $'poweroff\r'
	wait_for "^utsuwa: vm $vm: (powered off|exited)" 90
	check $? "boot $1: poweroff in the shell ends the VM"
	exec 3>&-
	kill "$emu_pid" 2>/dev/null
	wait "$emu_pid" 2>/dev/null
	emu_pid=
}

t0=$SECONDS
boot 1
set_mark
type_keys "echo $token >/data/hello.txt; seq 1 100000 >/data/seq.txt; echo written-\$((6*7))"$'\r'
wait_for '^written-42' 60
check $? "boot 1: files written in /data from the shell"
power_off 1
clean
check $? "after poweroff: the file system is clean (unmounted at shutdown)"
[ "$(debugfs -R 'cat /hello.txt' "$fs" 2>/dev/null)" = "$token" ]
check $? "after poweroff: /hello.txt is in the image, as written"
sh "$root/scripts/make-run-disk.sh" "$img" >/dev/null &&
	[ "$(debugfs -R 'cat /hello.txt' "$fs" 2>/dev/null)" = "$token" ]
check $? "make-run-disk.sh leaves an existing image alone"

boot 2
set_mark
type_keys $'cat /data/hello.txt; md5sum /data/seq.txt; echo read-$((6*7))\r'
wait_for '^read-42' 60
since | grep -aqx "$token"
check $? "boot 2: the file written before poweroff reads back ($token)"
since | grep -aqE "^$seq_md5  /data/seq.txt\$"
check $? "boot 2: the 588,895-byte file reads back (md5 as written)"
power_off 2
clean
check $? "after the second poweroff: the file system is clean"
echo "$name: two boots in $((SECONDS - t0)) s"
finish
