#!/bin/bash
# Live migration between two utsuwa hosts on Intel VT-x (issue 14, item 5;
# docs/migration.md, "VT-x and cross-vendor"): two Bochs machines (VT-x with
# EPT, as tests/bochs/lifecycle-vmx.sh runs them), each with an e1000 (an
# 82540EM, which utsuwa drives polled: drivers/e1000e.c) on one bxhub, Bochs's
# UDP hub (ethmod=socket: a machine receives on its port and sends to the
# next; bxhub -base=P serves P and P+2). Each boots utsuwa with its own
# hostip= (10.0.3.50 and .51) and the same migrate_key= (in a .cfg module),
# and is driven through its COM1.
#
# ethdev= is the bare port (the hub on this machine's loopback): Bochs 2.7's
# "host:port" form reads the port after freeing the string it is in
# (eth_socket.cc), and one of two machines failed with "could not translate
# socket number".
# Bochs's socket module passes a machine only frames for its card's own MAC
# or broadcast (iodev/network/eth_socket.cc, rx_timer): the hypervisor's
# address must answer on the card's MAC, so hostip= names it (mac=).
#
# Checks:
#   - both hosts boot on VT-x, the 82540EM is the uplink, each listens for
#     migrations
#   - a count guest (tests/guests/count.c, 2 vCPUs, 16 MiB) counts on A
#   - migrate cnt to B: A says it runs there, B that it arrived; the count
#     goes on on B at the next number with back=no bad=0, and on
#   - migrate cnt back to A: the same
# One PASS/FAIL line per check, then "migrate-vmx: N passed, N failed".
#   migrate-vmx.sh -k build/utsuwa.elf -g build/guests -o build/bochs [-b qemu]
#
# -b qemu: cross-vendor (docs/migration.md): host A is QEMU (AMD-V,
# $QEMU_SVM_CPU) instead, its e1000 on the same hub through QEMU's
# -netdev socket,udp= (bare Ethernet frames in UDP datagrams, as Bochs's
# socket module sends them), so the VM goes AMD-V -> VT-x and back; the
# lines say "migrate-xvendor".
set -u
name=migrate-vmx driver_needs="count.bin"
. "$(dirname "$0")/../guests/lib/console-driver.sh"
log_dir=$root/build/bochs
driver_backend=bochs
driver_args "$@"
[ "$driver_backend" = qemu ] && name=migrate-xvendor
started=$SECONDS
command -v bxhub >/dev/null || driver_abort "no bxhub (Debian's bochs package has it)"

key=vmx-Mig.0123456789abcdef
mac_a=b0:c4:20:00:00:01 mac_b=b0:c4:20:00:00:02
printf 'migrate_key=%s\n' "$key" >"$work/mig.cfg"

# The hub: base port $hub (A), $hub+2 (B); it listens one above each.
hub_pid=
for try in $(seq 10); do
	hub=$((41000 + (RANDOM % 4000) * 4))
	bxhub -ports=2 -base=$hub -loglev=0 -logfile="$work/bxhub.log" &
	hub_pid=$!
	sleep 0.5
	kill -0 "$hub_pid" 2>/dev/null && break
	hub_pid=
done
[ -n "$hub_pid" ] || driver_abort "bxhub does not start"
pid_b= reader_b=
trap 'exec 4>&-; kill $pid_b $reader_b $hub_pid 2>/dev/null; wait $pid_b $reader_b $hub_pid 2>/dev/null; driver_cleanup' EXIT

# One Bochs machine's NIC on the hub's port $1 with MAC $2.
nic_rc() {
	printf 'pci: enabled=1, chipset=i440fx, slot1=e1000\ne1000: enabled=1, mac=%s, ethmod=socket, ethdev=%s\n' "$2" "$1"
}

mods="$guest_dir/count.bin,$work/mig.cfg"
dir_a=$log_dir/$name-a
if [ "$driver_backend" = qemu ]; then
	mkdir -p "$dir_a"
	DRIVER_QEMU_ARGS="-netdev socket,id=n0,udp=127.0.0.1:$((hub + 1)),localaddr=127.0.0.1:$hub
		-device e1000,netdev=n0,mac=$mac_a" driver_start "$dir_a/serial.log" 900 2 \
		"exit=halt hostip=10.0.3.50/16,mac=$mac_a" "$mods"
