#!/bin/sh
# Makes the disk image `make run` gives its Linux VM (README, "make run"): a
# sparse file with a GPT holding one partition named utsuwa-data, which holds
# an ext4 file system made here by mkfs.ext4 (-E offset writes it at the
# partition's place in the file: no root, no loop device). The guest mounts it
# at /data (docs/linux-guest.md). An image that exists is left as it is, so
# what the VM wrote stays; delete it to start over. tests/guests/run-disk-test.sh
# makes its own image with this script.
#   sh scripts/make-run-disk.sh [IMAGE [SIZE]]    (default build/run/disk.img, 256M)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
img=${1:-$root/build/run/disk.img} size=${2:-256M}
[ -e "$img" ] && exit 0
# sgdisk (gdisk) and mkfs.ext4 (e2fsprogs) live in /usr/sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
command -v sgdisk >/dev/null && command -v mkfs.ext4 >/dev/null ||
	sh "$root/scripts/setup-deps.sh"
mkdir -p "$(dirname "$img")"
tmp=$img.tmp
trap 'rm -f "$tmp"' EXIT INT TERM
rm -f "$tmp"
truncate -s "$size" "$tmp"
# One partition from 1 MiB to the end of the usable area.
sgdisk -n 1:2048:0 -c 1:utsuwa-data -t 1:8300 "$tmp" >/dev/null
first=$(sgdisk -i 1 "$tmp" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
last=$(sgdisk -i 1 "$tmp" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
[ -n "$first" ] && [ -n "$last" ] || { echo "make-run-disk: sgdisk made no partition in $tmp" >&2; exit 1; }
# The size in KiB bounds the file system to the partition (mkfs.ext4 would
# otherwise measure the file, ignoring the offset). The guest's only user is
# root: no blocks are held back for root, and the root directory is root's
# (it would otherwise be the builder's).
mkfs.ext4 -q -F -L utsuwa-data -m 0 -E "offset=$((first * 512)),root_owner=0:0" \
	"$tmp" "$(((last - first + 1) / 2))k"
mv "$tmp" "$img"
trap - EXIT INT TERM
echo "make-run-disk: $img: $size, GPT partition utsuwa-data (sectors $first-$last), ext4"
