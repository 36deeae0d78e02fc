#!/bin/bash
# make bench-migrate (bench/README.md, "Live migration"): a Linux VM migrated
# live between two utsuwa hosts, and the same guest between two KVM hosts
# (QEMU's live migration in two L1 machines of make bench-peer,
# bench/peer/migrate.sh), for two workloads of mig-bench (tools/mig-bench):
#   idle   the guest reads its clock in a tight loop and writes nothing
#   dirty  the same, and writes one word into a page of a MIG_DIRTY_MIB
#          buffer, MIG_DIRTY_RATE MiB worth of pages a second
#
# utsuwa's side, as tests/guests/migrate-test.sh: two QEMUs (TCG, AMD-V
# emulated, scripts/qemu-svm-cpu.sh, 2 CPUs each) whose virtio-net cards are
# joined by a socket network, each utsuwa with its own hostip= and the same
# migrate_key= (in a .cfg module), driven through their serial monitors. A
# VM (MIG_MEM MiB, one vCPU, no disk, no NIC) runs mig-bench on A and is
# migrated to B with the monitor's `migrate VM IP:PORT`, then destroyed
# there; idle first, then dirty.
#
# Figures, per workload, utsuwa against KVM:
#   migrate <w>-downtime-guest utsuwa=<ms> kvm=<ms>   the longest gap the guest's
#       clock saw in the migration window (mig-bench's maxgap_us and print_us,
#       from the migrate command to the third line on the destination). Both
#       hypervisors carry the guest's clock across the stop (kvm-clock goes
#       on from where it was), so this is the longest the vCPU did not run
#       while its clock ran, in pre-copy or around the switch, not the stop
#   migrate <w>-downtime-host utsuwa=<ms> kvm=<ms>    the hypervisor's own: utsuwa's
#       "downtime N ms" (pause to DONE), QEMU's info migrate "downtime"
#   migrate <w>-total utsuwa=<ms> kvm=<ms>            the whole migration, same sources
#   migrate <w>-pages utsuwa=<N> kvm=<N> ram_pages=<N> pages sent (utsuwa's count;
#       QEMU's normal pages, its zero pages apart) against the VM's RAM
#   migrate <w>-baseline-gap utsuwa=<ms> kvm=<ms>     the longest gap before the
#       migration: what the guest sees anyway (timer ticks, the console)
#   migrate <w>-clock-back utsuwa=<ms> kvm=<ms>       the largest step backwards
#       of the guest's clock in the window (0: none; anything else is a bug)
# then the target check (downtime and pages below KVM's; a miss is reported,
# not an error). These are wall-clock figures of emulated machines (TCG, no
# -icount: the two hosts talk over a real socket in real time): they move
# with the build machine's load.
#
#   bench/migrate.sh [KERNEL [GUEST_DIR [PEER_DIR]]]
# KERNEL build/utsuwa.elf, GUEST_DIR build/guests, PEER_DIR build/peer.
# Environment: QEMU; MIG_MEM (MiB, default 256); MIG_DIRTY_MIB (32),
# MIG_DIRTY_RATE (MiB/s, 0.25: 64 pages a second; utsuwa's hosts move 1-3
# MiB/s under TCG, and a guest that dirties faster than the link never
# converges); MIG_DOWNTIME (ms, 50, utsuwa's default: the downtime target of
# both, utsuwa's migrate_downtime= and QEMU's downtime-limit); MIG_VM_OPTS
# (more fields for utsuwa's VM, e.g. pin=1); MIG_KVM=0 (no KVM side: kvm=n/a).
# Logs: build/bench-migrate/{a,b}.log (utsuwa's hosts), l1-a.log, l1-b.log.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-$root/build/utsuwa.elf}
guests=${2:-$root/build/guests}
peer=${3:-$root/build/peer}
qemu=${QEMU:-qemu-system-x86_64}
mem=${MIG_MEM:-256} dmib=${MIG_DIRTY_MIB:-32} drate=${MIG_DIRTY_RATE:-0.25}
. "$root/scripts/qemu-svm-cpu.sh"
out=$root/build/bench-migrate
mkdir -p "$out"
for f in "$kernel" "$guests/vmlinuz" "$guests/initrd.gz"; do
	[ -f "$f" ] || { echo "bench-migrate: missing $f (make, make linux-guest)" >&2; exit 2; }
