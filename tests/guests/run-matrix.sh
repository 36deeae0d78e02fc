#!/bin/bash
# Runs the guest test matrix (tests/guests/matrix.cfg) under QEMU TCG with
# AMD-V emulated (-cpu qemu64,+svm,+npt: scripts/qemu-svm-cpu.sh; never KVM), each case with a timeout.
#
#   run-matrix.sh [-j JOBS] [-f MATRIX] [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR] [CASE...]
#
# CASE arguments pick cases by name (shell patterns); default all.
# Prints "PASS <case>" or "FAIL <case>: <why>" followed by the case's serial
# log, then "guests: N passed, N failed". Exit status 0 only if all passed.
# Cases run JOBS at a time (default 2); results print in matrix order.
# Environment: QEMU (default qemu-system-x86_64), GUEST_JOBS (for -j),
# MATRIX_CPU_EXTRA (CPU features added to every case's -cpu: -npt runs the
# whole matrix on a CPU without nested paging, so with shadow page tables).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
matrix=$here/matrix.cfg
kernel=$root/build/utsuwa.elf
guest_dir=$root/build/guests
log_dir=$root/build/guests/logs
jobs=${GUEST_JOBS:-2}
qemu=${QEMU:-qemu-system-x86_64}
. "$root/scripts/qemu-svm-cpu.sh"

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while getopts j:f:k:g:o:h opt; do
	case $opt in
	j) jobs=$OPTARG ;;
	f) matrix=$OPTARG ;;
	k) kernel=$OPTARG ;;
	g) guest_dir=$OPTARG ;;
	o) log_dir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
case $jobs in '' | *[!0-9]* | 0) echo "run-matrix: bad job count '$jobs'" >&2; exit 2 ;; esac
[ -f "$matrix" ] || { echo "run-matrix: no matrix $matrix" >&2; exit 2; }
[ -f "$kernel" ] || { echo "run-matrix: no hypervisor image $kernel (make first)" >&2; exit 2; }
mkdir -p "$log_dir" || exit 2
# Two runs sharing a log directory (two `make test` in one tree) take turns.
exec 9>"$log_dir/.lock"
if ! flock -n 9; then
	echo "run-matrix: another run is using $log_dir; waiting for it" >&2
	flock 9
fi