else
	BOCHS_RC_EXTRA=$(nic_rc "$hub" "$mac_a") driver_start_bochs "$dir_a" 900 2 \
		"exit=halt hostip=10.0.3.50/16,mac=$mac_a" "$mods"
fi

# Host B as driver_start_bochs starts A, its COM1 on fd 4, its log in $logb.
dir_b=$log_dir/$name-b logb=$log_dir/$name-b/serial.log
start_b() {
	local m port= try end
	bochs_check_tools || driver_abort "Bochs or GRUB is missing"
	rm -rf "$dir_b" && mkdir -p "$dir_b" || exit 2
	: >"$logb"
	bochs_build_iso "$dir_b" "$kernel" "exit=halt hostip=10.0.3.51/16,mac=$mac_b" \
		"$guest_dir/count.bin" "$work/mig.cfg" || driver_abort "grub-mkrescue failed for B"
	for try in $(seq 20); do
		m=$((20000 + (RANDOM + $$ + try) % 30000))
		{ exec 5<>"/dev/tcp/127.0.0.1/$m"; } 2>/dev/null || { port=$m; break; }
		exec 5>&-
	done
	[ -n "$port" ] || driver_abort "no free TCP port for B's COM1"
	BOCHS_RC_EXTRA=$(nic_rc $((hub + 2)) "$mac_b") bochs_write_rc "$dir_b" 2 \
		"mode=socket-server, dev=127.0.0.1:$port"
	(bochs_exec "$dir_b" 900 </dev/null >"$dir_b/bochs.out" 2>&1) &
	pid_b=$!
	end=$((SECONDS + 60))
	until { exec 4<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; do
		kill -0 "$pid_b" 2>/dev/null && [ $SECONDS -lt "$end" ] ||
			driver_abort "B's Bochs did not open COM1 (see $dir_b/bochs.out, bochs.log)"
		sleep 0.2
	done
	cat <&4 >>"$logb" &
	reader_b=$!
}
start_b

markb=0
set_mark_b() { markb=$(stat -c %s "$logb"); }
since_b() { tail -c +$((markb + 1)) "$logb" | tr -d '\r'; }
wait_b() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt "$end" ]; do
		since_b | grep -aqE -- "$1" && return 0
		sleep 0.3
	done
	return 1
}
count_re='count: n=([0-9]+) n1=([0-9]+) ns=([0-9]+) tsc=([0-9]+) back=(no|yes) bad=([0-9]+)'
# The last n of cnt's lines in log $1.
last_n() { tr -d '\r' <"$1" | grep -aoE "\[cnt\] $count_re" | tail -n 1 | sed -E "s/.*$count_re/\1/"; }

# ---- both hosts ----
wait_for '^migrate: listening on TCP port 8081' 300 && wait_b '^migrate: listening on TCP port 8081' 300
check $? "both hosts boot ($([ "$driver_backend" = qemu ] && echo 'A on AMD-V, B on VT-x' || echo 'on VT-x')) and listen for migrations ($((SECONDS - started)) s)" ||
	{ tail -n 5 "$driver_log" "$logb" | sed 's/^/  | /'; driver_end; exit; }
grep -aqE '^e1000e0: .* 82540EM: MAC b0:c4:20:00:00:01, .*polled' "$driver_log" &&
	grep -aqE '^e1000e0: .* 82540EM: MAC b0:c4:20:00:00:02, .*polled' "$logb" &&
	grep -aq '^uplink: e1000e0 ' "$driver_log" && grep -aq '^uplink: e1000e0 ' "$logb"
check $? "each host's uplink is its e1000 (82540EM, polled)" ||
	grep -ahE '^(e1000e|uplink|netstack)' "$driver_log" "$logb" | sed 's/^/  | /'
! grep -aq -- "$key" "$driver_log" "$logb"
check $? "no log line holds the migration key"
sleep 1
cmd ''
printf '\r' >&4
sleep 1

# ---- the count guest on A ----
period_ms=200
set_mark
type_keys "create vm=cnt,image=count.bin,mode=long,mem=16M,cpus=2,arg=$period_ms"$'\r'
wait_for '\[cnt\] count: n=5 ' 120
check $? "cnt counts on A" || since | tail -n 5 | sed 's/^/  | /'
echo "  | A's VM sees $(since | grep -aoE 'count: cpuid .*' | head -n 1)"

