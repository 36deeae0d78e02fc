#!/bin/bash
# PENDING the IOMMU (core/iommu.c, issue 13 part 1): not in make test yet.
#
# A Linux VM given the machine's e1000e by PCI passthrough (pci=, docs/
# passthrough.md) drives it with its own e1000e driver: MSI-X, and DMA of its
# rings and buffers, which reach the VM's RAM only through the IOMMU (the
# device's addresses are guest-physical). On QEMU's q35 with an AMD IOMMU
# (-device amd-iommu) and the NIC on QEMU's user network:
#   1. the boot log says the function is passed through, with the IOMMU
#   2. the guest gets an address by DHCP from QEMU (10.0.2.x/24) on eth0
#   3. it fetches a 1 MiB file from the build machine, SHA-256 intact
#   4. it powers off; the function is released
# Needs e1000e in the initramfs (scripts/build-linux-guest.sh's modules=:
# not there yet; add it, with its dependencies, when this test is wired in).
# Without an IOMMU the run would let the NIC DMA to guest-physical addresses
# taken as host-physical ones, so the test refuses to run then (no
# pci_noiommu=1 here, ever).
#   passthru-linux-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=passthru-linux driver_needs="vmlinuz initrd.gz"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
has() { if grep -qaE -- "$2" "$1"; then ok "$3"; else bad "$3"; fi; }
finish() { [ -n "${httpd:-}" ] && kill "$httpd" 2>/dev/null; driver_end; exit; }

if ! grep -qw e1000e "$root/build/linux/modules/list" 2>/dev/null; then
	echo "SKIP $name: the initramfs has no e1000e module (pending: see the header)"
	exit 0
fi
busybox=$root/build/linux/busybox
www=$root/build/passthru-linux-test
mkdir -p "$www" "$log_dir" || exit 2
head -c $((1024 * 1024)) /dev/urandom >"$www/blob"
want=$(sha256sum <"$www/blob" | cut -d' ' -f1)
port= httpd=
for try in 1 2 3 4 5 6 7 8; do
	p=$((20000 + RANDOM % 20000))
	"$busybox" httpd -f -p "127.0.0.1:$p" -h "$www" &
	httpd=$!
	sleep 0.3
	if kill -0 "$httpd" 2>/dev/null; then port=$p; break; fi
	httpd=
done
[ -n "$port" ] || { bad "busybox httpd listens on 127.0.0.1"; finish; }

log=$log_dir/passthru-linux.log
lin='image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=1,pci=00:06.0,expect=0'
cmdline="cmdline=\"console=ttyS0 utsuwa.fetch=http://10.0.2.2:$port/blob\""
timeout -k 5 400 "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 2 \
	-machine q35 -device amd-iommu \
	-display none -monitor none -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
	-netdev user,id=n0 -device e1000e,netdev=n0,addr=06.0 -kernel "$kernel" \
	-initrd "$guest_dir/vmlinuz,$guest_dir/initrd.gz" \
	-append "exit=qemu vm=lin,$lin,$cmdline" >"$log" 2>&1 </dev/null
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
if grep -qa "no IOMMU to confine its DMA" "$log"; then
	bad "an IOMMU is there (pending core/iommu.c: the VM was refused without one)"
	finish
fi
has "$log" "^utsuwa: vm 'lin': pci=00:06\.0 \(8086:10d3\) at slot 16, [0-9]+ interrupt vectors \(MSI-X\)" \
	"the e1000e is passed through, with MSI-X"
has "$log" '^\[lin\] utsuwa-fetch: address=10\.0\.2\.[0-9]+/24$' "an address from QEMU's DHCP server"
has "$log" "^\[lin\] utsuwa-fetch: sha256=$want\$" "wget fetched the file, its SHA-256 the file's"
has "$log" '^utsuwa: vm lin: exited with code 0' "the VM powered off"
finish
