#!/bin/sh
# Builds the L1 system for `make bench-peer` (bench/README.md, "Side by side
# with KVM"): a Linux that QEMU TCG boots with -cpu qemu64,+svm,+npt (scripts/qemu-svm-cpu.sh), in which
# KVM (kvm_amd on QEMU's emulated AMD-V) runs the exit benchmark guest through
# tools/kvm-runner, then boots the Linux guest with QEMU as its VMM.
#
#   sh bench/peer/build-l1.sh RUNNER IMAGE [OUTDIR [GUEST_DIR]]   (OUTDIR default build/peer, GUEST_DIR build/guests)
#
# Writes OUTDIR/vmlinuz, OUTDIR/initramfs.cpio and OUTDIR/versions.
# The kernel and busybox come from Debian 12's archive with `apt-get download`
# and are unpacked with dpkg-deb -x, nothing is installed: the stock kernel of
# linux-image-amd64, its kvm and kvm_amd modules with their dependencies (as
# `modprobe --show-depends` finds them in the unpacked tree) and busybox from
# busybox-static. The packages and the unpacked kernel are kept in
# OUTDIR/debs and OUTDIR/kernel (delete them to take a newer kernel).
# QEMU is this machine's own (qemu-system-x86, Debian 12's), copied with the
# shared libraries ldd names and the firmware a `-machine pc` boot with
# -kernel loads (SeaBIOS, the VGA BIOS, the e1000's option ROM,
# linuxboot_dma.bin, kvmvapic.bin), at the paths it has here.
#
# The initramfs (uncompressed: the L1 kernel would spend a billion emulated
# instructions inflating it): /init (bench/peer/init), /bin/busybox,
# /lib/modules/*.ko with /lib/modules/order (the load order),
# /bin/kvm-runner and /bench.bin; /usr/bin/qemu-system-x86_64 with
# /lib/x86_64-linux-gnu/*, /lib64/ld-linux-x86-64.so.2 and the firmware under
# /usr/share/qemu, /usr/share/seabios and /usr/lib/ipxe/qemu; the Linux
# guest, GUEST_DIR/vmlinuz and GUEST_DIR/initrd.gz (the files utsuwa boots in
# bench/linux-boot.sh), as /l2/vmlinuz and /l2/initrd.gz; and /bin/utsuwa-tsc,
# taken from that initrd. For make bench-io (bench/io.sh): /io-init
# (bench/peer/io-init, which /init runs instead of the rest with peer.io=1)
# and the tun, bridge and vhost_net modules with their dependencies under
# /lib/modules/io (load order in /lib/modules/io/order), loaded by io-init
# only. For make bench-paging (bench/paging.sh): /paging-init
# (bench/peer/paging-init, run instead with peer.paging=). For make
# bench-migrate (bench/migrate.sh): /migrate-init (bench/peer/migrate-init,
# run instead with peer.migrate=) and the virtio_pci and virtio_net modules
# with their dependencies under /lib/modules/mig, loaded by migrate-init only. It is packed again only when one of these files
# (or this script) changed: their checksums are kept in OUTDIR/inputs.sum.
set -eu

