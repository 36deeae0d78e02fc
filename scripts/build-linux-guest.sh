#!/bin/sh
# Builds the Linux guest image (docs/linux-guest.md):
#   build/linux/vmlinuz    Debian 12's stock kernel, from linux-image-amd64
#   build/linux/initrd.gz  a gzip'd newc cpio: busybox-static, /init, /bin/utsuwa-check,
#                          /bin/utsuwa-tsc (tools/guest-tsc/guest-tsc.c, for bench/linux-boot.sh),
#                          and the kernel modules named in $modules (with what they depend on)
#   build/linux/modules/   those modules, kept from the kernel's package with vmlinuz
# Both are taken from Debian's archive with apt-get download and unpacked with
# dpkg-deb -x; nothing is installed and nothing else is downloaded. Each output
# is rebuilt only when it is missing (delete it, or build/linux, to rebuild).
#
#   sh scripts/build-linux-guest.sh [OUTDIR]     (default build/linux)
set -eu

cd "$(dirname "$0")/.."
out=${1:-build/linux}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Kernel modules the initramfs loads at boot, in this order (each after what
# it depends on, which is added too): the ACPI power button (button) and the
# event devices (evdev) busybox's acpid reads it from, so that the monitor's
# `stop` shuts the guest down cleanly (docs/linux-guest.md); virtio's PCI
# transport and its block driver for the VMs' disks (disk=, docs/config.md);
# its network driver for the VMs' NICs on the switch (net=, docs/config.md).
modules="evdev button virtio_pci virtio_blk virtio_net"
# The ext4 file system of `make run`'s disk (/data, scripts/make-run-disk.sh):
# ext4 (it brings jbd2, mbcache, crc16), and crc32c_generic first, the crc32c
# that ext4's and jbd2's metadata checksums ask the crypto API for (a module
# in Debian's kernel, and the initramfs has no modprobe to fetch it).
modules="$modules crc32c_generic ext4"
# Intel's e1000e driver (with ptp and pps_core) for a NIC passed through by
# pci= (tests/guests/passthru-linux-test.sh, docs/passthrough.md).
modules="$modules e1000e"

# The initramfs is rebuilt when this script (it holds /init), utsuwa-tsc,
# io-bench (tools/io-bench: the I/O benchmark's guest side), the paging
# benchmark's (tools/paging-bench) or mig-bench (tools/mig-bench: the
# migration benchmark's) changes.
sum=$(cat "$0" tools/guest-tsc/guest-tsc.c tools/io-bench/io-bench.c tools/io-bench/run.sh \
	tools/paging-bench/mmap-touch.c tools/paging-bench/run.sh tools/mig-bench/mig-bench.c |
	sha256sum | cut -d' ' -f1)
[ "$(cat "$out/initrd.sum" 2>/dev/null)" = "$sum" ] || rm -f "$out/initrd.gz"
# The modules must come from the same package as vmlinuz: a different module
# list means taking both from the archive again.
[ "$(cat "$out/modules/list" 2>/dev/null)" = "$modules" ] || rm -f "$out/vmlinuz"
[ -s "$out/vmlinuz" ] && [ -s "$out/initrd.gz" ] && [ -x "$out/busybox" ] && exit 0
[ -x "$out/busybox" ] || rm -f "$out/initrd.gz"

if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
# cpio packs the initramfs; setup-deps installs it with the other build tools.
command -v cpio >/dev/null 2>&1 || sh scripts/setup-deps.sh

work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
chmod 755 "$work" # apt's _apt user downloads into it

# apt-get download needs the package lists; fetch them once if apt knows nothing.
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1 ||
   ! apt-cache show busybox-static >/dev/null 2>&1; then
	echo "build-linux-guest: apt-get update"
	$SUDO apt-get update -qq
fi

fetch() { # fetch PACKAGE: downloads its .deb into $work/deb, prints the file's path
	(cd "$work/deb" && apt-get download -qq "$1" >/dev/null 2>&1) || {
		echo "build-linux-guest: apt-get download $1 failed" >&2
		exit 1
	}
	ls "$work/deb/$1"_*.deb
}
mkdir -p "$work/deb"

# ---- the kernel ----
if [ ! -s "$out/vmlinuz" ]; then
	meta=$(fetch linux-image-amd64)
	# The metapackage depends on the versioned image, e.g. linux-image-6.1.0-28-amd64.
	pkg=$(dpkg-deb -f "$meta" Depends | tr ',|' '\n\n' | sed 's/(.*//; s/ //g' |
		grep -E '^linux-image-[0-9].*-amd64$' | head -n 1)
	[ -n "$pkg" ] || { echo "build-linux-guest: no kernel in the Depends of $meta" >&2; exit 1; }
	echo "build-linux-guest: kernel $pkg"
	deb=$(fetch "$pkg")
	dpkg-deb -x "$deb" "$work/kernel"
	vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -n 1)
	cp "$vmlinuz" "$out/vmlinuz.tmp"
	echo "${vmlinuz##*/vmlinuz-} ($(dpkg-deb -f "$deb" Version))" >"$out/kernel-version"
	# The modules, each after its dependencies (modinfo's depends field),
	# flat in modules/, their load order in modules/order.
	rm -rf "$out/modules" && mkdir -p "$out/modules"
	: >"$out/modules/order"
	add_module() { # add_module NAME: NAME and what it needs, once, in load order
		grep -qx "$1" "$out/modules/order" && return 0
		local ko dep
		# Debian 12's modules are not compressed; a .ko.xz here would be news.
		ko=$(find "$work/kernel/lib/modules" -name "$1.ko" | head -n 1)
		[ -n "$ko" ] || { echo "build-linux-guest: module $1.ko not in $pkg" >&2; exit 1; }
		for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do add_module "$dep"; done
		cp "$ko" "$out/modules/$1.ko"
		echo "$1" >>"$out/modules/order"
	}
	for m in $modules; do add_module "$m"; done
	echo "$modules" >"$out/modules/list"
	rm -f "$out/initrd.gz" # built against the previous kernel's modules
	mv "$out/vmlinuz.tmp" "$out/vmlinuz"
