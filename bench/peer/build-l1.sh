#!/bin/sh
# Builds the L1 system for `make bench-peer` (bench/README.md, "Side by side
# with KVM"): a Linux that QEMU TCG boots with -cpu qemu64,+svm,+npt (scripts/qemu-svm-cpu.sh), in which
# KVM (kvm_amd on QEMU's emulated AMD-V) runs the exit benchmark guest through
# tools/kvm-runner.
#
#   sh bench/peer/build-l1.sh RUNNER IMAGE [OUTDIR]     (OUTDIR default build/peer)
#
# Writes OUTDIR/vmlinuz, OUTDIR/initramfs.cpio.gz and OUTDIR/versions.
# Everything comes from Debian 12's archive with `apt-get download` and is
# unpacked with dpkg-deb -x, nothing is installed: the stock kernel of
# linux-image-amd64, its kvm and kvm_amd modules with their dependencies (as
# `modprobe --show-depends` finds them in the unpacked tree) and busybox from
# busybox-static. The packages and the unpacked kernel are kept in
# OUTDIR/debs and OUTDIR/kernel (delete them to take a newer kernel); the
# initramfs is packed again on every call (a second).
#
# The initramfs: /init (bench/peer/init), /bin/busybox, /lib/modules/*.ko
# with /lib/modules/order (the load order), /bin/kvm-runner and /bench.bin.
set -eu

[ $# -ge 2 ] || { sed -n '7p' "$0" | sed 's/^# *//' >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
runner=$1
image=$2
out=${3:-$root/build/peer}
for f in "$runner" "$image"; do
	[ -s "$f" ] || { echo "build-l1: missing $f" >&2; exit 2; }
done
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
for t in cpio depmod modprobe gzip; do
	command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
	command -v "$t" >/dev/null 2>&1 || {
		echo "build-l1: $t is missing (scripts/setup-deps.sh installs cpio and kmod)" >&2
		exit 2
	}
done

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

# ---- the initramfs ----
ir=$out/initramfs
rm -rf "$ir"
mkdir -p "$ir/bin" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/lib/modules"
dpkg-deb --fsys-tarfile "$bbdeb" | tar -xO ./bin/busybox >"$ir/bin/busybox"
chmod 755 "$ir/bin/busybox"
ln -s busybox "$ir/bin/sh"
modprobe -d "$out/kernel" -S "$kver" --show-depends kvm_amd >"$out/modules.deps"
# "insmod /path/x.ko [options]" a line, dependencies first; "builtin x" needs nothing.
sed -n 's/^insmod \([^ ]*\).*/\1/p' "$out/modules.deps" | while read -r ko; do
	cp "$ko" "$ir/lib/modules/"
	basename "$ko" >>"$ir/lib/modules/order"
done
[ -s "$ir/lib/modules/order" ] || { echo "build-l1: no modules for kvm_amd" >&2; exit 1; }
cp "$root/bench/peer/init" "$ir/init"
chmod 755 "$ir/init"
cp "$runner" "$ir/bin/kvm-runner"
cp "$image" "$ir/bench.bin"
(cd "$ir" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc --owner=0:0 --reproducible) | gzip -6 -n >"$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
cp "$out/kernel/boot/vmlinuz-$kver" "$out/vmlinuz"
{
	echo "kernel $kver ($kpkg $kversion)"
	echo "modules $(tr '\n' ' ' <"$ir/lib/modules/order")"
	echo "busybox $(dpkg-deb -f "$bbdeb" Version)"
	echo "qemu $(${QEMU:-qemu-system-x86_64} --version 2>/dev/null | sed -n '1s/^QEMU emulator version //p')"
} >"$out/versions"
echo "build-l1: $out/vmlinuz ($kver), $out/initramfs.cpio.gz ($(tr '\n' ' ' <"$ir/lib/modules/order"| sed 's/ $//'))" >&2