[ $# -ge 2 ] || { sed -n '7p' "$0" | sed 's/^# *//' >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
runner=$1
image=$2
out=${3:-$root/build/peer}
guests=${4:-$root/build/guests}
for f in "$runner" "$image" "$guests/vmlinuz" "$guests/initrd.gz"; do
	[ -s "$f" ] || { echo "build-l1: missing $f (make, make linux-guest)" >&2; exit 2; }
done
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
guests=$(cd "$guests" && pwd)
for t in cpio depmod modprobe gzip ldd sha256sum; do
	command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
	command -v "$t" >/dev/null 2>&1 || {
		echo "build-l1: $t is missing (scripts/setup-deps.sh installs cpio and kmod)" >&2
		exit 2
	}
done
# The L2's VMM: this machine's QEMU, at its real path (QEMU finds its firmware
# relative to /proc/self/exe).
l2qemu=$(command -v qemu-system-x86_64 2>/dev/null) || {
	echo "build-l1: qemu-system-x86_64 is missing (package qemu-system-x86)" >&2
	exit 2
}
l2qemu=$(readlink -f "$l2qemu")

# apt-get download needs the package lists: fetch them if apt knows nothing.
if ! apt-cache show linux-image-amd64 busybox-static >/dev/null 2>&1; then
	echo "build-l1: apt-get update" >&2
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get update -qq
fi

# fetch PACKAGE: its .deb in $out/debs (downloaded once), path on stdout.
fetch() {
	deb=$(ls "$out/debs/$1"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		echo "build-l1: apt-get download $1" >&2
		chmod 755 "$out/debs" # apt's _apt user writes there
		(cd "$out/debs" && apt-get download -qq "$1" >/dev/null 2>"$out/debs/apt.err") || {
			echo "build-l1: apt-get download $1 failed:" >&2
			cat "$out/debs/apt.err" >&2
			exit 1
		}
		deb=$(ls "$out/debs/$1"_*.deb | head -n 1)
	fi
	echo "$deb"
}

# ---- the kernel and its modules ----
if [ ! -s "$out/kernel/.done" ]; then
	meta=$(fetch linux-image-amd64)
	# The metapackage depends on the versioned image, e.g. linux-image-6.1.0-56-amd64.
	pkg=$(dpkg-deb -f "$meta" Depends | tr ',|' '\n\n' | sed 's/(.*//; s/ //g' |
		grep -E '^linux-image-[0-9].*-amd64$' | head -n 1)
	[ -n "$pkg" ] || { echo "build-l1: no kernel in the Depends of $meta" >&2; exit 1; }
	deb=$(fetch "$pkg")
	echo "build-l1: unpacking $pkg $(dpkg-deb -f "$deb" Version)" >&2
	rm -rf "$out/kernel"
	dpkg-deb -x "$deb" "$out/kernel"
	kver=$(ls "$out/kernel/lib/modules" | head -n 1)
	# The package leaves modules.dep to its postinst: make it here.
	depmod -b "$out/kernel" "$kver"
	echo "$kver $pkg $(dpkg-deb -f "$deb" Version)" >"$out/kernel/.done"
fi
read -r kver kpkg kversion <"$out/kernel/.done"
bbdeb=$(fetch busybox-static)

# ---- what goes into the initramfs: "SOURCE PATH-IN-INITRAMFS" a line ----
modprobe -d "$out/kernel" -S "$kver" --show-depends kvm_amd >"$out/modules.deps"
# make bench-io's (bench/io.sh, bench/peer/io-init): tap devices on a bridge
# for the L2 guests' virtio-net, and vhost-net; loaded only by io-init.
for m in tun bridge vhost_net; do
	modprobe -d "$out/kernel" -S "$kver" --show-depends $m
done >"$out/modules-io.deps"
# make bench-migrate's (bench/peer/migrate.sh, bench/peer/migrate-init): the
# L1 machines' own NIC (virtio-net-pci), joined by a socket network; loaded
# only by migrate-init.
for m in virtio_pci virtio_net; do
	modprobe -d "$out/kernel" -S "$kver" --show-depends $m
done >"$out/modules-mig.deps"
man=$out/manifest
{
	echo "$root/bench/peer/init /init"
	echo "$runner /bin/kvm-runner"
	echo "$image /bench.bin"
	# "insmod /path/x.ko [options]" a line, dependencies first; "builtin x" needs nothing.
	sed -n 's/^insmod \([^ ]*\).*/\1/p' "$out/modules.deps" | while read -r ko; do
		echo "$ko /lib/modules/$(basename "$ko")"
	done
	echo "$l2qemu $l2qemu"
	# The shared libraries and the dynamic loader, at the paths ldd gives
	# (/lib/x86_64-linux-gnu is on the loader's built-in search path).
	ldd "$l2qemu" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' |
		while read -r lib; do echo "$(readlink -f "$lib") $lib"; done
	# The firmware of a pc machine booting with -kernel: SeaBIOS, the
	# default VGA's BIOS, the default NIC's (e1000) option ROM, the
	# linuxboot_dma.bin option ROM that starts the kernel, and the VAPIC
	# ROM. Each from the first directory of QEMU's search path (-L help)
	# that has it, put at that path, the file behind a symlink copied.
	fwdirs=$("$l2qemu" -L help 2>/dev/null)
	for fw in bios-256k.bin vgabios-stdvga.bin efi-e1000.rom linuxboot_dma.bin kvmvapic.bin; do
		found=
		for d in $fwdirs; do
			if [ -e "$d/$fw" ]; then
				found="$(readlink -f "$d/$fw") $(readlink -f "$d")/$fw"
				break
			fi
		done
		[ -n "$found" ] || { echo "build-l1: no $fw in QEMU's firmware path (-L help: $(printf '%s\n' "$fwdirs" | tr '\n' ' '))" >&2; exit 1; }
		echo "$found"
	done
	# bench-io: its /init, and its modules under /lib/modules/io, each once.
	echo "$root/bench/peer/io-init /io-init"
	# bench-paging (bench/paging.sh): its /init part.
	echo "$root/bench/peer/paging-init /paging-init"
	sed -n 's/^insmod \([^ ]*\).*/\1/p' "$out/modules-io.deps" | awk '!seen[$0]++' | while read -r ko; do
		echo "$ko /lib/modules/io/$(basename "$ko")"
	done
	# bench-migrate: its /init part and its modules under /lib/modules/mig.
	echo "$root/bench/peer/migrate-init /migrate-init"
	sed -n 's/^insmod \([^ ]*\).*/\1/p' "$out/modules-mig.deps" | awk '!seen[$0]++' | while read -r ko; do
		echo "$ko /lib/modules/mig/$(basename "$ko")"
	done
	echo "$guests/vmlinuz /l2/vmlinuz"
	echo "$guests/initrd.gz /l2/initrd.gz"
} >"$man.tmp" || exit 1
grep -q ' /lib/modules/' "$man.tmp" || { echo "build-l1: no modules for kvm_amd" >&2; exit 1; }
grep -q ' /lib/modules/io/vhost_net.ko$' "$man.tmp" || { echo "build-l1: no modules for bench-io" >&2; exit 1; }
mv "$man.tmp" "$man"

# Pack again only when an input changed (this script, busybox's package, the
# L1 kernel and every file of the manifest).
sum=$( { cat "$man"; cut -d' ' -f1 "$man" | xargs sha256sum "$0" "$bbdeb" "$out/kernel/boot/vmlinuz-$kver"; } |
	sha256sum | cut -d' ' -f1)
if [ -s "$out/initramfs.cpio" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/versions" ] &&
	[ "$(cat "$out/inputs.sum" 2>/dev/null)" = "$sum" ]; then
	echo "build-l1: $out/initramfs.cpio is up to date" >&2
	exit 0
fi

# ---- the initramfs ----
ir=$out/initramfs
rm -rf "$ir" "$out/initramfs.cpio.gz" "$out/inputs.sum"
mkdir -p "$ir/bin" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/tmp" "$ir/lib/modules"
dpkg-deb --fsys-tarfile "$bbdeb" | tar -xO ./bin/busybox >"$ir/bin/busybox"
chmod 755 "$ir/bin/busybox"
ln -s busybox "$ir/bin/sh"
while read -r src dst; do
	mkdir -p "$ir$(dirname "$dst")"
	cp "$src" "$ir$dst"
done <"$man"
sed -n 's|^[^ ]* /lib/modules/\([^/]*\)$|\1|p' "$man" >"$ir/lib/modules/order"
sed -n 's|^[^ ]* /lib/modules/io/||p' "$man" >"$ir/lib/modules/io/order"
sed -n 's|^[^ ]* /lib/modules/mig/||p' "$man" >"$ir/lib/modules/mig/order"
chmod 755 "$ir/init" "$ir/io-init" "$ir/paging-init" "$ir/migrate-init" "$ir/bin/kvm-runner"
ln -s "$l2qemu" "$ir/bin/qemu-system-x86_64"
# utsuwa-tsc (tools/guest-tsc) from the guest's initrd: the L1 reads its TSC
# around the L2 boot with it.
(cd "$ir" && gzip -dc "$guests/initrd.gz" | cpio --quiet -id bin/utsuwa-tsc)
[ -x "$ir/bin/utsuwa-tsc" ] || { echo "build-l1: no bin/utsuwa-tsc in $guests/initrd.gz" >&2; exit 1; }
(cd "$ir" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc --owner=0:0 --reproducible) >"$out/initramfs.cpio.tmp"
mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
cp "$out/kernel/boot/vmlinuz-$kver" "$out/vmlinuz"
{
	echo "kernel $kver ($kpkg $kversion)"
	echo "modules $(tr '\n' ' ' <"$ir/lib/modules/order")"
	echo "busybox $(dpkg-deb -f "$bbdeb" Version)"
	echo "qemu $(${QEMU:-qemu-system-x86_64} --version 2>/dev/null | sed -n '1s/^QEMU emulator version //p')"
	echo "l1-qemu $("$l2qemu" --version 2>/dev/null | sed -n '1s/^QEMU emulator version //p') ($l2qemu, $(grep -c '\.so' "$man") libraries)"
	echo "l2 $(sha256sum "$guests/vmlinuz" | cut -c1-12) vmlinuz, $(sha256sum "$guests/initrd.gz" | cut -c1-12) initrd.gz"
} >"$out/versions"
echo "$sum" >"$out/inputs.sum"
echo "build-l1: $out/vmlinuz ($kver), $out/initramfs.cpio ($(du -m "$out/initramfs.cpio" | cut -f1) MiB;" \
	"$(tr '\n' ' ' <"$ir/lib/modules/order" | sed 's/ $//'); QEMU for the L2)" >&2