# ---- read the matrix: case names, -smp, timeouts, configurations ----
names=() smps=() timeouts=() configs=()
selected() {
	[ $# -eq 1 ] && return 0
	local name=$1 p
	shift
	for p; do
		# shellcheck disable=SC2053
		[[ $name == $p ]] && return 0
	done
	return 1
}
add_case() {
	local line=$1 name smp timeout cfg
	read -r name smp timeout cfg <<<"$line"
	[ -n "$name" ] || return 0
	case $smp$timeout in '' | *[!0-9]*)
		echo "run-matrix: $matrix: bad case line: $line" >&2; exit 2 ;;
	esac
	[ -n "$cfg" ] || { echo "run-matrix: $matrix: case $name has no configuration" >&2; exit 2; }
	selected "$name" "${filters[@]}" || return 0
	names+=("$name") smps+=("$smp") timeouts+=("$timeout") configs+=("$cfg")
}
filters=("$@")
pending=""
while IFS= read -r raw || [ -n "$raw" ]; do
	raw=${raw%%#*}
	if [[ $raw =~ \\[[:space:]]*$ ]]; then
		pending+="${raw%\\*} "
		continue
	fi
	add_case "$pending$raw"
	pending=""
done <"$matrix"
[ -n "$pending" ] && add_case "$pending"
if [ ${#names[@]} -eq 0 ]; then
	echo "run-matrix: no case matches: $*" >&2
	echo "guests: 0 passed, 1 failed"
	exit 1
fi

# ---- one case ----
# Writes $log_dir/<case>.result: "PASS <case> (<s>s)" or "FAIL <case>: <why> (<s>s)".
run_case() {
	local name=$1 smp=$2 timeout=$3 cfg=$4
	local log=$log_dir/$name.log out=$log_dir/$name.qemu res=$log_dir/$name.result
	local word field img mods="" nvms=0 missing="" start rc summary why="" hvcfg=""
	local -a must_log=() devs=() machine=()
	local nested=0 accel=tcg
	local want_vms="" extra_mods="" ram=1G cpu=$QEMU_SVM_CPU${MATRIX_CPU_EXTRA:+,$MATRIX_CPU_EXTRA}

	rm -f "$log" "$out" "$res"
	# Words for the runner, not the hypervisor: @vms=<n> (how many VMs end;
	# default: one per vm= word), @log=<regex> (a line the log must have),
	# @mod=<file> (one more boot module), @ram=<size> (the machine's memory,
	# QEMU -m; default 1G), @cpu=<flags> (added to QEMU's -cpu), @dev=<device>
	# (one more QEMU -device: a machine's PCI function to pass through), @nested
	# (the case needs nested paging: skipped when MATRIX_CPU_EXTRA has -npt),
	# @iommu=amd|intel (a q35 machine with QEMU's amd-iommu or intel-iommu,
	# before any other device), @tcg=single (QEMU's TCG on one host thread,
	# not one per CPU: QEMU 7.2 loses updates of CPU 0's SVM state when
	# another CPU restores x87 state, README "Robustness"; for the cases that
	# do that and exit all the time).
	for word in $cfg; do
		case $word in
		@vms=*) want_vms=${word#@vms=} ;;
		@ram=*) ram=${word#@ram=} ;;
		@log=*) must_log+=("${word#@log=}") ;;
		@mod=*) extra_mods+="${extra_mods:+,}$root/${word#@mod=}" ;;
		@cpu=*) cpu+=",${word#@cpu=}" ;;
		@dev=*) devs+=(-device "${word#@dev=}") ;;
		@iommu=*) machine=(-machine q35 -device "${word#@iommu=}-iommu") ;;
		@tcg=*) accel=tcg,thread=${word#@tcg=} ;;
		@nested) nested=1 ;;
		*) hvcfg+="${hvcfg:+ }$word" ;;
		esac
	done
	cfg=$hvcfg
	for word in $cfg; do
		[[ $word == vm=* ]] || continue
		nvms=$((nvms + 1))
		img=""
		IFS=, read -ra fields <<<"$word"
		for field in "${fields[@]}"; do
			case $field in
			image=* | initrd=*) img=${field#*=} ;;
			*) continue ;;
			esac
			case $img in missing-*) continue ;; esac # deliberately absent
			# One module per image, however many VMs run it.
			case ",$mods," in *",$guest_dir/$img,"*) continue ;; esac
			mods+="${mods:+,}$guest_dir/$img"
			[ -f "$guest_dir/$img" ] || missing+=" $img"
		done
	done
	if [ "$nested" = 1 ] && [[ ,$cpu, == *,-npt,* ]]; then
		echo "PASS $name (skipped: needs nested paging, the CPU has -npt)" >"$res"
		return
	fi
	[ -n "$want_vms" ] && nvms=$want_vms
	[ -n "$extra_mods" ] && mods+="${mods:+,}$extra_mods"
	if [ -n "$missing" ]; then
		echo "FAIL $name: missing guest image(s):$missing (make guests)" >"$res"
		return
	fi
	start=$(date +%s)
	timeout -k 10 "$timeout" "$qemu" -accel "$accel" -cpu "$cpu" -m "$ram" -smp "$smp" \
		-display none -monitor none -serial "file:$log" -no-reboot \
		"${machine[@]}" -device isa-debug-exit,iobase=0xf4,iosize=4 "${devs[@]}" \
		-kernel "$kernel" -append "$cfg" ${mods:+-initrd "$mods"} \
		</dev/null >"$out" 2>&1
	rc=$?
	summary=$(tr -d '\r' <"$log" 2>/dev/null | grep -a 'utsuwa: all VMs ended:' | tail -n 1)
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="timed out after ${timeout}s"
	elif [ "$rc" -ne 1 ]; then
		case $rc in
		3) why="QEMU exit status 3: a VM not as expected" ;;
		0) why="QEMU exit status 0: the machine reset or shut down (triple fault?)" ;;
		*) why="QEMU exit status $rc" ;;
		esac
	elif [ -z "$summary" ]; then
		why="no 'all VMs ended' line in the log"
	elif ! [[ $summary =~ all\ VMs\ ended:\ ([0-9]+)\ as\ expected,\ ([0-9]+)\ not ]]; then
		why="cannot read: $summary"
	elif [ "${BASH_REMATCH[2]}" -ne 0 ] || [ "${BASH_REMATCH[1]}" -ne "$nvms" ]; then
		why="${summary#*utsuwa: } ($nvms VMs configured)"
	fi
	if [ -z "$why" ]; then
		for word in "${must_log[@]}"; do
			tr -d '\r' <"$log" | grep -aqE -- "$word" || { why="no log line matches '$word'"; break; }
		done
	fi
	if [ -z "$why" ]; then
		echo "PASS $name ($(($(date +%s) - start))s)" >"$res"
	else
		echo "FAIL $name: $why ($(($(date +%s) - start))s)" >"$res"
	fi
	# What the hypervisor repaired to go on (core/sched.c, core/sched_timer.c, arch/x86/gs_guard.c):
	# shown under the result, whatever it was; these are bugs to report.
	tr -d '\r' <"$log" | grep -aE 'was halted with an interrupt to take and not woken|GS base was|timer interrupt was over 110 ms late' |
		head -n 3 | sed "s/^/  | $name, repaired: /" >>"$res"
}

# Prints a finished case's result; a failure with its QEMU output and serial log.
passed=0 failed=0
report() {
	local name=$1 res=$log_dir/$1.result
	if [ ! -s "$res" ]; then
		echo "FAIL $name: the runner lost its result" >"$res"
	fi
	cat "$res"
	if grep -q '^PASS ' "$res"; then
		passed=$((passed + 1))
		return
	fi
	failed=$((failed + 1))
	# QEMU's own messages, less its warnings about CPU features TCG lacks.
	if grep -qv "TCG doesn't support requested feature" "$log_dir/$name.qemu" 2>/dev/null; then
		echo "---- $name: QEMU output ($log_dir/$name.qemu)"
		grep -v "TCG doesn't support requested feature" "$log_dir/$name.qemu" | sed 's/^/  | /'
	fi
	if [ -f "$log_dir/$name.log" ]; then
		echo "---- $name: serial log ($log_dir/$name.log, last 300 lines)"
		tr -d '\r' <"$log_dir/$name.log" | tail -n 300 | sed 's/^/  | /'
	fi
	echo "---- end of $name"
}

# ---- run JOBS cases at a time, report in matrix order ----
pids=()
next_report=0
for i in "${!names[@]}"; do
	run_case "${names[$i]}" "${smps[$i]}" "${timeouts[$i]}" "${configs[$i]}" &
	pids[i]=$!
	if [ $((i + 1 - next_report)) -ge "$jobs" ]; then
		wait "${pids[$next_report]}"
		report "${names[$next_report]}"
		next_report=$((next_report + 1))
	fi
done
while [ "$next_report" -lt ${#names[@]} ]; do
	wait "${pids[$next_report]}"
	report "${names[$next_report]}"
	next_report=$((next_report + 1))
done

echo "guests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
