#!/bin/bash
# Runs cases of the guest test matrix (tests/guests/matrix.cfg) under Bochs
# with Intel VT-x emulated (cpu: model=tigerlake: VMX with EPT, VPID,
# unrestricted guest and the preemption timer), booting utsuwa from a GRUB
# ISO built per case, each case with a timeout. BOCHS_CPU names another
# Bochs CPU model. Tiger Lake rather than Skylake: Linux marks Skylake
# vulnerable to RETBleed and, without IBRS (speculation controls are hidden
# from guests), prints a RETBleed WARNING in every boot.
#
#   run-bochs.sh [-j JOBS] [-f MATRIX] [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
#                [-t SCALE] [-x CASE]... [CASE...]
#
# CASE arguments pick cases by name (shell patterns); default all; -x leaves
# out the cases a pattern matches (e.g. -x 'linux-[!1]*'). A case's
# QEMU -smp becomes Bochs's CPU count, its timeout is scaled by SCALE
# (default 4), exit=qemu becomes exit=bochs, each image= and initrd= file a
# module2 line.
# Prints "PASS <case>" or "FAIL <case>: <why>" followed by the case's serial
# log, then "vmx-guests: N passed, N failed". Exit status 0 only if all passed.
# Cases run JOBS at a time (default 2); results print in matrix order.
# Environment: BOCHS (default bochs), BOCHS_JOBS (for -j), BOCHS_IPS
# (instructions per emulated second, default 20000000). BOCHS_SHADOW=1 runs
# the cases on a CPU without nested paging for utsuwa, so every VM gets
# shadow page tables (docs/shadow-paging.md; make test-shadow-vmx): Bochs's
# corei5_lynnfield_750 unless BOCHS_CPU says otherwise, VT-x with EPT but
# without unrestricted guest (Bochs 2.7 has no VT-x model without EPT that
# has the VM-entry and VM-exit EFER and PAT controls utsuwa needs: its generic
# "cpuid: vmx=1" and core2_penryn_t9600 lack them); cases marked @nested pass
# as skipped.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
matrix=$root/tests/guests/matrix.cfg
kernel=$root/build/utsuwa.elf
guest_dir=$root/build/guests
log_dir=$root/build/bochs
jobs=${BOCHS_JOBS:-2}
scale=4

usage() { sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2; }
excludes=()
while getopts j:f:k:g:o:t:x:h opt; do
	case $opt in
	j) jobs=$OPTARG ;;
	f) matrix=$OPTARG ;;
	k) kernel=$OPTARG ;;
	g) guest_dir=$OPTARG ;;
	o) log_dir=$OPTARG ;;
	t) scale=$OPTARG ;;
	x) excludes+=("$OPTARG") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
case $jobs in '' | *[!0-9]* | 0) echo "run-bochs: bad job count '$jobs'" >&2; exit 2 ;; esac
case $scale in '' | *[!0-9]* | 0) echo "run-bochs: bad timeout scale '$scale'" >&2; exit 2 ;; esac
shadow=${BOCHS_SHADOW:-}
[ -n "$shadow" ] && export BOCHS_CPU=${BOCHS_CPU:-corei5_lynnfield_750}
[ -f "$matrix" ] || { echo "run-bochs: no matrix $matrix" >&2; exit 2; }
[ -f "$kernel" ] || { echo "run-bochs: no hypervisor image $kernel (make first)" >&2; exit 2; }
. "$here/lib/bochs-iso.sh"
bochs_check_tools || exit 2
mkdir -p "$log_dir" || exit 2
# Two runs sharing a log directory take turns.
exec 9>"$log_dir/.lock"
if ! flock -n 9; then
	echo "run-bochs: another run is using $log_dir; waiting for it" >&2
	flock 9
fi

# The hypervisor and guest images as they are now: a rebuild in the tree
# while cases run must not change what the later ones boot.
snap=$log_dir/.images
rm -rf "$snap" && mkdir -p "$snap/guests" || exit 2
cp "$kernel" "$snap/utsuwa.elf" || exit 2
find "$guest_dir" -maxdepth 1 -type f -exec cp {} "$snap/guests/" \;
kernel=$snap/utsuwa.elf
guest_dir=$snap/guests

# ---- read the matrix (the format of tests/guests/run-matrix.sh) ----
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
		echo "run-bochs: $matrix: bad case line: $line" >&2; exit 2 ;;
	esac
	[ -n "$cfg" ] || { echo "run-bochs: $matrix: case $name has no configuration" >&2; exit 2; }
	selected "$name" "${filters[@]}" || return 0
	# @dev= adds a QEMU device (a function to pass through): not under Bochs.
	case " $cfg " in *" @dev="*) return 0 ;; esac
	local x
	for x in "${excludes[@]}"; do
		# shellcheck disable=SC2053
		[[ $name == $x ]] && return 0
	done
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
	echo "run-bochs: no case matches: $*" >&2
	echo "vmx-guests: 0 passed, 1 failed"
	exit 1
fi

# ---- one case ----
# The hypervisor's command line for Bochs: exit=bochs instead of exit=qemu.
bochs_config() {
	local word out="" seen=""
	for word in $1; do
		case $word in
		exit=*) word=exit=bochs seen=1 ;;
		esac
		out+="${out:+ }$word"
	done
	[ -n "$seen" ] || out="exit=bochs $out"
	echo "$out"
}

