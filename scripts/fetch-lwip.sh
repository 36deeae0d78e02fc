#!/bin/sh
# Fetches lwIP's source from Debian 12's `lwip` source package (upstream
# 2.1.3) into build/lwip-src, once (DESIGN.md: other people's code comes from
# Debian only and is never committed). Idempotent: does nothing when
# build/lwip-src/.fetched is there.
#   1. Debian's archive as a deb-src source, if apt has none for lwip:
#      /etc/apt/sources.list.d/utsuwa-deb-src.sources, with the URI of the
#      machine's own bookworm entry (deb.debian.org if none is found), then
#      `apt-get update` once.
#   2. `apt-get source --download-only lwip` into build/lwip-dl: apt checks each
#      file against the Sources index, whose hashes its signed Release file vouches for.
#   3. The upstream version is checked to be 2.1.3; `dpkg-source -x` checks
#      the files against the .dsc's checksums (and the .dsc's signature when
#      debian-keyring is installed) and applies Debian's patches.
#   fetch-lwip.sh [BUILD_DIR]      (default build)
set -eu
build=${1:-build}
dest=$build/lwip-src
want=2.1.3
[ -f "$dest/.fetched" ] && exit 0
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive

if ! apt-cache showsrc lwip 2>/dev/null | grep -q '^Package: lwip'; then
	list=/etc/apt/sources.list.d/utsuwa-deb-src.sources
	# The URI of the machine's own bookworm archive: a deb822 .sources
	# entry or a one-line sources.list entry.
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ && u != "" { print u; exit }')
	[ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
	[ -n "$uri" ] || uri=http://deb.debian.org/debian
	echo "fetch-lwip: adding Debian's source packages ($uri bookworm main) as $list"
	printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uri" | $SUDO tee "$list.tmp" >/dev/null
	$SUDO mv "$list.tmp" "$list"
	$SUDO apt-get update -qq
fi

dl=$build/lwip-dl
rm -rf "$dl" "$dest"
mkdir -p "$dl"
echo "fetch-lwip: apt-get source --download-only lwip"
# apt-get drops privileges to _apt for downloads: let it write there.
chmod 777 "$dl"
(cd "$dl" && apt-get source -qq --download-only lwip)
dsc=$(ls "$dl"/lwip_*.dsc)
ver=$(sed -n 's/^Version: //p' "$dsc")
case $ver in
$want+*|$want-*) ;;
*) echo "fetch-lwip: Debian's lwip is $ver, not $want: update scripts/fetch-lwip.sh and lib/lwip-port" >&2
   exit 1 ;;
esac
rm -rf "$dest.tmp"
dpkg-source -x "$dsc" "$dest.tmp" >"$dl/dpkg-source.out" 2>&1 ||
	{ cat "$dl/dpkg-source.out" >&2; exit 1; }
[ -f "$dest.tmp/src/core/tcp.c" ] || { echo "fetch-lwip: $dsc has no src/core/tcp.c" >&2; exit 1; }
mv "$dest.tmp" "$dest"
echo "$ver $(sha256sum "$dsc" | cut -d' ' -f1)" >"$dest/.fetched"
echo "fetch-lwip: lwip $ver in $dest"
