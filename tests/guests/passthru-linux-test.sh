#!/bin/bash
# A Linux VM given one of the machine's NICs by PCI passthrough (pci=, docs/
# passthrough.md) drives it with its own stock driver: interrupts (MSI-X
# re-targeted) and DMA of its rings and buffers, which reach the VM's RAM
# only through the IOMMU (the device's addresses are guest-physical). On
# QEMU's q35 with -i amd (amd-iommu) or -i intel (intel-iommu), the NIC
# (-n e1000e, or -n virtio: virtio-net-pci with iommu_platform=on, so that
# QEMU sends its DMA through the IOMMU) on QEMU's user network:
#   1. the boot log says the function is passed through, with its interrupts
#   2. the guest gets an address by DHCP from QEMU (10.0.2.x/24) on eth0
#   3. it fetches a 1 MiB file from the build machine, SHA-256 intact
#   4. it powers off
# One PASS/FAIL line per check, then "passthru-linux-<iommu>-<nic>: N passed, N failed".
#   passthru-linux-test.sh [-i amd|intel] [-n e1000e|virtio] [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=passthru-linux driver_needs="vmlinuz initrd.gz"
kind=amd nic=e1000e
args=()
while [ $# -gt 0 ]; do
	case $1 in
	-i) kind=$2; shift 2 ;;
	-n) nic=$2; shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
. "$(dirname "$0")/lib/console-driver.sh"
driver_args ${args[@]+"${args[@]}"}
case $kind in
amd | intel) ;;
*) echo "$name: -i amd or -i intel" >&2; exit 2 ;;
esac
case $nic in
e1000e) qdev=e1000e ids='8086:10d3' irqs='MSI-X' ;;
virtio) qdev=virtio-net-pci,disable-legacy=on,iommu_platform=on ids='1af4:1041' irqs='MSI-X' ;;
*) echo "$name: -n e1000e or -n virtio" >&2; exit 2 ;;
esac
name=passthru-linux-$kind-$nic
has() { if grep -qaE -- "$2" "$1"; then ok "$3"; else bad "$3"; fi; }
finish() {
	[ -n "${httpd:-}" ] && kill "$httpd" 2>/dev/null
	# A failure shows why where only this output is kept (CI): what the
	# guest's fetch said and what the hypervisor reported.
	[ "$fail" = 0 ] || [ ! -f "${log:-}" ] ||
		grep -aE '^\[lin\] utsuwa-fetch: |^utsuwa: (vm|iommu|CPU)' "$log" | grep -v ': sha256=' |
		tail -n 20 | sed "s/^/$name: /"
	echo "$name: log in $log"
	echo "$name: $pass passed, $fail failed"
	exit
}
busybox=$root/build/linux/busybox
www=$root/build/passthru-linux-test
mkdir -p "$www" "$log_dir" || exit 2
head -c $((1024 * 1024)) /dev/urandom >"$www/blob"
want=$(sha256sum <"$www/blob" | cut -d' ' -f1)
serve_dir "$busybox" "$www"
[ -n "$port" ] || { bad "busybox httpd listens on 127.0.0.1"; finish; }

log=$log_dir/$name.log
lin='image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=1,pci=00:06.0,expect=0'
cmdline="cmdline=\"console=ttyS0 utsuwa.fetch=http://10.0.2.2:$port/blob\""
run_machine() {
	timeout -k 5 400 "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 2 \
		-machine q35 -device "$kind-iommu" \
		-display none -monitor none -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-netdev user,id=n0 -device "$qdev,netdev=n0,addr=06.0" -kernel "$kernel" \
		-initrd "$guest_dir/vmlinuz,$guest_dir/initrd.gz" \
		-append "exit=qemu vm=lin,$lin,$cmdline" >"$log" 2>&1 </dev/null
}
run_machine
# QEMU 7.2 itself crashed once here (intel-iommu with virtio-net-pci:
# "Segmentation fault" of qemu-system-x86_64, status 139), in one run of four
# that session; the emulator, not the hypervisor. Said, and run once more.
if [ $? = 139 ]; then
	echo "$name: QEMU crashed (SIGSEGV, log kept as $log.crash); running it once more"
	mv "$log" "$log.crash"
	run_machine
fi
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
has "$log" "^iommu: (AMD-Vi|VT-d) on: " "the IOMMU is on"
has "$log" "^utsuwa: vm 'lin': pci=00:06\.0 \($ids\) at slot 16, [0-9]+ interrupt vectors? \($irqs\)" \
	"the $nic NIC is passed through, with $irqs"
has "$log" '^\[lin\] utsuwa-fetch: address=10\.0\.2\.[0-9]+/24$' "an address from QEMU's DHCP server"
has "$log" "^\[lin\] utsuwa-fetch: sha256=$want\$" "wget fetched the file, its SHA-256 the file's"
has "$log" '^utsuwa: vm lin: exited with code 0' "the VM powered off"
finish