# ---- cross-vendor: the VM as created, then one of both hosts' pool ----
# A VM on AMD-V sees what a VM on VT-x does not (AMD's copies of the
# leaf 1 EDX bits in 80000001h.EDX, CMP-LEGACY): refused before any page
# moves. A pool of both hosts' baselines (as migrate-test.sh computes it:
# the features both have, the lower family and model) hides them.
if [ "$driver_backend" = qemu ]; then
	cmd_b() { set_mark_b; printf '%s\r' "$1" >&4; wait_b "${2:-utsuwa> \$}" 20; }
	set_mark; set_mark_b
	type_keys $'migrate cnt 10.0.3.51:8081\r'
	wait_for 'migrate: vm cnt to 10.0.3.51:8081: .*the VM stays here' 120
	a_says=$(since | grep -a 'the VM stays here' | tail -n 1)
	grep -q 'it sees CPU features a VM on this host lacks' <<<"$a_says" &&
		! since_b | grep -aqE 'arrived from|pages'
	check $? "the VM as created on AMD-V is refused by the VT-x host before any page moves: ${a_says#*10.0.3.51:8081: }"
	cmd 'destroy cnt' 20
	host_set() { $1 pools '^host: ' >/dev/null; sleep 1; $2 | sed -n 's/^host: \([0-9a-f:.]*\)$/\1/p' | tail -n 1; }
	set_a=$(host_set cmd_until since) set_b=$(host_set cmd_b since_b)
	meet() {
		local IFS=.: sig
		local -a a b
		read -r -a a <<<"$1"
		read -r -a b <<<"$2"
		sig=${a[0]}
		[ $((0x${b[0]} >> 8 & 0xf)) -lt $((0x${a[0]} >> 8 & 0xf)) ] && sig=${b[0]}
		printf '%s:' "$sig"
		for i in 1 2 3 4 5 6 7; do
			printf '%x%s' $((0x${a[$i]} & 0x${b[$i]})) "$([ $i = 7 ] || echo .)"
		done
	}
	pool=$(meet "$set_a" "$set_b")
	echo "  | A (AMD-V) $set_a, B (VT-x) $set_b: pool $pool"
	cmd "pool xv $pool"
	cmd_b "pool xv $pool"
	set_mark
	type_keys "create vm=cnt,image=count.bin,mode=long,mem=16M,cpus=2,arg=$period_ms,cpu=pool:xv"$'\r'
	wait_for '\[cnt\] count: n=5 ' 120
	check $? "a VM of the pool counts on A" || since | tail -n 5 | sed 's/^/  | /'
	echo "  | A's pool VM sees $(since | grep -aoE 'count: cpuid .*' | head -n 1)"
fi

# ---- A to B, B to A ----
# $1 from (a|b), $2 to's address. Prints what the source said. Run in a
# subshell ($(...)): the caller sets both marks first.
migrate() {
	local from=$1 to=$2 says
	if [ "$from" = a ]; then
		type_keys "migrate cnt $to:8081"$'\r'
		wait_for 'migrate: vm cnt: runs on .* now|the VM stays here' 400
		says=$(since | grep -aE 'vm cnt: runs on|the VM stays here' | tail -n 1)
	else
		printf 'migrate cnt %s:8081\r' "$to" >&4
		wait_b 'migrate: vm cnt: runs on .* now|the VM stays here' 400
		says=$(since_b | grep -aE 'vm cnt: runs on|the VM stays here' | tail -n 1)
	fi
	echo "$says"
}
n_a=$(last_n "$driver_log")
set_mark; set_mark_b; t=$SECONDS
a_says=$(migrate a 10.0.3.51)
mig_secs=$((SECONDS - t))
grep -q 'runs on 10.0.3.51:8081 now' <<<"$a_says" &&
	wait_b 'migrate: vm cnt: arrived from 10.0.3.50 and runs here' 20
check $? "A to B in $mig_secs s: ${a_says#migrate: vm cnt: }" ||
	{ since | grep -a '^migrate' | tail -n 8 | sed 's/^/  | A: /'; since_b | grep -a '^migrate' | tail -n 8 | sed 's/^/  | B: /'; }
