#!/bin/bash
# make test-long (issue 15, items 3 and 5): crashme and the attacking guests
# for a while on both back ends. Round after round of the matrix's crashme
# configuration (four VMs of two vCPUs running random code at CPL 0 and 3
# beside a canary), each round with four new seeds and SNIPPETS snippets a
# vCPU, then the matrix's attack case, under QEMU (AMD-V) and,
# every BOCHS_EVERY-th round, under Bochs (VT-x, SNIPPETS/16), until
# MINUTES have passed (a round under way finishes).
# A round passes when the host lives and every VM ends as expected.
# Prints one line per round and the snippets each back end ran, then
# "crashme-long: N passed, N failed".
#
#   crashme-long.sh [-m MINUTES] [-n SNIPPETS] [-b BOCHS_EVERY] [-o LOG_DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
minutes=30 snippets=16384 bochs_every=4 log_dir=$root/build/crashme-long
while getopts m:n:b:o: opt; do
	case $opt in
	m) minutes=$OPTARG ;;
	n) snippets=$OPTARG ;;
	b) bochs_every=$OPTARG ;;
	o) log_dir=$OPTARG ;;
	*) sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
mkdir -p "$log_dir"
pass=0 fail=0 round=0 qemu_snippets=0 bochs_snippets=0
end=$((SECONDS + minutes * 60))

# The matrix line for round $1 with $2 snippets a vCPU: seeds 4*round+1 ..
# 4*round+4 (mod 256). QEMU runs it on one host thread (@tcg=single);
# CRASHME_TCG=multi gives it a thread per CPU, where QEMU 7.2 loses updates
# of CPU 0's SVM state (README, "Robustness": it kills the host now and then).
round_cfg() {
	local r=$1 snippets=$2 vms="" i seed
	for i in 1 2 3 4; do
		seed=$(((4 * r + i) % 256))
		vms+=" vm=cm$i,image=crashme.bin,mode=long,mem=16M,cpus=2,on_crash=reset,expect=0"
		vms+=",arg=$(printf '0x%02x%06x' "$seed" "$snippets")"
	done
	echo "crashme-r$r 2 3600 exit=qemu @tcg=${CRASHME_TCG:-single}$vms vm=canary,image=basic-long.bin,mode=long,mem=16M,cpus=2,arg=2,expect=0"
}

# quiet_watch PID LOG PORT OUT RESETS: while PID runs, if LOG has not grown
# for 60 s, asks QEMU's monitor on PORT for every CPU's registers and local
# APIC, three times a second apart, into OUT (once a round): where a silent
# host was. QEMU runs with -no-shutdown, so a host triple fault (QEMU's
# "Triple fault" in RESETS, its -d cpu_reset log) leaves the machine paused
# as it was: the registers, local APICs and each CPU's page mappings (info
# mem: what its CR3 maps now, to tell a broken page table from a walk that
# failed on a sound one) go into RESETS, then QEMU quits;
# so does a machine found paused after a silence, and one whose host
# repaired a GS base (the -d int log then ends at that moment).
quiet_watch() {
	local last=-1 size quiet=0 k gs_quit=0
	while kill -0 "$1" 2>/dev/null; do
		sleep 2
		if grep -aq 'Triple fault' "$5" 2>/dev/null && ! grep -aq '^CPU#0' "$5"; then
			monitor "$3" 'info registers -a\ninfo lapic 0\ninfo lapic 1\ncpu 0\ninfo mem\ncpu 1\ninfo mem\nquit\n' >>"$5"
			continue
		fi
		# A host interrupt that found a guest's GS base (gs_guard.c): the
		# round has failed already; QEMU quits now, so that the -d int log
		# it leaves ends with what the host took there.
		if [ $gs_quit = 0 ] && grep -aq 'GS base was' "$2" 2>/dev/null; then
			gs_quit=1
			monitor "$3" 'quit\n' >/dev/null
			continue
		fi
		size=$(stat -c %s "$2" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ]; then quiet=$((quiet + 2)); else quiet=0 last=$size; fi
		[ $quiet -lt 60 ] || [ -e "$4" ] && continue
		for k in 1 2 3; do
			monitor "$3" 'info status\ninfo registers -a\ninfo lapic 0\ninfo lapic 1\n' >>"$4" || break
			sleep 1
		done
		grep -aq 'VM status: paused (shutdown)' "$4" && monitor "$3" 'quit\n' >/dev/null
		echo "  | round log silent for 60 s: the CPUs' state in $4"
	done
}

