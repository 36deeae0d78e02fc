#!/bin/sh
# The exit benchmark (bench/README.md): boots utsuwa with the bench guest under
# QEMU TCG with -icount shift=0,sleep=off on one CPU, where one TSC tick is one
# executed instruction, and prints the guest's lines without the "[bench] "
# prefix:   exit <kind> <backend> min=<N> median=<N>
#
#   bench/run.sh [KERNEL [BENCH_IMAGE]]
# Environment: QEMU (default qemu-system-x86_64), BENCH_TIMEOUT (s, default 600).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-$root/build/utsuwa.elf}
image=${2:-$root/build/guests/bench.bin}
qemu=${QEMU:-qemu-system-x86_64}
. "$root/scripts/qemu-svm-cpu.sh"
log=$root/build/bench.log
mkdir -p "$root/build"
for f in "$kernel" "$image"; do
	[ -f "$f" ] || { echo "bench: missing $f (make first)" >&2; exit 2; }
done
rm -f "$log"
timeout -k 10 "${BENCH_TIMEOUT:-600}" "$qemu" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 1 \
	-icount shift=0,sleep=off -display none -monitor none -serial "file:$log" -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$kernel" \
	-append "exit=qemu vm=bench,image=$(basename "$image"),mode=long,mem=16M,cpus=1,expect=0" \
	-initrd "$image" </dev/null
rc=$?
tr -d '\r' <"$log" 2>/dev/null | sed -n 's/^\[bench\] //p'
if [ "$rc" -ne 1 ]; then
	echo "bench: failed (QEMU exit status $rc; 1 means every VM as expected); the log, $log:" >&2
	tr -d '\r' <"$log" 2>/dev/null | tail -n 100 >&2
	exit 1
fi
