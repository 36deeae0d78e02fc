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
#   2. a Linux VM (Debian's kernel, 2 vCPUs, a NIC, a disk on storage both
#      hosts see) counts once a second into a file (utsuwa.loop) on A
#   3. utsuwactl migrate loop --to 10.0.2.2:<B's port>: status 0, "runs
#      on"; loop is gone from A's list and runs in B's; its counter goes on
#      on B at the next number, the file holds every line, uptime and date
#      never went back, the disk holds what A wrote
#   4. the same from B back to A
#   5. utsuwactl cancel while it copies to B: the migrate ends with status
#      1, "not migrated (cancelled)"; the VM counts on on A, B has none
#   6. to a port where nobody listens: a non-zero status naming the
#      failure, and the VM runs on A
#   7. the VM's kernel logged no warning or error on either host (dmesg)
# One PASS/FAIL line per check, then "migrate-ctl: N passed, N failed".
#   migrate-ctl-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=migrate-ctl driver_needs="vmlinuz initrd.gz"
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
ctl_log=$log_dir/migrate-ctl-utsuwactl.txt # every utsuwactl call and what it printed
: >"$ctl_log"
mods="$guest_dir/vmlinuz,$guest_dir/initrd.gz,$work/mig.cfg"
# The SAN: one disk image both QEMUs attach as an NVMe disk (QEMU's image
# locking off: two machines share it on purpose), its partition "shared".
command -v sgdisk >/dev/null || driver_abort "no sgdisk (sh scripts/setup-deps.sh)"
truncate -s 16M "$work/san.img" && sgdisk -n 1:2048:0 -c 1:shared "$work/san.img" >/dev/null ||
	driver_abort "sgdisk cannot make the shared disk"
san="-drive file=$work/san.img,if=none,id=san,format=raw,file.locking=off
	-device nvme,serial=utsuwa-san,drive=san"
vm='vm=loop,image=vmlinuz,initrd=initrd.gz,mem=128M,cpus=2,net=mac=02:00:00:00:10:01,disk=gpt:shared'
vm+=',cmdline="console=ttyS0 quiet utsuwa.loop=600"'
DRIVER_QEMU_ARGS="$(net "$api_a" "$mig_a") $san" driver_start "$loga" 420 2 \
	"exit=halt hostip=10.0.2.50/24,gw=10.0.2.2 $vm" "$mods"
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
	timeout -k 5 420 "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 2 \
		-display none -monitor none -serial "file:$logb" -no-reboot $(net "$api_b" "$mig_b") $san \
		-kernel "$kernel" -append "exit=halt hostip=10.0.2.50/24,gw=10.0.2.2" \
		-initrd "$mods" </dev/null >"$logb.qemu" 2>&1 &
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
	printf '$ utsuwactl --host 127.0.0.1:%s %s\n%s\n(status %s)\n' "$p" "$*" "$out" "$rc" >>"$ctl_log"
}
wait_file() { # LOG REGEX SECONDS
	local end=$((SECONDS + $3))
	until tr -d '\r' <"$1" 2>/dev/null | grep -aqE -- "$2"; do
		[ $SECONDS -lt "$end" ] || return 1
		sleep 0.3
	done
}
# The last counter line's n of the VM in log $1 (matched unanchored, as
# in migrate-test.sh).
last_n() { tr -d '\r' <"$1" | sed -n 's/.*\[loop\] utsuwa-loop: n=\([0-9]*\) .*/\1/p' | tail -n 1; }

# ---- 1. both hosts ----
wait_file "$loga" '^api: listening on TCP port 8080' 120 && wait_file "$logb" '^api: listening on TCP port 8080' 120 &&
	wait_file "$loga" '^migrate: listening on TCP port 8081' 10 && wait_file "$logb" '^migrate: listening on TCP port 8081' 10
ctl "$api_a" host && ok_a=$rc && ctl "$api_b" host
[ "${ok_a:-1}" = 0 ] && [ "$rc" = 0 ]
check $? "both hosts boot, listen for migrations and answer utsuwactl host" ||
	{ tail -n 5 "$loga" "$logb" | sed 's/^/  | /'; driver_end; exit; }

# ---- 2. the VM on A ----
wait_file "$loga" '\[loop\] utsuwa-loop: n=3 ' 180
check $? "a Linux VM (2 vCPUs, a NIC, a disk on shared storage) counts on A" || { tail -n 5 "$loga" | sed 's/^/  | /'; driver_end; exit; }

