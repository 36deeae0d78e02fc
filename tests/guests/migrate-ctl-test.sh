#!/bin/bash
# Live migration driven by utsuwactl end to end (issue 14; docs/migration.md,
# docs/utsuwactl.md): two QEMU hosts (AMD-V), each on a QEMU user network of
# its own with hostip=10.0.2.50/24 and the same migrate_key= (a .cfg module),
# their API (8080) and migration port (8081) forwarded to free ports of the
# build machine's loopback. A host reaches the other's migration port as
# 10.0.2.2:<that port> (QEMU's user network takes 10.0.2.2 to the build
# machine), so the stream goes host -> NAT -> loopback -> the other's
# forward; the build machine's utsuwactl talks to both APIs. (The two hosts
# cannot share one segment with a user network: its NAT answers for every
# address; migrate-test.sh joins them directly and drives the monitors.)
#   1. both hosts answer utsuwactl host
#   2. a count guest (2 vCPUs) counts on A
#   3. utsuwactl migrate cnt --to 10.0.2.2:<B's port>: status 0, "runs on";
#      cnt is gone from A's list and runs in B's; its count goes on on B at
#      the next number, neither clock back nor pattern bad
#   4. the same from B back to A
#   5. to a port where nobody listens: a non-zero status naming the
#      failure, and the VM runs on A
# One PASS/FAIL line per check, then "migrate-ctl: N passed, N failed".
#   migrate-ctl-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=migrate-ctl driver_needs="count.bin"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
started=$SECONDS
ctl_bin=$root/build/utsuwactl
[ -x "$ctl_bin" ] || driver_abort "no $ctl_bin (make)"

token=mig-ctl-Token.0123456789abcdef key=mig-ctl-Key.0123456789abcdef
printf '%s\n' "$token" >"$work/token"
printf 'migrate_key=%s\napi_token=%s\n' "$key" "$token" >"$work/mig.cfg"
api_a=$(free_port) && mig_a=$(free_port) || driver_abort "no free TCP port on 127.0.0.1"
# free_port answers the same port until something listens on it: B's are
# taken once A's QEMU holds A's.
net() { echo "-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$1-10.0.2.50:8080,hostfwd=tcp:127.0.0.1:$2-10.0.2.50:8081 -device virtio-net-pci,netdev=n0"; }
loga=$log_dir/migrate-ctl-a.log logb=$log_dir/migrate-ctl-b.log
DRIVER_QEMU_ARGS=$(net "$api_a" "$mig_a") driver_start "$loga" 300 2 \
	"exit=halt hostip=10.0.2.50/24,gw=10.0.2.2 vm=cnt,image=count.bin,mode=long,mem=32M,cpus=2,arg=200" \
	"$guest_dir/count.bin,$work/mig.cfg"
sleep 1
# B on two more free ports; QEMU's own complaints in $logb.qemu. It failed
# to start once (an empty log, the reason lost): it is started once more
# on other ports if it is gone after 2 s.
start_b() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		api_b=$(free_port) && mig_b=$(free_port)
		[ "$api_b" != "$api_a" ] && [ "$api_b" != "$mig_a" ] && [ "$mig_b" != "$api_a" ] &&
			[ "$mig_b" != "$mig_a" ] && [ "$api_b" != "$mig_b" ] && break
		sleep 0.5
	done
	timeout -k 5 300 "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 2 \
		-display none -monitor none -serial "file:$logb" -no-reboot $(net "$api_b" "$mig_b") \
		-kernel "$kernel" -append "exit=halt hostip=10.0.2.50/24,gw=10.0.2.2" \
		-initrd "$guest_dir/count.bin,$work/mig.cfg" </dev/null >"$logb.qemu" 2>&1 &
	pid_b=$!
	sleep 2
	kill -0 "$pid_b" 2>/dev/null
}
if ! start_b; then
	echo "$name: host B's QEMU ended at once: $(head -c 300 "$logb.qemu"); starting it again"
	start_b || driver_abort "host B's QEMU does not start: $(head -c 300 "$logb.qemu")"