n_a=$(last_n "$driver_log")
wait_b "\\[cnt\\] count: n=[0-9]+ " 60
first_b=$(since_b | grep -aoE "\[cnt\] $count_re" | head -n 1)
[ -n "$n_a" ] && grep -qE "count: n=$((n_a + 1)) .* back=no bad=0" <<<"$first_b"
check $? "the count goes on on B at the next number (A's last n=$n_a; B: ${first_b#\[cnt\] })"
# Cross-vendor, the VM was told QEMU's ~2 GHz and B's TSC runs at Bochs's
# 20 MHz: B scales the guest's TSC in software (docs/migration.md, "TSC
# rates"). Unscaled, its clock and its count ran about 100 times slower
# there (one 200 ms period took 35 s of wall time): ten periods (2 s of the
# guest's time) must take less than 30 s.
more=11
t=$SECONDS
wait_b "\\[cnt\\] count: n=$((n_a + more)) .* back=no bad=0" 120
took=$((SECONDS - t))
[ "$took" -lt 30 ]
check $? "and on (n=$((n_a + more)) on B, back=no bad=0; $took s for $((more - 1)) periods of $period_ms ms: its TSC keeps its rate)"

set_mark; set_mark_b; t=$SECONDS
b_says=$(migrate b 10.0.3.50)
mig_secs=$((SECONDS - t))
grep -q 'runs on 10.0.3.50:8081 now' <<<"$b_says" &&
	wait_for 'migrate: vm cnt: arrived from 10.0.3.51 and runs here' 20
check $? "B to A in $mig_secs s: ${b_says#migrate: vm cnt: }" ||
	{ since_b | grep -a '^migrate' | tail -n 8 | sed 's/^/  | B: /'; since | grep -a '^migrate' | tail -n 8 | sed 's/^/  | A: /'; }
n_b=$(last_n "$logb")
wait_for "\\[cnt\\] count: n=[0-9]+ " 60
first_a=$(since | grep -aoE "\[cnt\] $count_re" | head -n 1)
[ -n "$n_b" ] && grep -qE "count: n=$((n_b + 1)) .* back=no bad=0" <<<"$first_a"
check $? "the count goes on on A at the next number (B's last n=$n_b; A: ${first_a#\[cnt\] })"
wait_for "\\[cnt\\] count: n=$((n_b + 5)) .* back=no bad=0" 60
check $? "and on (n=$((n_b + 5)) on A, back=no bad=0)"
# Cross-vendor, the other way round: a VM that booted on VT-x (its
# hypercalls are VMCALL) to AMD-V, where VMCALL is #UD (core/exit.c,
# foreign_hypercall).
if [ "$driver_backend" = qemu ]; then
	set_mark_b
	printf 'create vm=vx,image=count.bin,mode=long,mem=16M,cpus=2,arg=%s,cpu=pool:xv\r' "$period_ms" >&4
	wait_b '\[vx\] count: n=3 ' 120
	check $? "a VM of the pool created on B (VT-x) counts" || since_b | tail -n 5 | sed 's/^/  | /'
	set_mark; set_mark_b; t=$SECONDS
	printf 'migrate vx 10.0.3.50:8081\r' >&4
	wait_b 'migrate: vm vx: runs on .* now|the VM stays here' 400
	b_says=$(since_b | grep -aE 'vm vx: runs on|the VM stays here' | tail -n 1)
	n_vx=$(tr -d '\r' <"$logb" | grep -aoE "\[vx\] $count_re" | tail -n 1 | sed -E "s/.*$count_re/\1/")
	grep -q 'runs on 10.0.3.50:8081 now' <<<"$b_says" &&
		wait_for "\\[vx\\] count: n=$((n_vx + 1)) .* back=no bad=0" 60 &&
		wait_for "\\[vx\\] count: n=$((n_vx + 5)) .* back=no bad=0" 60
	check $? "it migrates to A (AMD-V) in $((SECONDS - t)) s and counts on from n=$((n_vx + 1)) (${b_says#migrate: vm vx: })" ||
		{ since | tail -n 12 | sed 's/^/  | A: /'; }
fi
! grep -aqE 'exception|panic|PANIC' "$driver_log" "$logb"
check $? "neither hypervisor logged an exception or a panic"

echo "$name: took $((SECONDS - started)) s; logs in $dir_a and $dir_b"
driver_end
