#!/bin/sh
# make bench-peer (bench/README.md, "Side by side with KVM"): utsuwa against
# KVM, all in QEMU TCG with -cpu qemu64,+svm,+npt (scripts/qemu-svm-cpu.sh),
# one CPU and -icount shift=0,sleep=off, the runs side by side:
#
# - the exit benchmark under utsuwa (bench/run.sh) and under KVM in an L1
#   Linux (bench/peer/run.sh); per exit kind
#     peer <kind> utsuwa=<N> kvm=<N> ratio=<kvm/utsuwa>
#   with N the smallest sample (instructions per round trip), and whether
#   utsuwa's CPUID round trip is at most a tenth of KVM's (issue 5's target);
# - Linux's boot to the shell natively and under utsuwa
#   (BOOT_RUNS=0 bench/linux-boot.sh) and under KVM with QEMU in the same L1
#   (bench/peer/init); instructions from power-on (native), from the VM's
#   creation (utsuwa's guest figure) or from the L2 machine's reset (KVM):
#     peer linux-boot native=<N> utsuwa=<N> kvm=<N>
#     peer linux-boot overhead utsuwa=<R> kvm=<R>          (figure/native)
#     peer linux-boot utsuwa_total=<N> overhead=<R>        (utsuwa's own start included)
#     peer linux-boot idle native=<N> utsuwa=<N> kvm=<N>   (ns the CPU idled, inside the figures)
#   and whether utsuwa's overhead is below KVM's (issue 5's target).
# A missed target is reported, not an error. The outputs of the runs stay in
# build/peer/utsuwa.out, build/peer/kvm.out and build/peer/linux-boot.out.
#
#   bench/peer/bench-peer.sh [KERNEL [BENCH_IMAGE [PEER_DIR [GUEST_DIR]]]]
# The environment of bench/run.sh, bench/peer/run.sh and bench/linux-boot.sh
# applies; PEER_LINUX=0 leaves the Linux boot out.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
kernel=${1:-$root/build/utsuwa.elf}
image=${2:-$root/build/guests/bench.bin}
out=${3:-$root/build/peer}
guests=${4:-$root/build/guests}
linux=${PEER_LINUX:-1}
mkdir -p "$out"
rm -f "$out/utsuwa.rc" "$out/kvm.rc" "$out/linux-boot.rc" "$out/linux-boot.out"

# bg NAME COMMAND...: runs it in the background; NAME.out, NAME.err, and
# NAME.rc ("<status> <seconds>").
bg() {
	(
		n=$1
		shift
		t=$(date +%s)
		"$@" >"$out/$n.out" 2>"$out/$n.err"
		echo "$? $(($(date +%s) - t))" >"$out/$n.rc"
	) &
}

start=$(date +%s)
# The L1 run is the longest: it starts first. The Linux boots of
# bench/linux-boot.sh (native and utsuwa, two QEMUs) and utsuwa's exit
# benchmark share the other core with it.
bg kvm sh "$root/bench/peer/run.sh" "$out"
kpid=$!
if [ "$linux" != 0 ]; then
	bg linux-boot env BOOT_RUNS=0 bash "$root/bench/linux-boot.sh" "$kernel" "$guests"
	lpid=$!
fi
bg utsuwa sh "$root/bench/run.sh" "$kernel" "$image"
wait $!
[ "$linux" != 0 ] && wait "$lpid"
wait "$kpid"
read -r urc usec <"$out/utsuwa.rc"
read -r krc ksec <"$out/kvm.rc"
lrc=0 lsec=-
[ "$linux" != 0 ] && read -r lrc lsec <"$out/linux-boot.rc"

sed -n 's/^peer-l1: \(Linux .*\), up.*/bench-peer: L1 \1/p
	s/^peer-l1: \(kvm_amd .*\)/bench-peer: L1 \1/p
	s/^peer-l1: \(spectre_v2: .*\)/bench-peer: L1 \1/p
	s/^peer-l1: \(retbleed: .*\)/bench-peer: L1 \1/p' "$out/kvm.out"
fail=0
if [ "$urc" != 0 ]; then
	echo "bench-peer: utsuwa's exit benchmark (bench/run.sh) failed:" >&2
	cat "$out/utsuwa.err" >&2
	fail=1
fi
if [ "$krc" != 0 ]; then
	echo "bench-peer: the KVM side (bench/peer/run.sh) failed:" >&2
	cat "$out/kvm.err" >&2
	fail=1
fi
if [ "$lrc" != 0 ]; then
	echo "bench-peer: the native and utsuwa Linux boots (bench/linux-boot.sh) failed:" >&2
	cat "$out/linux-boot.out" "$out/linux-boot.err" >&2
	fail=1
fi