done
case $mem$dmib${MIG_DOWNTIME:-50} in *[!0-9]*) echo "bench-migrate: MIG_MEM and MIG_DIRTY_MIB are MiB, MIG_DOWNTIME ms" >&2; exit 2 ;; esac
case $drate in *[!0-9.]* | '') echo "bench-migrate: MIG_DIRTY_RATE is MiB/s (a decimal)" >&2; exit 2 ;; esac
start=$(date +%s)
work=$(mktemp -d) || exit 2
pids=
trap 'exec 3>&- 4>&-; for p in $pids; do kill "$p" 2>/dev/null; done; wait; rm -rf "$work"' EXIT

# A run that failed: why, the tail of both hosts' logs, status 1.
fail() {
	echo "bench-migrate: $1" >&2
	for l in "$out/a.log" "$out/b.log"; do
		echo "bench-migrate: the last lines of $l:" >&2
		tr -d '\r' <"$l" | tail -n 25 | sed 's/^/  | /' >&2
	done
	exit 1
}

# ---- the two utsuwa hosts ----
key=bench-mig-$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
# The same downtime target on both sides: utsuwa's (its default is 50 ms)
# and QEMU's downtime-limit (bench/peer/migrate-init).
dtl=${MIG_DOWNTIME:-50}
printf 'migrate_key=%s\nmigrate_downtime=%s\n' "$key" "$dtl" >"$work/mig.cfg"
mods="$guests/vmlinuz,$guests/initrd.gz,$work/mig.cfg"
# A free port of 127.0.0.1 for the socket network (A listens, B connects).
port=
for try in $(seq 20); do
	p=$((20000 + (RANDOM + $$ + try) % 30000))
	{ exec 9<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null || { port=$p; break; }
	exec 9>&-
done
[ -n "$port" ] || { echo "bench-migrate: no free TCP port" >&2; exit 1; }
# host NAME FD NETDEV MAC IP: QEMU with utsuwa, its serial console on fd FD
# (a pipe), its output in $out/NAME.log.
host() {
	: >"$out/$1.log"
	mkfifo "$work/$1.in"
	timeout -k 5 1800 "$qemu" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 2 \
		-display none -monitor none -serial stdio -no-reboot \
		-netdev "socket,id=n0,$3" -device "virtio-net-pci,netdev=n0,mac=$4" \
		-kernel "$kernel" -append "exit=halt hostip=$5/16" -initrd "$mods" \
		<"$work/$1.in" >"$out/$1.log" 2>&1 &
	pids="$pids $!"
	eval "exec $2>\"\$work/\$1.in\""
}
host a 3 "listen=127.0.0.1:$port" 52:54:00:12:34:56 10.0.3.50
sleep 1
host b 4 "connect=127.0.0.1:$port" 52:54:00:12:34:57 10.0.3.51

# Marks and waits on a host's log (the driver's since/wait_for, per host).
# shellcheck disable=SC2034 # read through eval
mark_a=0 mark_b=0
set_mark() { eval "mark_$1=\$(stat -c %s \"\$out/$1.log\")"; }
since() { eval "tail -c +\$((mark_$1 + 1)) \"\$out/$1.log\"" | tr -d '\r'; }
wait_on() { # wait_on HOST REGEX SECONDS
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		since "$1" | grep -aqE -- "$2" && return 0
		sleep 0.3
	done
	return 1
}
# cmd HOST LINE: a monitor command, typed.
cmd() {
	set_mark "$1"
	if [ "$1" = a ]; then printf '%s\r' "$2" >&3; else printf '%s\r' "$2" >&4; fi
}

wait_on a '^migrate: listening on TCP port 8081' 180 && wait_on b '^migrate: listening on TCP port 8081' 180 ||
	fail "the hosts did not come up (no 'migrate: listening' line in 180 s)"
# Each host calibrates its TSC at boot; the guest's kvm-clock is scaled by it.
echo "bench-migrate: utsuwa hosts' TSC: A $(since a | sed -n 's/^time: TSC \([0-9]*\) kHz.*/\1/p' | head -n 1) kHz," \
	"B $(since b | sed -n 's/^time: TSC \([0-9]*\) kHz.*/\1/p' | head -n 1) kHz"
sleep 1
cmd a '' && cmd b ''
sleep 1

# utsuwa_run WORKLOAD VMNAME ARGS: the VM on A running mig-bench ARGS, its
# baseline, the migration to B, three lines there; one line in
# $out/utsuwa.out:
#   <workload> guest_us=<N> base_us=<N> host_ms=<N> total_ms=<N> pages=<N> rounds=<N> kib=<N>
utsuwa_run() {
	local w=$1 vm=$2 args=$3 said t
	set_mark a
	cmd a "create vm=$vm,image=vmlinuz,initrd=initrd.gz,mem=${mem}M,cpus=1${MIG_VM_OPTS:+,$MIG_VM_OPTS},cmdline=\"console=ttyS0 quiet utsuwa.migbench=$args\""
	# Ten lines before the migration: the baseline.
	wait_on a "^\\[$vm\\] mig-bench: t=10 " 300 || fail "utsuwa: the $w VM did not reach mig-bench's t=10 on A"
	since a | grep -a "^\\[$vm\\] mig-bench: \\(clocksource\\|dmesg\\)" | sed "s/^\\[$vm\\] /bench-migrate: utsuwa guest: /"
	local base
	base=$(since a | sed -n "s/^\\[$vm\\] mig-bench: t=\\([0-9]*\\) maxgap_us=\\([0-9]*\\) .*print_us=\\([0-9]*\\).*/\\1 \\2 \\3/p" |
		awk '$1 > 1 { if ($2 > m) m = $2; if ($3 > m) m = $3 } END { print m + 0 }')
	set_mark a
	set_mark b
	t=$(date +%s)
	cmd a "migrate $vm 10.0.3.51:8081"
	wait_on a "migrate: vm $vm: runs on 10.0.3.51:8081 now|migrate: vm $vm to .*stays here" 900 ||
		fail "utsuwa: the $w migration did not end in 900 s"
	said=$(since a | grep -aE "migrate: vm $vm: runs on|migrate: vm $vm to .*stays here" | tail -n 1)
	echo "bench-migrate: utsuwa $w: ${said#migrate: } ($(($(date +%s) - t)) s)"
	case $said in *"runs on"*) ;; *) fail "utsuwa: the $w migration failed: $said" ;; esac
	local end=$((SECONDS + 120))
	until [ "$(since b | grep -ac "^\\[$vm\\] mig-bench: t=[0-9]* maxgap")" -ge 3 ]; do
		[ $SECONDS -lt $end ] || fail "utsuwa: the $w VM printed no 3 lines on B in 120 s"
		sleep 0.5
	done
	# The window: A's lines since the command, B's first three.
	# "<longest gap> <largest step back>", in us.
	local guest back
	read -r guest back <<<"$({ since a | grep -a "^\\[$vm\\] mig-bench: t=[0-9]* maxgap"
		since b | grep -a "^\\[$vm\\] mig-bench: t=[0-9]* maxgap" | head -n 3; } |
		sed -n 's/.*maxgap_us=\([0-9]*\) .*print_us=\([0-9]*\) back_us=\([0-9]*\).*/\1 \2 \3/p' |
		awk '{ if ($1 > m) m = $1; if ($2 > m) m = $2; if ($3 > b) b = $3 } END { print m + 0, b + 0 }')"
	# "runs on IP now; R rounds, P pages, K KiB in T ms, downtime D ms"
	echo "$said" | sed -n "s/.*; \\([0-9]*\\) rounds, \\([0-9]*\\) pages, \\([0-9]*\\) KiB in \\([0-9]*\\) ms, downtime \\([0-9]*\\) ms.*/$w guest_us=$guest back_us=$back base_us=$base host_ms=\\5 total_ms=\\4 pages=\\2 rounds=\\1 kib=\\3/p" >>"$out/utsuwa.out"
	since b | grep -a "^\\[$vm\\] mig-bench: t=[0-9]* maxgap" | head -n 3 | sed "s/^/bench-migrate: utsuwa on B: /"
	cmd b "destroy $vm"
	wait_on b "vm $vm: destroyed" 60 || fail "utsuwa: destroy $vm on B"
}
: >"$out/utsuwa.out"
t=$(date +%s)
utsuwa_run idle mbi idle
utsuwa_run dirty mbd "dirty,$dmib,$drate"
usec=$(($(date +%s) - t))
exec 3>&- 4>&-
for p in $pids; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
pids=

