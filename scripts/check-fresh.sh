#!/bin/sh
# Runs `make test` (or another target) on a fresh, minimal Debian 12, as CI
# and a new user would: a debootstrap --variant=minbase root with only git
# and make added, a `git clone` of this repository's HEAD in it, and nothing
# else done. The scripts in the repo must install everything else
# (scripts/setup-deps.sh, scripts/build-linux-guest.sh). Run by hand before
# resolving an issue that touches setup: it needs root, Debian's archive and,
# with make test, about 20 minutes on 2 cores. Not part of make test.
#
#   sh scripts/check-fresh.sh [-k] [-d DIR] [TARGET...]   (default TARGET: test)
#     -d DIR   where the root is built (default /tmp/utsuwa-fresh; wiped first)
#     -k       keep the root afterwards (to look inside)
# Exits with make's status; the output ends with make test's summary line.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=/tmp/utsuwa-fresh keep=no
while getopts kd: opt; do
	case $opt in
	k) keep=yes ;;
	d) dir=$OPTARG ;;
	*) sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- test
[ "$(id -u)" = 0 ] || { echo "check-fresh: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
case $dir in /|"") echo "check-fresh: refusing DIR '$dir'" >&2; exit 2 ;; esac

# The mirror the build machine uses (deb822 or one-line sources), else Debian's.
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\([^ ]*\) .*/\2/p' \
	/etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

command -v debootstrap >/dev/null 2>&1 ||
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }

unmount() {
	for m in dev/pts dev sys proc; do
		mountpoint -q "$dir/$m" 2>/dev/null && umount -l "$dir/$m"
	done
	return 0
}
cleanup() {
	unmount
	if [ "$keep" = no ]; then rm -rf "$dir"; else echo "check-fresh: the root stays in $dir"; fi
}
unmount
rm -rf "$dir"
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "check-fresh: debootstrap --variant=minbase bookworm $dir $mirror (+ git, make)"
debootstrap --variant=minbase --include=git,make bookworm "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 ||
	{ tail -n 20 "$dir.debootstrap.log" >&2; exit 1; }
rm -f "$dir.debootstrap.log"
# The security suite as on an installed machine (its updates are what apt gets).
cat >"$dir/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SRC
cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$dir/proc"
mount -t sysfs sys "$dir/sys"
mount --bind /dev "$dir/dev"
mount --bind /dev/pts "$dir/dev/pts"

# The commit under test, as `git clone` of main would give it.
git clone -q "$repo" "$dir/root/utsuwa"
echo "check-fresh: $(git -C "$dir/root/utsuwa" log --oneline -1)"
echo "check-fresh: make $* in the fresh root"
status=0
chroot "$dir" /usr/bin/env -i HOME=/root TERM=dumb PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	sh -c 'cd /root/utsuwa && make "$@"' make "$@" || status=$?
echo "check-fresh: make $* exited with $status"
exit $status
