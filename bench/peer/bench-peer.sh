#!/bin/sh
# make bench-peer (bench/README.md, "Side by side with KVM"): the exit
# benchmark under utsuwa (bench/run.sh) and under KVM in an L1 Linux
# (bench/peer/run.sh), both in QEMU TCG with -cpu qemu64,+svm,+npt (scripts/qemu-svm-cpu.sh), one CPU and
# -icount shift=0,sleep=off, run side by side; then per exit kind
#
#   peer <kind> utsuwa=<N> kvm=<N> ratio=<kvm/utsuwa>
#
# with N the smallest sample (instructions per round trip), and whether
# utsuwa's CPUID round trip is at most a tenth of KVM's (issue 5's target; a
# miss is reported, not an error). The outputs of the two runs stay in
# build/peer/utsuwa.out and build/peer/kvm.out.
#
#   bench/peer/bench-peer.sh [KERNEL [BENCH_IMAGE [PEER_DIR]]]
# The environment of bench/run.sh and bench/peer/run.sh applies.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
kernel=${1:-$root/build/utsuwa.elf}
image=${2:-$root/build/guests/bench.bin}
out=${3:-$root/build/peer}
mkdir -p "$out"

start=$(date +%s)
(
	t=$(date +%s)
	sh "$root/bench/run.sh" "$kernel" "$image" >"$out/utsuwa.out" 2>"$out/utsuwa.err"
	echo "$? $(($(date +%s) - t))" >"$out/utsuwa.rc"
) &
pid=$!
t=$(date +%s)
sh "$root/bench/peer/run.sh" "$out" >"$out/kvm.out" 2>"$out/kvm.err"
krc=$?
ksec=$(($(date +%s) - t))
wait "$pid"
read -r urc usec <"$out/utsuwa.rc"

sed -n 's/^peer-l1: \(Linux .*\), up.*/bench-peer: L1 \1/p
	s/^peer-l1: \(kvm_amd .*\)/bench-peer: L1 \1/p
	s/^peer-l1: \(spectre_v2: .*\)/bench-peer: L1 \1/p
	s/^peer-l1: \(retbleed: .*\)/bench-peer: L1 \1/p' "$out/kvm.out"
fail=0
if [ "$urc" != 0 ]; then
	echo "bench-peer: utsuwa's bench failed:" >&2
	cat "$out/utsuwa.err" >&2
	fail=1
fi
if [ "$krc" != 0 ]; then
	echo "bench-peer: KVM's bench failed:" >&2
	cat "$out/kvm.err" >&2
	fail=1
fi
[ "$fail" = 0 ] || exit 1

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
		if (!n) { print "bench-peer: no figures from utsuwa"; bad = 1 }
		# Issue 5: a CPUID round trip in at most a tenth of KVM'"'"'s instructions.
		if (("cpuid" in utsuwa) && ("cpuid" in kvm))
			printf "bench-peer: target cpuid utsuwa <= kvm/10: %s (%s vs %.1f)\n",
			       (10 * utsuwa["cpuid"] <= kvm["cpuid"] ? "met" : "not met"),
			       utsuwa["cpuid"], kvm["cpuid"] / 10
		exit bad
	}' "$out/utsuwa.out" "$out/kvm.out"
rc=$?
echo "bench-peer: utsuwa run ${usec}s, KVM run ${ksec}s, $(($(date +%s) - start))s in all (side by side)"
exit $rc