# Writes $dir/result: "PASS <case> (<s>s)" or "FAIL <case>: <why> (<s>s)".
# Runner words as in run-matrix.sh: @vms=<n> (how many VMs end), @log=<regex>
# (a line the serial log must have), @mod=<file> (an extra boot module, a path
# from the top of the tree), @ram=<n>M|<n>G (the machine's memory, default 1G),
# @cpu= and @tcg= (QEMU's, ignored here); an image named missing-* is deliberately absent.
# A case with @dev= (a QEMU device) is not run here at all (add_case).
run_case() {
	local name=$1 smp=$2 timeout=$3 cfg
	local dir=$log_dir/$name word field img mods=() nvms=0 missing="" start rc summary status why=""
	local hvcfg="" want_vms="" m megs=1024 nested=0
	local -a must_log=()

	for word in $4; do
		case $word in
		@vms=*) want_vms=${word#@vms=} ;;
		@log=*) must_log+=("${word#@log=}") ;;
		@mod=*) mods+=("$root/${word#@mod=}") ;;
		@ram=*G) m=${word#@ram=}; megs=$((${m%G} * 1024)) ;;
		@ram=*M) m=${word#@ram=}; megs=${m%M} ;;
		@cpu=* | @tcg=*) ;;
		@nested) nested=1 ;;
		*) hvcfg+="${hvcfg:+ }$word" ;;
		esac
	done
	if [ "$nested" = 1 ] && [ -n "$shadow" ]; then
		mkdir -p "$dir"
		echo "PASS $name (skipped: needs nested paging, BOCHS_SHADOW is set)" >"$dir/result"
		return
	fi
	cfg=$(bochs_config "$hvcfg")
	rm -rf "$dir"
	mkdir -p "$dir/iso/boot/grub"
	for word in $cfg; do
		[[ $word == vm=* ]] || continue
		nvms=$((nvms + 1))
		IFS=, read -ra fields <<<"$word"
		for field in "${fields[@]}"; do
			case $field in
			image=* | initrd=*) img=${field#*=} ;;
			*) continue ;;
			esac
			case $img in missing-*) continue ;; esac # deliberately absent
			# One module per file, however many VMs use it.
			case " ${mods[*]} " in *" $guest_dir/$img "*) continue ;; esac
			mods+=("$guest_dir/$img")
		done
	done
	[ -n "$want_vms" ] && nvms=$want_vms
	for m in "${mods[@]}"; do
		[ -f "$m" ] || missing+=" ${m#"$root"/}"
	done
	if [ -n "$missing" ]; then
		echo "FAIL $name: missing guest image(s):$missing (make guests)" >"$dir/result"
		return
	fi

	# The ISO and the bochsrc (lib/bochs-iso.sh): COM1 to serial.log.
	if ! bochs_build_iso "$dir" "$kernel" "$cfg" "${mods[@]}"; then
		echo "FAIL $name: grub-mkrescue failed (see $dir/grub-mkrescue.out)" >"$dir/result"
		return
	fi
	bochs_write_rc "$dir" "$smp" "mode=file, dev=serial.log" "$megs"

	start=$(date +%s)
	(bochs_exec "$dir" $((timeout * scale)) </dev/null >"$dir/bochs.out" 2>&1)
	rc=$?
	# Bochs leaves through the shutdown port (arch/x86/done.c) with status 1
	# whatever the verdict: the hypervisor's last lines are the verdict.
	summary=$(tr -d '\r' 2>/dev/null <"$dir/serial.log" | grep -a 'utsuwa: all VMs ended:' | tail -n 1)
	status=$(tr -d '\r' 2>/dev/null <"$dir/serial.log" | sed -n 's/.*utsuwa: exit status \([0-9]*\).*/\1/p' | tail -n 1)
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="timed out after $((timeout * scale))s"
	elif [ -z "$summary" ]; then
		why="no 'all VMs ended' line in the log (Bochs exit status $rc)"
	elif ! [[ $summary =~ all\ VMs\ ended:\ ([0-9]+)\ as\ expected,\ ([0-9]+)\ not ]]; then
		why="cannot read: $summary"
	elif [ "${BASH_REMATCH[2]}" -ne 0 ] || [ "${BASH_REMATCH[1]}" -ne "$nvms" ]; then
		why="${summary#*utsuwa: } ($nvms VMs configured)"
	elif [ "$status" != 0 ]; then
		why="exit status '${status}' in the log"
	fi
	if [ -z "$why" ]; then
		for word in "${must_log[@]}"; do
			tr -d '\r' <"$dir/serial.log" | grep -aqE -- "$word" ||
				{ why="no log line matches '$word'"; break; }
		done
	fi
	if [ -z "$why" ]; then
		echo "PASS $name ($(($(date +%s) - start))s)" >"$dir/result"
	else
		echo "FAIL $name: $why ($(($(date +%s) - start))s)" >"$dir/result"
	fi
}

# Prints a finished case's result; a failure with Bochs's last messages and
# the serial log.
passed=0 failed=0
report() {
	local name=$1 dir=$log_dir/$1
	if [ ! -s "$dir/result" ]; then
		echo "FAIL $name: the runner lost its result" >"$dir/result"
	fi
	cat "$dir/result"
	if grep -q '^PASS ' "$dir/result"; then
		passed=$((passed + 1))
		return
	fi
	failed=$((failed + 1))
	if [ -f "$dir/bochs.log" ]; then
		echo "---- $name: Bochs log ($dir/bochs.log, its panics and errors, last 20)"
		grep -a '^[0-9]*[ep]\[' "$dir/bochs.log" | tail -n 20 | sed 's/^/  | /'
	fi
	if [ -f "$dir/serial.log" ]; then
		echo "---- $name: serial log ($dir/serial.log, last 300 lines)"
		tr -d '\r' <"$dir/serial.log" | awk 1 | tail -n 300 | sed 's/^/  | /'
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

echo "vmx-guests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