# ---- 3, 4. there and back ----
# $1 from-API, $2 to-API, $3 the destination's migration port, $4 its log,
# $5 the source's log, $6 words for the checks
move() {
	local n0 n
	ctl "$1" migrate loop --to "10.0.2.2:$3"
	[ "$rc" = 0 ] && grep -q 'runs on' <<<"$out"
	check $? "utsuwactl migrate loop --to 10.0.2.2:$3 ($6): status $rc, $(tail -n 1 <<<"$out")" ||
		{ sed 's/^/  | /' <<<"$out"; tr -d '\r' <"$5" | grep -a '^migrate' | tail -n 5 | sed 's/^/  | src: /'; }
	ctl "$1" list
	! grep -qE '^loop ' <<<"$out"
	check $? "loop is gone from the source's list" || sed 's/^/  | /' <<<"$out"
	ctl "$2" list
	grep -qE '^loop +running ' <<<"$out"
	check $? "and runs on the destination" || sed 's/^/  | /' <<<"$out"
	n0=$(last_n "$5")
	n=$((n0 + 1))
	wait_file "$4" "\\[loop\\] utsuwa-loop: n=$n lines=$n .*backwards=no disk=ok" 30 &&
		wait_file "$4" "\\[loop\\] utsuwa-loop: n=$((n + 2)) lines=$((n + 2)) .*backwards=no disk=ok" 30
	check $? "its counter goes on there at n=$n (the source's last: $n0), no line lost, clocks never back, the shared disk holds what was written" ||
		tr -d '\r' <"$4" | grep -a '\[loop\]' | tail -n 3 | sed 's/^/  | /'
}
move "$api_a" "$api_b" "$mig_b" "$logb" "$loga" "A to B"
move "$api_b" "$api_a" "$mig_a" "$loga" "$logb" "B to A"

# ---- 5. cancelled ----
# utsuwactl migrate in the background, cancel once it copies: the migrate
# ends with status 1 naming the cancel, the VM counts on on A, B has none.
"$ctl_bin" --host "127.0.0.1:$api_a" --token-file "$work/token" migrate loop --to "10.0.2.2:$mig_b" \
	>"$work/mig-cancel" 2>&1 &
mig_pid=$!
end=$((SECONDS + 30))
until grep -q 'copying' "$work/mig-cancel" || [ $SECONDS -ge $end ]; do sleep 0.2; done
ctl "$api_a" cancel loop
cancel_rc=$rc cancel_out=$out
wait "$mig_pid"
mig_rc=$?
printf '$ utsuwactl migrate loop --to 10.0.2.2:%s (in the background)\n%s\n(status %s)\n' \
	"$mig_b" "$(cat "$work/mig-cancel")" "$mig_rc" >>"$ctl_log"
ctl "$api_a" list
on_a=$out
ctl "$api_b" list
[ "$cancel_rc" = 0 ] && [ "$mig_rc" = 1 ] && grep -q 'not migrated (cancelled)' "$work/mig-cancel" &&
	grep -qE '^loop +running ' <<<"$on_a" && ! grep -qE '^loop ' <<<"$out"
check $? "utsuwactl cancel loop while it copies to B: the migrate ends with status $mig_rc, '$(tail -n 1 "$work/mig-cancel")'; loop runs on A, not on B" ||
	{ sed 's/^/  | /' "$work/mig-cancel"; echo "  | cancel: status $cancel_rc, $cancel_out"; sed 's/^/  | A: /' <<<"$on_a"; sed 's/^/  | B: /' <<<"$out"; }
n=$(($(last_n "$loga") + 1))
wait_file "$loga" "\\[loop\\] utsuwa-loop: n=$n lines=$n .*backwards=no disk=ok" 30
check $? "and counts on there (n=$n)"

# ---- 6. nobody there ----
none=$(free_port)
ctl "$api_a" migrate loop --to "10.0.2.2:$none"
said=$out r=$rc
ctl "$api_a" list
[ "$r" != 0 ] && grep -q 'not migrated' <<<"$said" && grep -qE '^loop +running ' <<<"$out"
check $? "to a port where nobody listens: status $r, '$(tail -n 1 <<<"$said")'; loop runs on A" ||
	{ sed 's/^/  | /' <<<"$said"; sed 's/^/  | list: /' <<<"$out"; }

# ---- 7. the whole run ----
lines=$(cat "$loga" "$logb" | tr -d '\r' | grep -ac '\[loop\] utsuwa-loop:')
[ "$lines" -gt 5 ] &&
	! cat "$loga" "$logb" | tr -d '\r' | grep -a '\[loop\] utsuwa-loop:' | grep -avE 'backwards=no disk=ok' | grep -q .
check $? "uptime and date never went backwards in $lines lines, on either host; every disk read held what was written"
kmsg=$(cat "$loga" "$logb" | tr -d '\r' | grep -a '\[loop\] utsuwa-kmsg:')
[ -z "$kmsg" ]
check $? "the VM's kernel logged no warning or error after its boot, on either host (dmesg)" ||
	head -n 10 <<<"$kmsg" | sed 's/^/  | /'

echo "$name: took $((SECONDS - started)) s; host B's log in $logb, utsuwactl's in $ctl_log"
driver_end