fi

# ---- the initramfs ----
if [ ! -s "$out/initrd.gz" ]; then
	deb=$(fetch busybox-static)
	echo "build-linux-guest: busybox-static $(dpkg-deb -f "$deb" Version)"
	dpkg-deb -x "$deb" "$work/bb"
	root=$work/root
	mkdir -p "$root"
	(cd "$root" && mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root run var/log lib/modules)
	for m in $(cat "$out/modules/order"); do cp "$out/modules/$m.ko" "$root/lib/modules/"; done
	cp "$out/modules/order" "$root/lib/modules/order"
	# busybox acpid runs /etc/acpi/PWRF/00000080 when the power button is
	# pressed (its built-in action table); poweroff asks init to shut down.
	mkdir -p "$root/etc/acpi/PWRF"
	printf '#!/bin/sh\nexec /sbin/poweroff\n' >"$root/etc/acpi/PWRF/00000080"
	chmod 755 "$root/etc/acpi/PWRF/00000080"
	cp "$work/bb/bin/busybox" "$root/bin/busybox"
	# The same binary serves the uplink test's files on the build machine
	# (its httpd; tests/guests/uplink-test.sh).
	rm -f "$out/busybox" && cp "$work/bb/bin/busybox" "$out/busybox"
	chmod 755 "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	# The kernel opens /dev/console before /init runs, so it must exist in the
	# archive: devtmpfs is mounted only later.
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null ||
		echo "build-linux-guest: warning: not root, no /dev/console in the initramfs" >&2

	cat >"$root/init" <<'EOF'
#!/bin/sh
# utsuwa Linux guest: mount the kernel's file systems, say hello, hand over
# to busybox init, which keeps a shell on the console (/etc/inittab).
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
# The paging benchmark (make bench-paging, bench/paging.sh) boots with
# utsuwa.pgbench[=...]: the TSC here is the boot to /init, then the workloads
# (tools/paging-bench/run.sh) and power off, before anything else starts.
if grep -q 'utsuwa\.pgbench' /proc/cmdline; then
	/bin/utsuwa-tsc "utsuwa-pgbench: init"
	/bin/utsuwa-pgbench
	poweroff -f
