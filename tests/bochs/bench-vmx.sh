#!/bin/bash
# The exit benchmark under Bochs (VT-x): boots utsuwa with the bench guest
# on one emulated CPU, where the TSC advances by one per executed
# instruction, so each figure is the instructions of one exit round trip,
# as QEMU's -icount gives for AMD-V (bench/README.md). Prints the guest's
# lines without the "[bench] " prefix:   exit <kind> vmx min=<N> median=<N>
#
#   bench-vmx.sh [KERNEL [BENCH_IMAGE]]
# Environment: BOCHS (default bochs), BENCH_TIMEOUT (s, default 600).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kernel=${1:-$root/build/utsuwa.elf}
image=${2:-$root/build/guests/bench.bin}
out=$root/build/bochs-bench
for f in "$kernel" "$image"; do
	[ -f "$f" ] || { echo "bench-vmx: missing $f (make first)" >&2; exit 2; }
done
mkdir -p "$out" || exit 2
# One case, one CPU; run-bochs.sh scales the timeout by 1 here.
echo "bench-vmx 1 ${BENCH_TIMEOUT:-600} exit=bochs \
vm=bench,image=$(basename "$image"),mode=long,mem=16M,cpus=1,expect=0" >"$out/matrix.cfg"
bash "$here/run-bochs.sh" -j 1 -t 1 -f "$out/matrix.cfg" -k "$kernel" \
	-g "$(dirname "$image")" -o "$out" >"$out/run.out" 2>&1
rc=$?
tr -d '\r' <"$out/bench-vmx/serial.log" 2>/dev/null | sed -n 's/^\[bench\] //p'
if [ "$rc" -ne 0 ]; then
	echo "bench-vmx: failed; the runner said:" >&2
	cat "$out/run.out" >&2
	exit 1
fi
