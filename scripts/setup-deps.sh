#!/bin/sh
# Installs the Debian 12 packages utsuwa's build, tests and benchmarks need.
# Idempotent: does nothing when everything is present. Called by `make`.
set -e
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in gcc make binutils qemu-system-x86 bochs bochsbios vgabios bochs-x \
         grub-pc-bin grub-common xorriso mtools cpio kmod; do
    have "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
echo "setup-deps: installing:$need"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $need
