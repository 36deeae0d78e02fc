# Drives utsuwa's console through the emulated machine's serial line, as a
# user at a terminal would (docs/console.md): QEMU's serial line on a pipe
# (AMD-V), or Bochs's COM1 on a TCP socket (VT-x). Sourced by
# tests/guests/console-test.sh, lifecycle-test.sh and
# tests/bochs/lifecycle-vmx.sh; they set $name (the prefix of their result
# lines) first.
#
#   driver_start LOG SECONDS SMP CONFIG MODULES   QEMU with the serial line on
#                                                 our pipe, its output in LOG
#                                                 ($DRIVER_QEMU_ARGS: more options;
#                                                 MODULES may be empty)
#   driver_start_iso LOG SECONDS SMP ISO          QEMU's firmware booting ISO
#                       from its CD-ROM drive ($DRIVER_QEMU_ARGS: e.g. OVMF)
#   driver_wait         until the emulator ends; its status in $emu_rc
#   driver_start_bochs DIR SECONDS SMP CONFIG MODULES
#                       Bochs (VT-x) booting a GRUB ISO built in DIR
#                       (tests/bochs/lib/bochs-iso.sh), COM1 a TCP server on
#                       127.0.0.1 that we connect to; its output in DIR/serial.log
#                       (MODULES: comma-separated, as for QEMU's -initrd)
#   type_keys TEXT      keys as typed
#   cmd LINE            a monitor command; waits for the next prompt
#   cmd_until LINE REGEX [S]  a monitor command; waits for its answer: the
#                       prompt is drawn again under each line a VM prints, so
#                       a prompt does not say the command has run
#   set_mark / since    what the log got since the mark
#   wait_for REGEX S    until what came since the mark matches (grep -E),
#                       looking every $driver_poll s (default 0.2)
#   check RC WHAT       a PASS or FAIL line for one check, counted
#   driver_end          the sum line; status 0 only if all passed
#   free_port           a TCP port of 127.0.0.1 nothing answers on (for hostfwd)
#   driver_args "$@"   -k KERNEL -g GUEST_DIR -o LOG_DIR [-b qemu|bochs],
#                       checks the files the test needs ($driver_needs, under
#                       GUEST_DIR) exist; -b sets $driver_backend (default qemu)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
. "$root/scripts/qemu-svm-cpu.sh"
. "$root/tests/bochs/lib/bochs-iso.sh"
kernel=$root/build/utsuwa.elf guest_dir=$root/build/guests log_dir=$root/build/guests/logs
driver_backend=qemu

driver_args() {
	local opt f
	OPTIND=1
	while getopts k:g:o:b: opt; do
		case $opt in
		b) driver_backend=$OPTARG ;;
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

pass=0 fail=0 mark=0 emu_pid= reader_pid= driver_poll=0.2
esc=$'\x1d'
work=$(mktemp -d) || exit 2

driver_start() {
	local log=$1 limit=$2 smp=$3 cfg=$4 mods=$5
	driver_qemu "$log" "$limit" "$smp" -kernel "$kernel" -append "$cfg" ${mods:+-initrd "$mods"}
}

# The firmware boots ISO from the CD-ROM drive (SeaBIOS unless
# $DRIVER_QEMU_ARGS names other firmware). A script may call it again once
# the previous machine has ended (driver_wait).
driver_start_iso() {
	driver_qemu "$1" "$2" "$3" -cdrom "$4"
}

driver_qemu() {
	local log=$1 limit=$2 smp=$3
	shift 3
	driver_log=$log
	: >"$log"
	exec 3>&-
	rm -f "$work/in" && mkfifo "$work/in"
	timeout -k 5 "$limit" "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" \
		-m 1G -smp "$smp" -display none -monitor none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 ${DRIVER_QEMU_ARGS:-} "$@" \
		<"$work/in" >"$log" 2>&1 &
	emu_pid=$!
	exec 3>"$work/in"
}

# Waits for the emulator to end; its exit status in $emu_rc.
driver_wait() {
	wait "$emu_pid"
	emu_rc=$?
	emu_pid=
}

# A run that cannot start is one failure, with the reason.
driver_abort() {
	echo "FAIL $name: $1"
	echo "$name: $pass passed, $((fail + 1)) failed"
	exit 1
}

