#!/bin/bash
# The machine's NIC as the switch's uplink, under QEMU (AMD-V): QEMU's user
# networking behind a virtio-net-pci NIC that utsuwa drives itself
# (drivers/virtio_net.c, core/uplink.c), or an e1000e (drivers/e1000e.c). A file server runs on the build
# machine (busybox httpd, the guest's own busybox binary, on a free port of
# 127.0.0.1, which QEMU's user network shows guests as 10.0.2.2).
#   1. Two Linux VMs at once each get an address by DHCP from QEMU (two
#      MACs behind one uplink, two leases) and fetch a 4 MiB random file with
#      wget; the SHA-256 must be the file's. The boot log names the NIC and
#      the uplink port; the monitor's net counts frames both ways on it.
#   2. One VM does the same through an Intel e1000e NIC.
#   3. Without a NIC utsuwa drives, the boot says there is no uplink.
# One PASS/FAIL line per check, then "uplink: N passed, N failed".
#   uplink-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=uplink driver_needs="basic-long.bin vmlinuz initrd.gz"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
has() { if grep -qaE -- "$2" "$1"; then ok "$3"; else bad "$3"; fi; }
finish() { [ -n "${httpd:-}" ] && kill "$httpd" 2>/dev/null; driver_end; exit; }

busybox=$root/build/linux/busybox
[ -x "$busybox" ] || { bad "build/linux/busybox present (make linux-guest)"; finish; }
www=$root/build/uplink-test
mkdir -p "$www" "$log_dir" || exit 2
head -c $((4 * 1024 * 1024)) /dev/urandom >"$www/blob"
want=$(sha256sum <"$www/blob" | cut -d' ' -f1)

serve_dir "$busybox" "$www"
[ -n "$port" ] || { bad "busybox httpd listens on 127.0.0.1"; finish; }

# 1. Two VMs through the uplink.
log=$log_dir/uplink.log
lin='image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=1,net,expect=0'
cmdline="cmdline=\"console=ttyS0 utsuwa.fetch=http://10.0.2.2:$port/blob\""
DRIVER_QEMU_ARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" driver_start "$log" 400 2 \
	"exit=halt vm=f1,$lin,$cmdline vm=f2,$lin,$cmdline" "$guest_dir/vmlinuz,$guest_dir/initrd.gz"
wait_for 'utsuwa: all VMs have ended' 360
wait_for 'utsuwa> $' 20
cmd net
out=$(since)
grep -aqE '^port [0-9]+: uplink in [1-9][0-9]* out [1-9][0-9]* ' <<<"$out"
check $? "the monitor's net shows frames both ways on the uplink port"
grep -aqE '^uplink: vnet0: [1-9][0-9]* frames received' <<<"$out"
check $? "the monitor's net shows vnet0 receiving"
driver_cleanup
trap - EXIT
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
has "$log" '^pci: 00:0[0-9a-f]\.0 1af4:10(00|41) class 020000' "the PCI scan lists the NIC"
has "$log" '^vnet0: .*virtio-net: MAC 52:54:00:12:34:56, vector 0x[0-9a-f]+ \(MSI-X' "vnet0 is up, its MAC read, MSI-X"
has "$log" '^uplink: vnet0 \(MAC 52:54:00:12:34:56\) is port [0-9]+ of the switch' "vnet0 is the uplink"
a1=$(sed -n 's/^\[f1\] utsuwa-fetch: address=//p' "$log")
a2=$(sed -n 's/^\[f2\] utsuwa-fetch: address=//p' "$log")
for v in f1 f2; do
	has "$log" "^\[$v\] utsuwa-fetch: address=10\.0\.2\.[0-9]+/24\$" "$v: an address from QEMU's DHCP server"
	has "$log" "^\[$v\] utsuwa-fetch: gateway=10\.0\.2\.2\$" "$v: the default route through QEMU's gateway"
	has "$log" "^\[$v\] utsuwa-fetch: bytes=4194304\$" "$v: wget fetched 4 MiB"
	has "$log" "^\[$v\] utsuwa-fetch: sha256=$want\$" "$v: the SHA-256 is the file's"
	has "$log" "^\[$v\] utsuwa-fetch: dmesg_hits=0" "$v: no warnings in the guest"
	has "$log" "^utsuwa: vm $v: exited with code 0" "$v: powered off"
done
if [ -n "$a1" ] && [ -n "$a2" ] && [ "$a1" != "$a2" ]; then ok "the two VMs got different leases ($a1, $a2)"
else bad "the two VMs got different leases ($a1, $a2)"; fi

# 2. The same through an Intel 82574L (QEMU's e1000e; drivers/e1000e.c): one VM.
log=$log_dir/uplink-e1000e.log
timeout -k 5 300 "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 2 \
	-display none -monitor none -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
	-netdev user,id=n0 -device e1000e,netdev=n0 -kernel "$kernel" \
	-initrd "$guest_dir/vmlinuz,$guest_dir/initrd.gz" \
	-append "exit=qemu vm=e1,$lin,$cmdline" >"$log" 2>&1 </dev/null
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
has "$log" '^e1000e0: 00:0[0-9a-f]\.0 e1000e: MAC 52:54:00:12:34:56, link up, vector 0x[0-9a-f]+ \(MSI-X' "e1000e: e1000e0 is up, its MAC read, MSI-X"
has "$log" '^uplink: e1000e0 \(MAC 52:54:00:12:34:56\) is port [0-9]+ of the switch' "e1000e: e1000e0 is the uplink"
has "$log" "^\[e1\] utsuwa-fetch: address=10\.0\.2\.[0-9]+/24\$" "e1000e: an address from QEMU's DHCP server"
has "$log" "^\[e1\] utsuwa-fetch: sha256=$want\$" "e1000e: wget fetched the file, its SHA-256 the file's"
has "$log" "^utsuwa: vm e1: exited with code 0" "e1000e: the VM powered off"

# 3. No NIC: said, and nothing else changes.
log=$log_dir/uplink-none.log
timeout -k 5 120 "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 2 \
	-display none -monitor none -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
	-net none -kernel "$kernel" -initrd "$guest_dir/basic-long.bin" \
	-append "exit=qemu vm=long,image=basic-long.bin,mode=long,mem=16M,cpus=1,expect=0" >"$log" 2>&1 </dev/null
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
has "$log" '^uplink: none \(no NIC utsuwa drives\)' "no NIC: the boot says there is no uplink"
has "$log" '^utsuwa: vm long: as expected' "no NIC: the VM runs"
finish