fi
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname utsuwa-guest
# The modules the build put in (lib/modules/order), then acpid, which turns
# the ACPI power button (the monitor's stop) into a clean poweroff.
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko || echo "utsuwa-guest: insmod $m failed"; done
acpid -l /var/log/acpid.log
echo
echo "utsuwa-guest: Linux $(uname -r), $(nproc) CPU(s), $(sed -n 's/^MemTotal: *//p' /proc/meminfo) RAM"
echo "utsuwa-guest: busybox shell on the console; utsuwa-check prints the test facts"
# The boot benchmark (bench/linux-boot.sh) boots with utsuwa.bench: the TSC
# here, where the shell would start, is the boot's length, and the second
# figure of /proc/uptime the part of it the CPU idled; then power off.
if grep -qw utsuwa.bench /proc/cmdline; then
	/bin/utsuwa-tsc "utsuwa-bench: shell-ready"
	echo "utsuwa-bench: uptime $(cat /proc/uptime)"
	poweroff -f
fi
# The reboot test boots with utsuwa.reboot: the first boot marks CMOS RAM
# byte 0x50 (kept across a reset, as on a PC) through /dev/port (index port
# 0x70, data port 0x71) and reboots; the boot after it carries on.
if grep -qw utsuwa.reboot /proc/cmdline; then
	port() { printf "\\$(printf %o "$2")" | dd of=/dev/port bs=1 seek=$(($1)) count=1 2>/dev/null; }
	port 0x70 0x50
	boots=$(dd if=/dev/port bs=1 skip=$((0x71)) count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	echo "utsuwa-check: boot=$((boots + 1))"
	if [ "$boots" = 0 ]; then
		port 0x70 0x50
		port 0x71 1
		reboot -f
	fi
fi
# The snapshot test boots with utsuwa.loop: a loop appends a line to a file
# in the initramfs each second and says how far it is, whether the file
# holds every line so far, and whether uptime or the clock went backwards;
# the test snapshots, destroys and restores the VM meanwhile. With a disk
# (/dev/vda) it also writes "loop N" to sector N, bypassing the page cache,
# and reads sectors 1 and N back the same way (disk=ok when both hold what
# was written: sector 1 was written before any snapshot). After 30 rounds
# (utsuwa.loop=N: N rounds; the migration test needs more) it prints the
# facts and powers off. With utsuwa.ip=<address> eth0 gets that address (a
# /24; the migration test pings it from the other host). Each kernel message
# of level warning or worse logged after the loop began is printed once as
# "utsuwa-kmsg: <N>text" (<N> the level): the migration test wants none.
if grep -qw utsuwa.loop /proc/cmdline; then
	i=0 up0=0 date0=0 rounds=$(sed -n 's/.*utsuwa\.loop=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
	ip=$(sed -n 's/.*utsuwa\.ip=\([0-9.]*\).*/\1/p' /proc/cmdline)
	if [ -n "$ip" ] && [ -e /sys/class/net/eth0 ]; then
		ip link set lo up
		ip addr add "$ip/24" dev eth0
		ip link set eth0 up
	fi
	kwarn() { dmesg -r | grep -c '^<[0-4]>'; }
	kseen=$(kwarn)
	while [ $i -lt "${rounds:-30}" ]; do
		k=$(kwarn)
		if [ "$k" -gt "$kseen" ]; then
			dmesg -r | grep '^<[0-4]>' | tail -n $((k - kseen)) | sed 's/^/utsuwa-kmsg: /'
			kseen=$k
		fi
		i=$((i + 1))
		echo "$i" >>/root/loop.txt
		up=$(cut -d. -f1 /proc/uptime) date=$(date +%s)
		back=no
		{ [ "$up" -lt "$up0" ] || [ "$date" -lt "$date0" ]; } && back=yes
		up0=$up date0=$date
		disk=none
		if [ -b /dev/vda ]; then
			printf 'loop %-507s' "$i" | dd of=/dev/vda bs=512 seek=$i count=1 oflag=direct 2>/dev/null
			disk=ok
			# The first round's sector (written before any snapshot) and
			# this round's: two reads, so a round stays about a second.
			for k in 1 $i; do
				[ "$(dd if=/dev/vda bs=512 skip=$k count=1 iflag=direct 2>/dev/null | tr -d ' ')" = "loop$k" ] || disk=bad
			done
		fi
		echo "utsuwa-loop: n=$i lines=$(wc -l </root/loop.txt) uptime=$up date=$date backwards=$back disk=$disk"
		sleep 1
	done
	/bin/utsuwa-check
	poweroff -f
fi
# The disk tests boot with utsuwa.disk[=write|verify]: a round trip through
# /dev/vda, or a write to be verified by a later VM (utsuwa-disk prints the
# facts), then power off.
if grep -qw utsuwa.disk /proc/cmdline; then
	/bin/utsuwa-disk
	# With utsuwa.net= too (the INTx test), the network test follows.
	grep -q 'utsuwa\.net=' /proc/cmdline || poweroff -f
fi
# The network test boots with utsuwa.net=<address>/<peer> (IPv4): eth0 gets
# the address, pings the peer VM through utsuwa's switch and copies a file
# with it (utsuwa-net prints the facts), then power off.
if grep -q 'utsuwa\.net=' /proc/cmdline; then
	/bin/utsuwa-net
	poweroff -f
fi
# The network lifecycle test boots with utsuwa.netping=<address>/<peer>:
# eth0 gets the address and pings the peer once a second, each reply a
# line, while the monitor snapshots and restores the VMs.
if grep -q 'utsuwa\.netping=' /proc/cmdline; then
	arg=$(sed -n 's/.*utsuwa\.netping=\([0-9.]*\/[0-9.]*\).*/\1/p' /proc/cmdline)
	ip link set lo up
	ip addr add "${arg%/*}/24" dev eth0
	ip link set eth0 up
	ping -c 600 "${arg#*/}"
	poweroff -f
fi
# The uplink test boots with utsuwa.fetch=<URL>: eth0 gets an address by
# DHCP (QEMU's user networking, through utsuwa's switch and the machine's
# NIC) and wget fetches the URL (utsuwa-fetch prints the facts), then power off.
if grep -q 'utsuwa\.fetch=' /proc/cmdline; then
	/bin/utsuwa-fetch
	poweroff -f
fi
# ---- the I/O benchmark (make bench-io, bench/io.sh) ----
# It boots with utsuwa.iobench=<role>,<address>,...: the server VM answers
# io-bench's echo and sink, the client runs the disk and network figures
# (tools/io-bench/run.sh), then power off.
if grep -q 'utsuwa\.iobench=' /proc/cmdline; then
	/bin/utsuwa-iobench
	poweroff -f
fi
# ---- end of the I/O benchmark ----
# The migration benchmark (make bench-migrate, bench/migrate.sh) boots with
# utsuwa.migbench=idle or utsuwa.migbench=dirty,<MiB>,<MiB/s>: mig-bench
# (tools/mig-bench) reads the clock in a tight loop (and dirties memory) and
# prints a line a second until the VM is destroyed; first the kernel's
# clocksource messages, which say what that clock is.
if grep -q 'utsuwa\.migbench=' /proc/cmdline; then
	arg=$(sed -n 's/.*utsuwa\.migbench=\([a-z0-9,.]*\).*/\1/p' /proc/cmdline)
	dmesg | grep -E 'clocksource: Switched|kvm-clock: |tsc: (Detected|Refined|Marking)' | sed 's/^/mig-bench: dmesg: /'
	# shellcheck disable=SC2046
	/bin/mig-bench $(echo "$arg" | tr , ' ')
	poweroff -f
fi
# The interactive shell (make run): a VM with a NIC asks for an address by
# DHCP, briefly (a VM on a switch without an uplink gets no answer).
if [ -e /sys/class/net/eth0 ]; then
	ip link set lo up
	udhcpc -i eth0 -s /etc/udhcpc.script -n -q -t 3 -T 2 >/dev/null 2>&1 &&
		echo "utsuwa-guest: eth0 $(ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9./]*\).*/\1/p') by DHCP" ||
		echo "utsuwa-guest: eth0 got no address by DHCP (udhcpc -i eth0 -s /etc/udhcpc.script retries)"
fi
# The guest tests boot with utsuwa.check on the command line: print the
# facts, then power off (ACPI S5), which ends the VM.
if grep -qw utsuwa.check /proc/cmdline; then
	/bin/utsuwa-check
	poweroff -f
fi
# The VM's disk (make run: disk=gpt:utsuwa-data, made by
# scripts/make-run-disk.sh): /dev/vda holding an ext4 file system (its magic
# 0xEF53 at byte 1080) is mounted at /data; /etc/inittab's shutdown action
# unmounts it at poweroff and reboot. Only a disk holding ext4 is mounted, so
# the tests' raw disks are left alone.
if [ -b /dev/vda ] && [ "$(dd if=/dev/vda bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' ')" = 53ef ]; then
	mkdir -p /data
	if mount -t ext4 /dev/vda /data; then
		echo "utsuwa-guest: /data is the VM's disk (ext4, $(df -m /data | awk 'NR == 2 { print $4 }') MiB free)"
	else
		echo "utsuwa-guest: /dev/vda holds ext4 but did not mount (dmesg says why)"
	fi
fi
exec /sbin/init
EOF
	chmod 755 "$root/init"

	# busybox init: a shell on the console, respawned when it exits;
	# poweroff and reboot go through init (SIGUSR2/SIGTERM) and end the VM.
	cat >"$root/etc/inittab" <<'EOF'
::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
EOF
	cat >"$root/etc/profile" <<'EOF'
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PS1='utsuwa-guest:\w# '
EOF
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"

	# Facts the guest tests read (issue 4, tests): one "utsuwa-check: key=value" a line.
	cat >"$root/bin/utsuwa-check" <<'EOF'
#!/bin/sh
# Prints what the utsuwa Linux guest tests check, one "utsuwa-check: key=value" a line.
echo "utsuwa-check: nproc=$(nproc)"
echo "utsuwa-check: memtotal_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
t1=$(date +%s)
sleep 1
t2=$(date +%s)
echo "utsuwa-check: date=$t1 $t2"
[ "$t2" -gt "$t1" ] && echo "utsuwa-check: clock_advances=yes" || echo "utsuwa-check: clock_advances=no"
hits=$(dmesg | grep -E 'calibration|BUG|WARNING|Call Trace|unchecked MSR access')
echo "utsuwa-check: dmesg_hits=$(printf '%s' "$hits" | grep -c .)"
[ -n "$hits" ] && printf '%s\n' "$hits" | sed 's/^/utsuwa-check: dmesg: /'
echo "utsuwa-check: done"
EOF
	chmod 755 "$root/bin/utsuwa-check"

	# A virtio device's interrupts (issue 10), for utsuwa-disk and utsuwa-net:
	# utsuwa-irq NAME prints the /proc/interrupts lines of virtio device NAME
	# (virtio0, ...), its queues' MSI-X vectors ("virtio0-req.0") or its one
	# INTx line ("virtio0", or among others sharing it: "virtio0, virtio3");
	# utsuwa-irq-sum adds up the per-CPU counts of the lines it is given.
	cat >"$root/bin/utsuwa-irq" <<'EOF'
#!/bin/sh
grep -E "[ ,]$1(-[a-z]+\.[0-9]+)?(,|\$)" /proc/interrupts
EOF
	cat >"$root/bin/utsuwa-irq-sum" <<'EOF'
#!/bin/sh
awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }'
EOF
	chmod 755 "$root/bin/utsuwa-irq" "$root/bin/utsuwa-irq-sum"

	# The virtio disk's tests (issue 10), chosen by utsuwa.disk[=MODE] on the
	# kernel command line:
	#   utsuwa.disk         a round trip: 16 MiB of random data written to
	#                       /dev/vda past the page cache (O_DIRECT), read back
	#                       the same way, both checksums printed for the runner;
	#   utsuwa.disk=write   64 MiB of random data with O_DIRECT and fsync, then
	#                       its SHA-256 in a 4 KiB header block right after it
	#                       (at 64 MiB): "utsuwa-disk bytes=67108864 sha256=<hex>";
	#                       the VM then powers off;
	#   utsuwa.disk=verify  in a later VM on the same disk: reads the header and
	#                       the 64 MiB (O_DIRECT), compares the sums.
	# Each ends with a read at the disk's end, which the block layer must stop
	# (0 bytes, no request sent), and the kernel log's complaints.
	cat >"$root/bin/utsuwa-disk" <<'EOF'
#!/bin/sh
d=/dev/vda
mode=$(sed -n 's/.*utsuwa\.disk=\([a-z]*\).*/\1/p' /proc/cmdline)
if [ ! -b $d ]; then echo "utsuwa-disk: vda=missing"; exit 0; fi
sectors=$(cat /sys/block/vda/size)
echo "utsuwa-disk: vda=present sectors=$sectors"
echo "utsuwa-disk: mode=${mode:-round}"
echo "utsuwa-disk: serial=$(cat /sys/block/vda/serial 2>/dev/null)"
echo "utsuwa-disk: ro=$(cat /sys/block/vda/ro)"
# MSI-X when the device offers it (Debian's virtio_pci prefers it to INTx),
# "PCI-MSIX-"; with pci=nomsi its INTx# through the I/O APIC, level-triggered:
# "IO-APIC 20-fasteoi" (the GSI the DSDT's _PRT gives slot 4).
v=$(basename "$(readlink /sys/block/vda/device)")
echo "utsuwa-disk: irq=$(utsuwa-irq "$v" | grep -oE 'PCI-MSI[A-Z-]*|IO-APIC +[0-9]+-[a-z]+' | head -n 1 | tr -s ' ')"
mib=64 hdr_block=16384 # the header's 4 KiB block: right after the data
case $mode in
'')
	dd if=/dev/urandom of=/tmp/data bs=1M count=16 2>/dev/null
	w=$(sha256sum </tmp/data | cut -d' ' -f1)
	echo "utsuwa-disk: written=$w"
	dd if=/tmp/data of=$d bs=1M oflag=direct conv=fsync 2>/dev/null || echo "utsuwa-disk: write_error=yes"
	rm -f /tmp/data
	sync
	echo 3 >/proc/sys/vm/drop_caches
	r=$(dd if=$d bs=1M count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
	echo "utsuwa-disk: read=$r"
	[ "$w" = "$r" ] && echo "utsuwa-disk: match=yes" || echo "utsuwa-disk: match=no"
	;;
write)
	if [ "$sectors" -lt $(((mib * 1024 + 4) * 2)) ]; then
		echo "utsuwa-disk: too_small=yes (needs $mib MiB and 4 KiB)"
	else
		dd if=/dev/urandom of=/tmp/data bs=1M count=$mib 2>/dev/null
		w=$(sha256sum </tmp/data | cut -d' ' -f1)
		echo "utsuwa-disk: written=$w"
		dd if=/tmp/data of=$d bs=1M oflag=direct conv=fsync 2>/dev/null || echo "utsuwa-disk: write_error=yes"
		rm -f /tmp/data
		echo "utsuwa-disk bytes=$((mib * 1048576)) sha256=$w" >/tmp/hdr
		truncate -s 4096 /tmp/hdr
		dd if=/tmp/hdr of=$d bs=4096 seek=$hdr_block oflag=direct conv=fsync 2>/dev/null ||
			echo "utsuwa-disk: write_error=yes"
		echo "utsuwa-disk: header_written=yes"
	fi
	;;
