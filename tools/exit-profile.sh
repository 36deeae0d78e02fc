#!/bin/sh
# Where the instructions of one exit round trip go, function by function.
# Runs the bench guest under QEMU -icount with one instruction per block and
# -d exec, takes one iteration of the exit whose round trip (VMRUN to VMRUN,
# guest included) is LINES instructions long, and counts instructions per
# hypervisor symbol. Slow (a few minutes) and needs ~4 GB in /tmp.
#
#   tools/exit-profile.sh LINES      e.g. the cpuid figure of `make bench` + ~10
#   tools/exit-profile.sh            histogram of round-trip lengths, to pick one
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/qemu-svm-cpu.sh"
tmp=${TMPDIR:-/tmp}/exit-profile
mkdir -p "$tmp"
cp "$root/build/utsuwa.elf" "$tmp/hv.elf"
cp "$root/build/guests/bench.bin" "$tmp/bench.bin"
if [ ! -s "$tmp/trace.log" ] || [ "$tmp/hv.elf" -nt "$tmp/trace.log" ]; then
	rm -f "$tmp/trace.log"
	timeout 600 qemu-system-x86_64 -singlestep -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 1 \
		-icount shift=0,sleep=off -display none -monitor none -serial "file:$tmp/serial.log" \
		-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$tmp/hv.elf" \
		-append "exit=qemu vm=bench,image=bench.bin,mode=long,mem=16M,cpus=1,expect=0" \
		-initrd "$tmp/bench.bin" -d exec,nochain -D "$tmp/trace.log" 2>/dev/null || true
fi
vmrun=$(objdump -d "$tmp/hv.elf" --no-show-raw-insn | awk '$2=="vmrun"{sub(":","",$1); print $1}')
grep -n "/0000000000$vmrun/" "$tmp/trace.log" | cut -d: -f1 >"$tmp/vmruns"
if [ $# -eq 0 ]; then
	awk 'NR>1{print $1-p} {p=$1}' "$tmp/vmruns" | sort -n | uniq -c | sort -rn | head -12
	exit 0
fi
start=$(awk -v n="$1" 'NR>1 && $1-p==n {print p; exit} {p=$1}' "$tmp/vmruns")
[ -n "$start" ] || { echo "no round trip of $1 instructions" >&2; exit 1; }
sed -n "${start},$((start + $1 - 1))p" "$tmp/trace.log" |
	sed 's/.*\/0*\([0-9a-f]*\)\/\([0-9a-f]*\)\/.*/0x\1 \2/' >"$tmp/one"
cut -d' ' -f1 "$tmp/one" | addr2line -f -e "$tmp/hv.elf" | awk 'NR%2==1' >"$tmp/syms"
# Guest instructions run with the guest's hflags: count them apart.
guestflags=$(cut -d' ' -f2 "$tmp/one" | sort | uniq -c | sort -n | head -1 | awk '{print $2}')
paste -d' ' "$tmp/syms" "$tmp/one" | awk -v g="$guestflags" '{ if ($3 == g) print "(guest)"; else print $1 }' |
	sort | uniq -c | sort -rn
