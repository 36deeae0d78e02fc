#!/bin/bash
# The KVM side of `make bench-migrate` (bench/migrate.sh, bench/README.md
# "Live migration"): two L1 machines of make bench-peer (bench/peer/build-l1.sh),
# each QEMU TCG with AMD-V emulated (scripts/qemu-svm-cpu.sh), one CPU, 1 GiB,
# no -icount (the two talk over a real socket in real time), their
# virtio-net cards joined by a socket network (A listens, B connects). Their
# /init runs bench/peer/migrate-init: A boots the Linux guest under KVM with
# mig-bench and migrates it to B with QEMU's `migrate tcp:...`, once per
# workload.
#
#   bench/peer/migrate.sh PEER_DIR OUT_DIR "WORKLOAD..."
# WORKLOADs are mig-bench's arguments (idle, dirty,<MiB>,<MiB/s>). Prints one
# line per workload that completed,
#   <workload> guest_us=<N> back_us=<N> base_us=<N> host_ms=<N> total_ms=<N> pages=<N> dup=<N> kib=<N> rounds=<N>
# (the longest gap the guest saw from the migrate command to B's third line,
# and the largest step backwards of its clock there; the longest gap before; info migrate's downtime, total time, normal and
# duplicate (zero) pages, transferred ram and dirty sync count), and lines
# "bench-migrate: KVM ..." for the record. Status 1 if a run failed.
# Environment: QEMU, MIG_MEM (MiB, 256), MIG_DOWNTIME (ms, 50),
# PEER_TIMEOUT (s, 3600). Logs: OUT_DIR/l1-a.log, OUT_DIR/l1-b.log.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
peer=$1 out=$2 work=$3
qemu=${QEMU:-qemu-system-x86_64}
. "$root/scripts/qemu-svm-cpu.sh"
port=
for try in $(seq 20); do
	p=$((20000 + (RANDOM + $$ + try) % 30000))
	{ exec 9<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null || { port=$p; break; }
	exec 9>&-
done
[ -n "$port" ] || { echo "bench-migrate: no free TCP port" >&2; exit 1; }
# l1 NAME NETDEV MAC ROLE: one L1 machine in the background, its serial log
# in OUT_DIR/l1-NAME.log.
l1() {
	rm -f "$out/l1-$1.log"
	# Never -accel kvm: KVM runs inside this emulated machine.
	timeout -k 10 "${PEER_TIMEOUT:-3600}" "$qemu" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 1 \
		-display none -monitor none -serial "file:$out/l1-$1.log" -no-reboot \
		-netdev "socket,id=n0,$2" -device "virtio-net-pci,netdev=n0,mac=$3,romfile=" \
		-kernel "$peer/vmlinuz" -initrd "$peer/initramfs.cpio" \
		-append "console=ttyS0 quiet panic=-1 peer.migrate=$4,4444,${MIG_MEM:-256},${MIG_DOWNTIME:-50} peer.migwork=\"$work\"" \
		</dev/null >"$out/l1-$1.qemu" 2>&1 &
}
l1 a "listen=127.0.0.1:$port" 52:54:00:00:04:01 a
apid=$!
sleep 1
l1 b "connect=127.0.0.1:$port" 52:54:00:00:04:02 b
bpid=$!
wait $apid
arc=$?
# B prints the guest's lines once it runs there, then powers off; not
# longer than two minutes after A.
for i in $(seq 120); do kill -0 $bpid 2>/dev/null || break; sleep 1; done
kill $bpid 2>/dev/null
wait $bpid
log() { tr -d '\r' <"$out/l1-$1.log" 2>/dev/null; }
log a | sed -n 's/^peer-l1: \(Linux .*\), up.*/bench-migrate: KVM L1 \1/p
	s/^peer-l1: \(migrate: role a.*\)/bench-migrate: KVM L1 \1/p
	s/^peer-l1: param \(.*\)/bench-migrate: KVM parameter \1/p
	s/^peer-l1: a \([a-z]*: migration .*\)/bench-migrate: KVM \1/p
	s/^peer-l1: a [a-z]*| \(mig-bench: \(clocksource\|dmesg: .*Switched\).*\)/bench-migrate: KVM guest: \1/p' | awk '!seen[$0]++'
if ! log a | grep -q '^peer-l1: migrate status 0' || ! log b | grep -q '^peer-l1: migrate status 0'; then
	echo "bench-migrate: the L1 run failed (QEMU exit status $arc); the last lines of l1-a.log and l1-b.log:" >&2
	log a | tail -n 40 >&2
	log b | tail -n 20 >&2
	exit 1
fi
# Per workload: the guest's lines on A (from "migrate at line N" on: the
# window) and B's three, and info migrate's figures.
for w in $work; do
	n=${w%%,*}
	at=$(log a | sed -n "s/^peer-l1: a $n migrate at line \\([0-9]*\\).*/\\1/p")
	{ log a | grep "^peer-l1: a $n| mig-bench: t=[0-9]* maxgap" | sed 's/^[^|]*| //' |
		awk -v at="$at" 'NR > 1 && NR <= at { print "base", $0 } NR > at { print "win", $0 }'
	  log b | grep "^peer-l1: b $n| mig-bench: t=[0-9]* maxgap" | sed 's/^[^|]*| /win /'
	  log a | sed -n "s/^peer-l1: info $n| /info /p"; } |
	awk -v w="$n" '
		function num(s) { gsub(/[^0-9.]/, "", s); return s + 0 }
		$1 == "base" || $1 == "win" {
			g = 0
			for (i = 2; i <= NF; i++) {
				split($i, f, "=")
				if (f[1] == "maxgap_us" || f[1] == "print_us") { if (f[2] + 0 > g) g = f[2] + 0 }
				if (f[1] == "back_us" && $1 == "win" && f[2] + 0 > back) back = f[2] + 0
			}
			if ($1 == "base" && g > base) base = g
			if ($1 == "win" && g > win) win = g
		}
		$1 == "info" {
			sub(/^info /, "")
			split($0, kv, ": ")
			v[kv[1]] = num(kv[2])
		}
		END {
			printf "%s guest_us=%d back_us=%d base_us=%d host_ms=%d total_ms=%d pages=%d dup=%d kib=%d rounds=%d\n",
			       w, win, back, base, v["downtime"], v["total time"], v["normal"], v["duplicate"],
			       v["transferred ram"], v["dirty sync count"]
		}'
done