# ---- KVM in two L1 machines ----
: >"$out/kvm.out"
kvm_na= ksec=-
if [ "${MIG_KVM:-1}" = 0 ]; then
	kvm_na="MIG_KVM=0"
elif [ ! -f "$peer/vmlinuz" ] || [ ! -f "$peer/initramfs.cpio" ] ||
	! cpio -it --quiet <"$peer/initramfs.cpio" 2>/dev/null | grep -qx migrate-init; then
	kvm_na="no L1 system with migrate-init in $peer (make peer-l1)"
else
	t=$(date +%s)
	MIG_MEM=$mem MIG_DOWNTIME=$dtl bash "$root/bench/peer/migrate.sh" "$peer" "$out" "idle dirty,$dmib,$drate" >"$out/kvm.out" 2>"$out/kvm.err" ||
		kvm_na="the L1 run failed (bench/peer/migrate.sh; $out/kvm.err, l1-a.log, l1-b.log)"
	ksec=$(($(date +%s) - t))
	[ -z "$kvm_na" ] || { echo "bench-migrate: KVM side: $kvm_na:" >&2; tail -n 40 "$out/kvm.err" >&2; }
	grep '^bench-migrate: ' "$out/kvm.out"
fi

# ---- the figures ----
awk -v na="$kvm_na" -v ram=$((mem * 256)) '
	function val(line, key,   i, n, f) {
		n = split(line, f, " ")
		for (i = 1; i <= n; i++) if (index(f[i], key "=") == 1) return substr(f[i], length(key) + 2)
		return ""
	}
	$1 == "idle" || $1 == "dirty" {
		if (FILENAME ~ /kvm.out$/) kvm[$1] = $0
		else { utsuwa[$1] = $0; order[++n] = $1 }
	}
	function show(w, name, key, scale, fmt,   u, k) {
		u = val(utsuwa[w], key); k = (w in kvm) ? val(kvm[w], key) : ""
		printf "migrate %s-%s utsuwa=" fmt " kvm=%s%s\n", w, name, u / scale,
		       (k == "" ? "n/a" : sprintf(fmt, k / scale)), (name == "pages" ? " ram_pages=" ram : "")
	}
	END {
		for (i = 1; i <= n; i++) {
			w = order[i]
			show(w, "downtime-guest", "guest_us", 1000, "%.1f")
			show(w, "downtime-host", "host_ms", 1, "%d")
			show(w, "total", "total_ms", 1, "%d")
			show(w, "pages", "pages", 1, "%d")
			show(w, "baseline-gap", "base_us", 1000, "%.1f")
			show(w, "clock-back", "back_us", 1000, "%.1f")
		}
		if (na != "") printf "bench-migrate: kvm=n/a: %s\n", na
		if (!n) { print "bench-migrate: no figures from utsuwa"; exit 1 }
		# A clock that went back is a bug: said on its own line.
		for (i = 1; i <= n; i++) {
			w = order[i]
			if (val(utsuwa[w], "back_us") + 0 > 0)
				printf "bench-migrate: utsuwa %s: the guest'"'"'s clock went back %.1f ms in the window\n", w, val(utsuwa[w], "back_us") / 1000
			if ((w in kvm) && val(kvm[w], "back_us") + 0 > 0)
				printf "bench-migrate: kvm %s: the guest'"'"'s clock went back %.1f ms in the window\n", w, val(kvm[w], "back_us") / 1000
		}
		# Issue 14: downtime and pages sent below KVM'"'"'s.
		for (i = 1; i <= n; i++) {
			w = order[i]
			if (!(w in kvm)) continue
			split("downtime-guest guest_us downtime-host host_ms pages pages", f, " ")
			for (j = 1; j <= 6; j += 2) {
				u = val(utsuwa[w], f[j + 1]) + 0; k = val(kvm[w], f[j + 1]) + 0
				printf "bench-migrate: target %s-%s utsuwa < kvm: %s (%s vs %s)\n", w, f[j],
				       (u < k ? "met" : "not met"), u, k
			}
		}
	}' "$out/utsuwa.out" "$out/kvm.out" || exit 1
echo "bench-migrate: utsuwa run ${usec}s, KVM (L1) run ${ksec}s; $(($(date +%s) - start))s in all" \
	"(MIG_MEM=$mem, dirty $dmib MiB at $drate MiB/s, downtime target $dtl ms on both)"
[ -z "$kvm_na" ] || [ "${MIG_KVM:-1}" = 0 ] || exit 1