verify)
	hdr=$(dd if=$d bs=4096 skip=$hdr_block count=1 iflag=direct 2>/dev/null | tr -d '\0' | head -n 1)
	stored=$(echo "$hdr" | sed -n "s/^utsuwa-disk bytes=$((mib * 1048576)) sha256=\([0-9a-f]\{64\}\)\$/\1/p")
	echo "utsuwa-disk: stored=${stored:-none}"
	r=$(dd if=$d bs=1M count=$mib iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
	echo "utsuwa-disk: read=$r"
	[ -n "$stored" ] && [ "$stored" = "$r" ] && echo "utsuwa-disk: verify=yes" || echo "utsuwa-disk: verify=no"
	;;
*) echo "utsuwa-disk: mode=unknown" ;;
esac
n=$(dd if=$d bs=512 skip=$sectors count=1 iflag=direct 2>/dev/null | wc -c)
echo "utsuwa-disk: past_end_bytes=$n"
echo "utsuwa-disk: irq_count=$(utsuwa-irq "$v" | utsuwa-irq-sum)"
hits=$(dmesg | grep -E 'BUG|WARNING|Call Trace|virtio.*(error|fail)|I/O error|nobody cared|no GSI')
echo "utsuwa-disk: dmesg_hits=$(printf '%s' "$hits" | grep -c .)"
[ -n "$hits" ] && printf '%s\n' "$hits" | sed 's/^/utsuwa-disk: dmesg: /'
echo "utsuwa-disk: done"
EOF
	chmod 755 "$root/bin/utsuwa-disk"

	# Two VMs on the switch (issue 10): utsuwa.net=<me>/<peer>, a /24. Each
	# waits for the other to answer (they boot side by side), counts 20
	# pings, then the one with the lower address listens and the other sends
	# 16 MiB of random data with nc, its SHA-256 in front; the listener
	# checks the sum (busybox's nc half-closes at the end of its input, so
	# the listener sees the end of the data and both exit).
	cat >"$root/bin/utsuwa-net" <<'EOF'