# Bochs's COM1 in socket-server mode listens on the port and waits for one
# client before the machine starts; bash's /dev/tcp is that client. The port
# is one nothing answers on when we look (a race with another program taking
# it at that moment ends in Bochs's bind error, reported).
driver_start_bochs() {
	local dir=$1 limit=$2 smp=$3 cfg=$4 m port= try end
	local -a mods
	IFS=, read -ra mods <<<"$5"
	driver_log=$dir/serial.log
	bochs_check_tools || driver_abort "Bochs or GRUB is missing"
	rm -rf "$dir" && mkdir -p "$dir" || exit 2
	: >"$driver_log"
	bochs_build_iso "$dir" "$kernel" "$cfg" "${mods[@]}" ||
		driver_abort "grub-mkrescue failed (see $dir/grub-mkrescue.out)"
	for try in $(seq 20); do
		m=$((20000 + (RANDOM + $$ + try) % 30000))
		{ exec 4<>"/dev/tcp/127.0.0.1/$m"; } 2>/dev/null || { port=$m; break; }
		exec 4>&-
	done
	[ -n "$port" ] || driver_abort "no free TCP port for Bochs's COM1"
	bochs_write_rc "$dir" "$smp" "mode=socket-server, dev=127.0.0.1:$port"
	(bochs_exec "$dir" "$limit" </dev/null >"$dir/bochs.out" 2>&1) &
	emu_pid=$!
	end=$((SECONDS + 60))
	until { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; do
		kill -0 "$emu_pid" 2>/dev/null && [ $SECONDS -lt "$end" ] ||
			driver_abort "Bochs did not open COM1 on port $port (see $dir/bochs.out, bochs.log)"
		sleep 0.2
	done
	cat <&3 >>"$driver_log" &
	reader_pid=$!
}

driver_cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	[ -n "$reader_pid" ] && kill "$reader_pid" 2>/dev/null && wait "$reader_pid" 2>/dev/null
	rm -rf "$work"
}
trap driver_cleanup EXIT

# A TCP port of 127.0.0.1 nothing answers on now (QEMU's hostfwd binds it).
# A TCP port of 127.0.0.1 nothing listens on, below Linux's ephemeral range
# (32768-60999): there a client socket of another connection could hold it
# and a listener's bind fail ("Address already in use"; migrate-test's
# host A once did).
free_port() {
	local p try
	for try in $(seq 20); do
		p=$((10000 + (RANDOM + $$ + try) % 22000))
		if ! { exec 9<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then echo "$p"; return; fi
		exec 9>&-
	done
	return 1
}
ok() { echo "PASS $name: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $name: $1"; fail=$((fail + 1)); }
check() { if [ "$1" = 0 ]; then ok "$2"; else bad "$2"; fi; return "$1"; }

since() { tail -c +$((mark + 1)) "$driver_log" | tr -d '\r'; }
set_mark() { mark=$(stat -c %s "$driver_log"); }
# A file server for guests: busybox ($1) httpd serving directory $2 on the
# first free port of 127.0.0.1 it can bind, from a random start. Sets port
# (empty when none could be had) and httpd (its pid, for the caller to kill).
serve_dir() {
	local try p
	port= httpd=
	for try in 1 2 3 4 5 6 7 8; do
		p=$((20000 + RANDOM % 20000))
		"$1" httpd -f -p "127.0.0.1:$p" -h "$2" &
		httpd=$!
		sleep 0.3
		if kill -0 "$httpd" 2>/dev/null; then port=$p; return; fi
		httpd=
	done
}
# The monitor's answer to command $1 since the mark: without VM $2's lines,
# prompts, blank lines and the echo of the command. A VM line printed while
# the command was typed splits its echo ("rest" ... "utsuwa> restore 1 bad"):
# every piece of the command is dropped, not only the whole of it.
answer_to() {
	local l
	since | grep -avE "\\[$2\\]|^\$" | while IFS= read -r l; do
		l=${l#utsuwa> }
		[ -z "$l" ] && continue
		case "$1" in "$l"* | *"$l") continue ;; esac
		printf '%s\n' "$l"
	done
}
wait_for() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt "$end" ]; do
		since | grep -aqE -- "$1" && return 0
		kill -0 "$emu_pid" 2>/dev/null || { since | grep -aqE -- "$1"; return; }
		sleep "$driver_poll"
	done
	return 1
}
type_keys() { printf '%s' "$1" >&3; }
cmd() {
	set_mark
	type_keys "$1"$'\r'
	wait_for 'utsuwa> $' "${2:-20}"
}
cmd_until() {
	set_mark
	type_keys "$1"$'\r'
	wait_for "$2" "${3:-20}"
}

driver_end() {
	echo "$name: log in $driver_log"
	echo "$name: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