# monitor PORT COMMANDS: QEMU's monitor on PORT given COMMANDS (printf's
# format), its answers on stdout for 2 s.
monitor() {
	{ exec 7<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	printf "$2" >&7
	timeout 2 cat <&7
	exec 7>&-
}

# Snippets the VMs of a log ran: the last report of each seed.
snippets_in() {
	grep -aoE 'crashme: seed [0-9]+: [0-9]+ snippets' "$1" |
		awk '{ if ($4 > m[$3]) m[$3] = $4 } END { t = 0; for (k in m) t += m[k]; print t }'
}

while [ $SECONDS -lt $end ]; do
	backend=qemu
	[ "$bochs_every" -gt 0 ] && [ $((round % bochs_every)) = $((bochs_every - 1)) ] && backend=bochs
	# Bochs runs some 20 times slower than QEMU here: fewer snippets.
	round_cfg $round $([ $backend = qemu ] && echo "$snippets" || echo $((snippets / 16 + 1))) \
		>"$log_dir/round.cfg"
	if [ $backend = qemu ]; then
		# QEMU with its monitor on a local port: a round whose log stays
		# silent for 60 s gets the CPUs' state dumped (quiet_watch). And
		# QEMU logs every CPU reset and every interrupt and exception it
		# delivers, with the CPU's state (-d cpu_reset,int): the log goes
		# through tail, which keeps its last INT_LOG_BYTES in int-rN.log,
		# kept for a round that failed (the exceptions that led to a
		# host's triple fault: README, issue 15); its "Triple fault" line
		# (the host's: a guest's is an intercepted shutdown) also goes to
		# resets-rN.txt at once, and the pause -no-shutdown makes of it
		# lets quiet_watch read the registers at that moment, into the
		# same file.
		mon_port=$((20000 + RANDOM % 20000))
		rm -f "$log_dir/resets-r$round.txt" "$log_dir/int-r$round.log"
		cat >"$log_dir/qemu-mon.sh" <<-EOF
			#!/bin/bash
			exec ${QEMU:-qemu-system-x86_64} "\$@" -monitor tcp:127.0.0.1:$mon_port,server,nowait -no-shutdown \\
			    -d cpu_reset,int -D >(tee >(grep -a --line-buffered 'Triple fault' >>"$log_dir/resets-r$round.txt") |
			        tail -c ${INT_LOG_BYTES:-200000000} >"$log_dir/int-r$round.log")
		EOF
		chmod +x "$log_dir/qemu-mon.sh"
		QEMU="$log_dir/qemu-mon.sh" bash "$here/run-matrix.sh" -j 1 -f "$log_dir/round.cfg" \
			-k "$root/build/utsuwa.elf" -g "$root/build/guests" -o "$log_dir" \
			>"$log_dir/r$round.out" 2>&1 &
		quiet_watch $! "$log_dir/crashme-r$round.log" "$mon_port" "$log_dir/silent-r$round.txt" \
			"$log_dir/resets-r$round.txt"
		wait $!
	else
		bash "$root/tests/bochs/run-bochs.sh" -j 1 -f "$log_dir/round.cfg" -k "$root/build/utsuwa.elf" \
			-g "$root/build/guests" -o "$log_dir" >"$log_dir/r$round.out" 2>&1
	fi
	rc=$?
	log=$log_dir/crashme-r$round.log # run-bochs.sh keeps a directory per case
	[ -d "$log_dir/crashme-r$round" ] && log=$log_dir/crashme-r$round/serial.log
	n=$(snippets_in "$log" 2>/dev/null)
	# The host lived only because an interrupt put its GS base back
	# (arch/x86/gs_guard.c): a host failure all the same.
	gs=$(grep -aE 'GS base was' "$log" 2>/dev/null | head -n 1)
	[ -n "$gs" ] && rc=1
	grep -aq 'Triple fault' "$log_dir/resets-r$round.txt" 2>/dev/null &&
		echo "  | QEMU: a triple fault outside guest mode (the host's): $log_dir/resets-r$round.txt"
	# A halted vCPU nobody woke (core/sched.c): shown, not failed.
	grep -aE 'was halted with an interrupt to take and not woken' "$log" 2>/dev/null |
		head -n 2 | sed 's/^/  | lost wake-up: /'
	# A crashme VM that wrecked itself past its own recovery and stopped
	# renewing its watchdog (HC_WATCHDOG): reset, counted, shown with
	# where its vCPUs were (the log has their registers).
	wd=$(grep -acE 'watchdog expired: not renewed' "$log" 2>/dev/null)
	[ "${wd:-0}" -gt 0 ] && grep -aE 'watchdog expired: not renewed|^  vcpu [0-9]+: (running|halted|waiting)' "$log" |
		head -n 6 | sed 's/^/  | /'
	if [ $rc = 0 ]; then
		rm -f "$log_dir/int-r$round.log" # tail may still write it: gone all the same
		pass=$((pass + 1))
		echo "PASS crashme-long: round $round ($backend, seeds $((4 * round + 1))-$((4 * round + 4))): ${n:-0} snippets, ${wd:-0} watchdog reset(s)"
	else
		fail=$((fail + 1))
		echo "FAIL crashme-long: round $round ($backend): ${gs:-$(grep -m1 -E '^FAIL' "$log_dir/r$round.out")}"
		grep -raE 'qemu: fatal|tcg fatal error|Triple fault|in the hypervisor' "$log_dir/crashme-r$round"* 2>/dev/null |
			head -n 5 | sed 's/^/  | /'
		[ -e "$log_dir/int-r$round.log" ] &&
			echo "  | QEMU's last interrupts and exceptions (-d int): $log_dir/int-r$round.log"
	fi
	if [ $backend = qemu ]; then qemu_snippets=$((qemu_snippets + ${n:-0})); else bochs_snippets=$((bochs_snippets + ${n:-0})); fi
	# The attacking guests' case of the matrix, on the same back end.
	if [ $backend = qemu ]; then
		bash "$here/run-matrix.sh" -j 1 -k "$root/build/utsuwa.elf" -g "$root/build/guests" \
			-o "$log_dir/attack-r$round" attack >"$log_dir/a$round.out" 2>&1
	else
		bash "$root/tests/bochs/run-bochs.sh" -j 1 -k "$root/build/utsuwa.elf" -g "$root/build/guests" \
			-o "$log_dir/attack-r$round" attack >"$log_dir/a$round.out" 2>&1
	fi
	if [ $? = 0 ]; then
		pass=$((pass + 1))
		echo "PASS crashme-long: round $round ($backend): the attacking guests"
	else
		fail=$((fail + 1))
		echo "FAIL crashme-long: round $round ($backend): the attacking guests: $(grep -m1 -E '^FAIL' "$log_dir/a$round.out")"
	fi
	round=$((round + 1))
done
echo "crashme-long: $round rounds in $((minutes)) minutes: $qemu_snippets snippets under QEMU (AMD-V), $bochs_snippets under Bochs (VT-x)"
echo "crashme-long: $pass passed, $fail failed"
[ $fail = 0 ]