#!/bin/sh
arg=$(sed -n 's/.*utsuwa\.net=\([0-9.]*\/[0-9.]*\).*/\1/p' /proc/cmdline)
me=${arg%/*} peer=${arg#*/}
if [ ! -e /sys/class/net/eth0 ]; then echo "utsuwa-net: eth0=missing"; exit 0; fi
echo "utsuwa-net: eth0=present mac=$(cat /sys/class/net/eth0/address) mtu=$(cat /sys/class/net/eth0/mtu)"
ip link set lo up
ip addr add "$me/24" dev eth0
ip link set eth0 up
v=$(basename "$(readlink /sys/class/net/eth0/device)")
echo "utsuwa-net: irq=$(utsuwa-irq "$v" | grep -oE 'PCI-MSI[A-Z-]*|IO-APIC +[0-9]+-[a-z]+' | head -n 1 | tr -s ' ')"
i=0
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -ge 90 ] && break
done
echo "utsuwa-net: peer_up_after=$i"
n=$(ping -c 20 -A -W 5 "$peer" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
echo "utsuwa-net: ping_received=$n"
if [ "${me##*.}" -lt "${peer##*.}" ]; then
	nc -l -p 5000 >/tmp/recv
	sum=$(head -c 64 /tmp/recv)
	got=$(tail -c +66 /tmp/recv | sha256sum | cut -d' ' -f1)
	echo "utsuwa-net: received_bytes=$(($(wc -c </tmp/recv) - 65))"
	[ -n "$sum" ] && [ "$sum" = "$got" ] && echo "utsuwa-net: sha_match=yes" || echo "utsuwa-net: sha_match=no"
else
	dd if=/dev/urandom of=/tmp/data bs=1M count=16 2>/dev/null
	{ sha256sum </tmp/data | cut -d' ' -f1; cat /tmp/data; } >/tmp/send
	rm -f /tmp/data
	t0=$(cut -d' ' -f1 /proc/uptime)
	i=0
	until nc "$peer" 5000 </tmp/send; do
		i=$((i + 1))
		[ $i -ge 60 ] && break
		sleep 1
	done
	echo "utsuwa-net: sent_bytes=16777216 tries=$i from=$t0 to=$(cut -d' ' -f1 /proc/uptime)"
	# Another MAC than the configured one (Linux changes it without telling
	# a VERSION_1 device): the switch drops every frame as a spoof.
	ip link set eth0 address 02:00:00:00:00:99
	n=$(ping -c 3 -W 2 "$peer" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
	echo "utsuwa-net: spoofed_ping_received=$n"
fi
echo "utsuwa-net: irq_count=$(utsuwa-irq "$v" | utsuwa-irq-sum)"
hits=$(dmesg | grep -E 'BUG|WARNING|Call Trace|virtio.*(error|fail)|NETDEV WATCHDOG|nobody cared|no GSI')
echo "utsuwa-net: dmesg_hits=$(printf '%s' "$hits" | grep -c .)"
[ -n "$hits" ] && printf '%s\n' "$hits" | sed 's/^/utsuwa-net: dmesg: /'
echo "utsuwa-net: done"
EOF
	chmod 755 "$root/bin/utsuwa-net"

	# udhcpc's hook (busybox runs it with the lease in the environment;
	# $mask is the prefix length): the address, the default route, the DNS server.
	cat >"$root/etc/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done ;;
esac
exit 0
EOF
	chmod 755 "$root/etc/udhcpc.script"

	# The uplink (issue 10): utsuwa.fetch=<URL>. DHCP on eth0, then wget;
	# prints the lease, the file's size and SHA-256 for the test to compare.
	cat >"$root/bin/utsuwa-fetch" <<'EOF'
#!/bin/sh
url=$(sed -n 's/.*utsuwa\.fetch=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ ! -e /sys/class/net/eth0 ]; then echo "utsuwa-fetch: eth0=missing"; exit 0; fi
ip link set lo up
if udhcpc -i eth0 -s /etc/udhcpc.script -n -q -t 10 -T 3 >/dev/null 2>&1; then
	echo "utsuwa-fetch: address=$(ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9./]*\).*/\1/p')"
	echo "utsuwa-fetch: gateway=$(ip route | sed -n 's/^default via \([0-9.]*\).*/\1/p')"
else
	echo "utsuwa-fetch: address=none"
fi
# (busybox 1.35's wget crashes with -T: timeout bounds it instead)
if timeout 60 wget -q -O /tmp/fetched "$url" 2>/tmp/wget.err; then
	echo "utsuwa-fetch: bytes=$(wc -c </tmp/fetched)"
	echo "utsuwa-fetch: sha256=$(sha256sum </tmp/fetched | cut -d' ' -f1)"
else
	echo "utsuwa-fetch: wget=failed: $(tail -n 1 /tmp/wget.err)"
fi
hits=$(dmesg | grep -E 'BUG|WARNING|Call Trace|virtio.*(error|fail)|NETDEV WATCHDOG')
echo "utsuwa-fetch: dmesg_hits=$(printf '%s' "$hits" | grep -c .)"
# The first of them, so that a failure shows its cause where only the log is kept.
printf '%s\n' "$hits" | grep . | head -n 3 | sed 's/^/utsuwa-fetch: dmesg: /'
echo "utsuwa-fetch: done"
EOF
	chmod 755 "$root/bin/utsuwa-fetch"

	# Reads the TSC (no C library: the compiler alone builds it).
	${CC:-gcc} -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie -O2 \
		-Wall -Werror -o "$root/bin/utsuwa-tsc" tools/guest-tsc/guest-tsc.c

	# ---- the I/O benchmark (make bench-io, bench/io.sh) ----
	# io-bench times disk and network requests with RDTSC; utsuwa-iobench
	# (tools/io-bench/run.sh) runs it from /init with utsuwa.iobench=.
	# Static with the C library (sockets, poll), resolving no names.
	${CC:-gcc} -static -O2 -Wall -Wextra -Werror -o "$root/bin/io-bench" tools/io-bench/io-bench.c
	cp tools/io-bench/run.sh "$root/bin/utsuwa-iobench"
	chmod 755 "$root/bin/utsuwa-iobench"
	# ---- end of the I/O benchmark ----

	# The migration benchmark (make bench-migrate, bench/migrate.sh): /init
	# runs mig-bench with utsuwa.migbench=. Static with the C library.
	${CC:-gcc} -static -O2 -Wall -Wextra -Werror -o "$root/bin/mig-bench" tools/mig-bench/mig-bench.c

	# The paging benchmark (make bench-paging, bench/paging.sh): the mmap
	# workload's program, static with the C library, and the workloads'
	# script, which /init runs with utsuwa.pgbench.
	${CC:-gcc} -static -O2 -Wall -Wextra -Werror -o "$root/bin/utsuwa-mmap-touch" \
		tools/paging-bench/mmap-touch.c
	cp tools/paging-bench/run.sh "$root/bin/utsuwa-pgbench"
	chmod 755 "$root/bin/utsuwa-pgbench"

	# Same inputs, same bytes: fixed times, numeric owners, sorted names.
	find "$root" -exec touch -h -d @0 {} +
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc --owner=0:0 --reproducible) |
		gzip -9 -n >"$out/initrd.gz.tmp"
	mv "$out/initrd.gz.tmp" "$out/initrd.gz"
	echo "$sum" >"$out/initrd.sum"
fi

echo "build-linux-guest: $out/vmlinuz ($(cat "$out/kernel-version" 2>/dev/null || echo '?')), $out/initrd.gz"
