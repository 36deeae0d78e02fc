#!/bin/sh
# Installs the Debian 12 packages utsuwa's build, tests and benchmarks need.
# Idempotent: does nothing when everything is present. Called by `make`.
#   sh scripts/setup-deps.sh        what make, make test and make run need
#   sh scripts/setup-deps.sh fuzz   clang and its libFuzzer runtime (make fuzz only)
set -e
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
if [ "$1" = fuzz ]; then
    pkgs="clang libclang-rt-14-dev"
else
    # libc6-dev: gcc comes without recommends, and so without the C
    # library's headers, which the host unit tests include (stdint.h).
    # gdisk: sgdisk writes the GPT disk images the disk boot test makes
    # at test time (tests/guests/disk-boot-test.sh; none is committed).
    # e2fsprogs: mkfs.ext4 makes the file system of make run's disk in its
    # image (scripts/make-run-disk.sh); run-disk-test.sh checks it with
    # e2fsck and debugfs. (Debian 12 marks it required, so it is nearly
    # always there; listed so that nothing relies on that.)
    # libjsmn-dev: jsmn, the header-only JSON tokenizer the management API
    # parses request bodies with (core/api_json.c; the hypervisor build
    # includes /usr/include/jsmn.h and nothing else from there), and utsuwactl
    # prints the API's answers with (tools/utsuwactl/json.c).
    # dpkg-dev: dpkg-source unpacks and checks lwIP's Debian source package
    # (scripts/fetch-lwip.sh).
    # grub-efi-amd64-bin: with grub-pc-bin, grub-mkrescue makes `make iso`'s
    # ISO bootable on both BIOS and UEFI machines. ovmf: the UEFI firmware
    # QEMU boots that ISO with in tests/guests/uefi-test.sh.
    pkgs="gcc libc6-dev make binutils qemu-system-x86 bochs bochsbios vgabios bochs-x \
          grub-pc-bin grub-common xorriso mtools cpio kmod gdisk e2fsprogs libjsmn-dev dpkg-dev \
          grub-efi-amd64-bin ovmf"
fi
for p in $pkgs; do
    have "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
echo "setup-deps: installing:$need"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $need