fi
trap 'kill $pid_b 2>/dev/null; wait $pid_b 2>/dev/null; driver_cleanup' EXIT

ctl() { # $1: A's or B's API port; utsuwactl's output in $out, its status in $rc
	local p=$1
	shift
	out=$(timeout 200 "$ctl_bin" --host "127.0.0.1:$p" --token-file "$work/token" "$@" 2>&1)
	rc=$?
}
wait_file() { # LOG REGEX SECONDS
	local end=$((SECONDS + $3))
	until tr -d '\r' <"$1" 2>/dev/null | grep -aqE -- "$2"; do
		[ $SECONDS -lt "$end" ] || return 1
		sleep 0.3
	done
}
last_n() { tr -d '\r' <"$1" | sed -n 's/^\[cnt\] count: n=\([0-9]*\) .*/\1/p' | tail -n 1; }

# ---- 1. both hosts ----
wait_file "$loga" '^api: listening on TCP port 8080' 120 && wait_file "$logb" '^api: listening on TCP port 8080' 120 &&
	wait_file "$loga" '^migrate: listening on TCP port 8081' 10 && wait_file "$logb" '^migrate: listening on TCP port 8081' 10
ctl "$api_a" host && ok_a=$rc && ctl "$api_b" host
[ "${ok_a:-1}" = 0 ] && [ "$rc" = 0 ]
check $? "both hosts boot, listen for migrations and answer utsuwactl host" ||
	{ tail -n 5 "$loga" "$logb" | sed 's/^/  | /'; driver_end; exit; }

# ---- 2. the VM on A ----
wait_file "$loga" '^\[cnt\] count: n=3 ' 60
check $? "a count guest counts on A" || { tail -n 5 "$loga" | sed 's/^/  | /'; driver_end; exit; }

# ---- 3, 4. there and back ----
# $1 from-API, $2 to-API, $3 the destination's migration port, $4 its log,
# $5 the source's log, $6 words for the checks
move() {
	local n0 n
	ctl "$1" migrate cnt --to "10.0.2.2:$3"
	[ "$rc" = 0 ] && grep -q 'runs on' <<<"$out"
	check $? "utsuwactl migrate cnt --to 10.0.2.2:$3 ($6): status $rc, $(tail -n 1 <<<"$out")" ||
		{ sed 's/^/  | /' <<<"$out"; tr -d '\r' <"$5" | grep -a '^migrate' | tail -n 5 | sed 's/^/  | src: /'; }
	ctl "$1" list
	! grep -qE '^cnt ' <<<"$out"
	check $? "cnt is gone from the source's list" || sed 's/^/  | /' <<<"$out"
	ctl "$2" list
	grep -qE '^cnt +running ' <<<"$out"
	check $? "and runs on the destination" || sed 's/^/  | /' <<<"$out"
	n0=$(last_n "$5")
	n=$((n0 + 1))
	wait_file "$4" "^\\[cnt\\] count: n=$n .*back=no bad=0" 30 &&
		wait_file "$4" "^\\[cnt\\] count: n=$((n + 3)) .*back=no bad=0" 30
	check $? "its count goes on there at n=$n (the source's last: $n0), clocks never back, pattern intact" ||
		tr -d '\r' <"$4" | grep -a '\[cnt\]' | tail -n 3 | sed 's/^/  | /'
}
move "$api_a" "$api_b" "$mig_b" "$logb" "$loga" "A to B"
move "$api_b" "$api_a" "$mig_a" "$loga" "$logb" "B to A"

# ---- 5. nobody there ----
none=$(free_port)
ctl "$api_a" migrate cnt --to "10.0.2.2:$none"
said=$out r=$rc
ctl "$api_a" list
[ "$r" != 0 ] && grep -q 'not migrated' <<<"$said" && grep -qE '^cnt +running ' <<<"$out"
check $? "to a port where nobody listens: status $r, '$(tail -n 1 <<<"$said")'; cnt runs on A" ||
	{ sed 's/^/  | /' <<<"$said"; sed 's/^/  | list: /' <<<"$out"; }

echo "$name: took $((SECONDS - started)) s; host B's log in $logb"
driver_end
