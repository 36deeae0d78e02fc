#!/bin/bash
# The Linux-boot benchmark (bench/README.md, "Linux boot"; issue 4 item 11):
# Debian's kernel and the busybox initramfs boot to the shell natively in
# QEMU and as a utsuwa guest, in one run, on one emulated CPU with 256 MiB.
# The command line is the same in both: "console=ttyS0 utsuwa.bench", with
# which /init runs utsuwa-tsc where the shell would start, prints
# "utsuwa-bench: shell-ready tsc=<N>" and powers off.
#
# Two measures, each from power-on to that line:
#   instructions  under -icount shift=0,sleep=off, where the TSC counts
#                 executed instructions (and idle time, skipped at one tick a
#                 nanosecond). Natively the guest's TSC is that count. Under
#                 utsuwa the guest's TSC starts at 0 when its VM is created;
#                 utsuwa logs the host TSC then, and the two add up. Both
#                 include SeaBIOS, which boots Linux natively and utsuwa
#                 (a multiboot kernel) otherwise.
#   wall clock    without -icount, seconds from QEMU's start until the line
#                 appears on the console: the best of BOOT_RUNS runs (3).
#
# The guest also prints /proc/uptime there: its second figure, the time the
# CPU idled, is subtracted from the instructions to give "busy" instructions
# (the idle time is nanoseconds of the icount clock, one per instruction).
#
# Prints one line for each side and the ratios utsuwa/native:
#   linux-boot native instructions=<N> idle=<N> busy=<N> wall=<s>
#   linux-boot svm instructions=<N> (utsuwa <N> + guest <N>) idle=<N> busy=<N> wall=<s>
#   linux-boot svm ratio=<R> busy_ratio=<R> wall_ratio=<R>
# ratio is of instructions (the figure issue 4 sets a target for: 1.15).
#
#   bench/linux-boot.sh [KERNEL [GUEST_DIR]]
# KERNEL: build/utsuwa.elf; GUEST_DIR: build/guests (vmlinuz, initrd.gz).
# Environment: QEMU, BOOT_RUNS (wall-clock runs per side, default 3; 0: no
# wall clock, as make bench-peer runs it),
# BOOT_TIMEOUT (s per run, default 600). Logs stay in build/linux-boot/.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-$root/build/utsuwa.elf}
guests=${2:-$root/build/guests}
qemu=${QEMU:-qemu-system-x86_64}
. "$root/scripts/qemu-svm-cpu.sh"
. "$root/bench/marks.sh"
runs=${BOOT_RUNS:-3}
limit=${BOOT_TIMEOUT:-600}
out=$root/build/linux-boot
mkdir -p "$out"
for f in "$kernel" "$guests/vmlinuz" "$guests/initrd.gz"; do
	[ -f "$f" ] || { echo "linux-boot: missing $f (make, make linux-guest)" >&2; exit 2; }
done

cmdline="console=ttyS0 utsuwa.bench"
marker="utsuwa-bench: shell-ready tsc="
common=(-accel tcg -cpu "$QEMU_SVM_CPU" -smp 1 -display none -monitor none -no-reboot)
native=(-m 256M -kernel "$guests/vmlinuz" -initrd "$guests/initrd.gz" -append "$cmdline")
utsuwa=(-m 1G -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$kernel"
	-append "exit=qemu vm=lin,image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=1,expect=0,cmdline=\"$cmdline\""
	-initrd "$guests/vmlinuz,$guests/initrd.gz")

# icount SIDE: boots under -icount with the serial console in
# build/linux-boot/SIDE-icount.log; prints the instruction count.
icount() {
	local side=$1 log=$out/$1-icount.log tsc base idle
	shift
	rm -f "$log"
	timeout -k 10 "$limit" "$qemu" "${common[@]}" -icount shift=0,sleep=off \
		-serial "file:$log" "$@" </dev/null >"$out/$side-icount.qemu" 2>&1
	tsc=$(mark "$log" "${marker% tsc=}")
	[ -n "$tsc" ] || { echo "linux-boot: $side: no \"$marker\" line (log: $log)" >&2; return 1; }
	base=0
	if [ "$side" = svm ]; then
		base=$(tr -d '\r' <"$log" | sed -n 's/^utsuwa: vm lin: .*TSC 0 at host TSC \([0-9]*\)$/\1/p')
		[ -n "$base" ] || { echo "linux-boot: svm: no VM creation line (log: $log)" >&2; return 1; }
	fi
	# The CPU's idle seconds by the guest's clock, as nanoseconds.
	idle=$(tr -d '\r' <"$log" | sed -n 's/.*utsuwa-bench: uptime [0-9.]* \([0-9.]*\)$/\1/p' | head -n 1)
	[ -n "$idle" ] || { echo "linux-boot: $side: no uptime line (log: $log)" >&2; return 1; }
	idle=$(awk -v s="$idle" 'BEGIN { printf "%.0f", s * 1e9 }')
	echo "$((base + tsc)) $base $tsc $idle"
}

# wall SIDE: the best of $runs boots, in seconds from QEMU's start to the
# marker on the console (read as it comes: QEMU's serial on stdout).
wall() {
	local side=$1 best= t0 t1 i
	shift
	for ((i = 1; i <= runs; i++)); do
		t0=$(date +%s%N)
		t1=$(timeout -k 10 "$limit" "$qemu" "${common[@]}" -serial stdio "$@" </dev/null \
			2>"$out/$side-wall.qemu" | tee "$out/$side-wall.log" |
			while IFS= read -r line; do
				case $line in *"$marker"*) date +%s%N ;; esac
			done | head -n 1)
		[ -n "$t1" ] || { echo "linux-boot: $side: no \"$marker\" line (log: $out/$side-wall.log)" >&2; return 1; }
		t1=$((t1 - t0))
		if [ -z "$best" ] || [ "$t1" -lt "$best" ]; then best=$t1; fi
	done
	echo "$best"
}

# The two icount runs are deterministic: side by side. The timed runs go one at a time.
icount native "${native[@]}" >"$out/native.icount" &
pid=$!
icount svm "${utsuwa[@]}" >"$out/svm.icount" || exit 1
wait "$pid" || exit 1
read -r n_ins _ _ n_idle <"$out/native.icount"
read -r s_ins s_base s_guest s_idle <"$out/svm.icount"
n_wall=0 s_wall=0
if [ "$runs" -gt 0 ]; then
	n_wall=$(wall native "${native[@]}") || exit 1
	s_wall=$(wall svm "${utsuwa[@]}") || exit 1
fi

# Seconds from nanoseconds; "-" when not measured.
secs() { awk -v ns="$1" 'BEGIN { if (ns > 0) printf "%.2fs", ns / 1e9; else printf "-" }'; }
echo "linux-boot native instructions=$n_ins idle=$n_idle busy=$((n_ins - n_idle)) wall=$(secs "$n_wall")"
echo "linux-boot svm instructions=$s_ins (utsuwa $s_base + guest $s_guest) idle=$s_idle" \
	"busy=$((s_ins - s_idle)) wall=$(secs "$s_wall")"
awk -v si="$s_ins" -v ni="$n_ins" -v sb="$((s_ins - s_idle))" -v nb="$((n_ins - n_idle))" \
	-v sw="$s_wall" -v nw="$n_wall" 'BEGIN {
	printf "linux-boot svm ratio=%.3f busy_ratio=%.3f wall_ratio=%s\n", si / ni, sb / nb,
		(nw > 0 ? sprintf("%.3f", sw / nw) : "-")
	if (si / ni > 1.15)
		printf "linux-boot: the instruction ratio is above the target of 1.15\n"
}'
