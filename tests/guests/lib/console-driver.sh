# Drives utsuwa's console through QEMU's serial line, as a user at a terminal
# would (docs/console.md). Sourced by tests/guests/console-test.sh and
# lifecycle-test.sh; they set $name (the prefix of their result lines) first.
#
#   driver_start LOG SECONDS SMP CONFIG MODULES   QEMU with the serial line on
#                                                 our pipe, its output in LOG
#                                                 ($DRIVER_QEMU_ARGS: more options)
#   type_keys TEXT      keys as typed
#   cmd LINE            a monitor command; waits for the next prompt
#   set_mark / since    what the log got since the mark
#   wait_for REGEX S    until what came since the mark matches (grep -E)
#   check RC WHAT       a PASS or FAIL line for one check, counted
#   driver_end          the sum line; status 0 only if all passed
#   driver_args "$@"   -k KERNEL -g GUEST_DIR -o LOG_DIR, checks the files
#                       the test needs ($driver_needs, under GUEST_DIR) exist
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
. "$root/scripts/qemu-svm-cpu.sh"
kernel=$root/build/utsuwa.elf guest_dir=$root/build/guests log_dir=$root/build/guests/logs

driver_args() {
	local opt f
	OPTIND=1
	while getopts k:g:o: opt; do
		case $opt in
		k) kernel=$OPTARG ;;
		g) guest_dir=$OPTARG ;;
		o) log_dir=$OPTARG ;;
		*) sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
		esac
	done
	for f in "$kernel" ${driver_needs:+$(printf "$guest_dir/%s " $driver_needs)}; do
		[ -f "$f" ] || { echo "$name: missing $f (make, make guests, make linux-guest)"; \
			echo "$name: 0 passed, 1 failed"; exit 1; }
	done
	mkdir -p "$log_dir" || exit 2
}

pass=0 fail=0 mark=0 qemu_pid=
esc=$'\x1d'
work=$(mktemp -d) || exit 2

driver_start() {
	local log=$1 limit=$2 smp=$3 cfg=$4 mods=$5
	driver_log=$log
	: >"$log"
	mkfifo "$work/in"
	timeout -k 5 "$limit" "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" \
		-m 1G -smp "$smp" -display none -monitor none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 ${DRIVER_QEMU_ARGS:-} \
		-kernel "$kernel" -append "$cfg" -initrd "$mods" \
		<"$work/in" >"$log" 2>&1 &
	qemu_pid=$!
	exec 3>"$work/in"
}

driver_cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
	rm -rf "$work"
}
trap driver_cleanup EXIT

ok() { echo "PASS $name: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $name: $1"; fail=$((fail + 1)); }
check() { if [ "$1" = 0 ]; then ok "$2"; else bad "$2"; fi; return "$1"; }

since() { tail -c +$((mark + 1)) "$driver_log" | tr -d '\r'; }
set_mark() { mark=$(stat -c %s "$driver_log"); }
wait_for() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt "$end" ]; do
		since | grep -aqE -- "$1" && return 0
		kill -0 "$qemu_pid" 2>/dev/null || { since | grep -aqE -- "$1"; return; }
		sleep 0.2
	done
	return 1
}
type_keys() { printf '%s' "$1" >&3; }
cmd() {
	set_mark
	type_keys "$1"$'\r'
	wait_for 'utsuwa> $' "${2:-20}"
}

driver_end() {
	echo "$name: log in $driver_log"
	echo "$name: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