# exit <kind> <backend> min=<N> median=<N>, from both; utsuwa's order.
awk '
	$1 == "exit" && NF == 5 {
		split($4, m, "=")
		if ($3 == "kvm") kvm[$2] = m[2]
		else { utsuwa[$2] = m[2]; order[++n] = $2 }
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (!(k in kvm)) { printf "peer %s utsuwa=%s kvm=missing\n", k, utsuwa[k]; bad = 1; continue }
			printf "peer %s utsuwa=%s kvm=%s ratio=%.2f\n", k, utsuwa[k], kvm[k],
			       (utsuwa[k] > 0 ? kvm[k] / utsuwa[k] : 0)
		}
		if (!n) { print "bench-peer: no exit figures from utsuwa"; bad = 1 }
		# Issue 5: a CPUID round trip in at most a tenth of KVM'"'"'s instructions.
		if (("cpuid" in utsuwa) && ("cpuid" in kvm))
			printf "bench-peer: target cpuid utsuwa <= kvm/10: %s (%s vs %.1f)\n",
			       (10 * utsuwa["cpuid"] <= kvm["cpuid"] ? "met" : "not met"),
			       utsuwa["cpuid"], kvm["cpuid"] / 10
		exit bad
	}' "$out/utsuwa.out" "$out/kvm.out" || fail=1

# The guest timer's latency (bench/bench.c), both side by side as printed:
#   timer latency <backend> min=<N> median=<N> max=<N>
grep -h '^timer latency' "$out/utsuwa.out" "$out/kvm.out" | sed 's/^/peer /'

# The Linux boot: native and utsuwa from bench/linux-boot.sh, KVM from the L1.
#   linux-boot native instructions=<N> idle=<N> busy=<N> wall=-
#   linux-boot svm instructions=<N> (utsuwa <N> + guest <N>) idle=<N> busy=<N> wall=-
#   peer-l1: linux-boot kvm tsc=<N> uptime=<s> idle=<s> qemu_run=<N>
if [ "$linux" != 0 ]; then
	[ -z "${PEER_L2_APPEND:-}" ] || echo "bench-peer: PEER_L2_APPEND=\"$PEER_L2_APPEND\" for KVM's" \
		"Linux guest only: its Linux-boot figures are not like for like"
	sed -n 's/^peer-l1: l2| \(utsuwa-guest: Linux .*\)/bench-peer: L2 \1/p' "$out/kvm.out"
	awk '
		function val(key,   i) {
			for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) return substr($i, length(key) + 2)
			return ""
		}
		$1 == "linux-boot" && $2 == "native" && $3 ~ /^instructions=/ { n = val("instructions"); nidle = val("idle") }
		$1 == "linux-boot" && $2 == "svm" && $3 ~ /^instructions=/ {
			st = val("instructions"); sidle = val("idle")
			for (i = 1; i <= NF; i++) if ($i == "(utsuwa") { sbase = $(i + 1); sg = $(i + 4); sub(/\)$/, "", sg) }
		}
		$1 == "peer-l1:" && $2 == "linux-boot" && $3 == "kvm" {
			k = val("tsc"); kidle = sprintf("%.0f", val("idle") * 1e9)
		}
		END {
			if (n == "" || sg == "" || k == "") {
				printf "peer linux-boot native=%s utsuwa=%s kvm=%s\n",
				       (n == "" ? "missing" : n), (sg == "" ? "missing" : sg), (k == "" ? "missing" : k)
				exit 1
			}
			printf "peer linux-boot native=%s utsuwa=%s kvm=%s\n", n, sg, k
			printf "peer linux-boot overhead utsuwa=%.3f kvm=%.3f\n", sg / n, k / n
			printf "peer linux-boot utsuwa_total=%s (utsuwa %s + guest %s) overhead=%.3f\n",
			       st, sbase, sg, st / n
			printf "peer linux-boot idle native=%s utsuwa=%s kvm=%s\n", nidle, sidle, kidle
			# Issue 5: booting Linux costs less over native under utsuwa than under KVM.
			printf "bench-peer: target linux-boot overhead utsuwa < kvm: %s (%+.1f%% vs %+.1f%% over native;" \
			       " with utsuwa'"'"'s own start %+.1f%%)\n",
			       (sg < k ? "met" : "not met"), 100 * (sg / n - 1), 100 * (k / n - 1), 100 * (st / n - 1)
		}' "$out/linux-boot.out" "$out/kvm.out" || fail=1
fi
[ "$linux" != 0 ] && lsec="${lsec}s" || lsec="left out"
echo "bench-peer: KVM (L1) run ${ksec}s, utsuwa's exit benchmark ${usec}s, native and utsuwa Linux boots $lsec;" \
	"$(($(date +%s) - start))s in all (side by side)"
exit $fail
