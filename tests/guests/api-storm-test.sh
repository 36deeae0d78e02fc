#!/bin/bash
# The management API under a storm of random and malformed requests while a
# canary VM runs (issue 11, item 5; docs/api.md). utsuwa under QEMU (AMD-V),
# its own address 10.0.2.50 on the switch (the uplink a virtio-net-pci card
# on QEMU's user network), the API's port forwarded to a free port of the
# build machine's loopback, a known token (api_token=), and one VM: the
# counting test guest (tests/guests/count.c, 2 vCPUs, a line every 200 ms
# of guest time). tests/api-storm/storm.c, built here with the host's gcc,
# sends STORM_REQUESTS (10,000) requests made from a seed it prints: without
# the token or with a wrong one (among them the canary's pause, destroy,
# reset, stop), malformed heads, bad methods and versions, huge or negative
# Content-Length, oversized heads, truncated bodies, bad JSON, path tricks,
# random bytes, pipelined requests and garbage, connections closed or reset
# half-way, split and slow senders; over 5 connections, checking with the
# token every 2 s that GET /host and GET /vms answer and the canary runs.
# Checks:
#   - storm: every request got the answer it must (401 for each without the
#     token, never a 1xx/2xx), no answer that is not HTTP, no hang;
#   - the canary: its lines keep coming during the storm and after it, with
#     no gap over STORM_MAX_GAP (5) s, the count never skips or goes back,
#     its pattern and clocks are intact (bad=0 back=no); GET /vms says running;
#   - the API answers an authorized GET /host afterwards;
#   - no memory is lost: the monitor's mem (pages free, heap blocks in use)
#     and GET /host's free_mib are what they were before the storm;
#   - the hypervisor printed no PANIC and took no exception.
# One PASS/FAIL line per check, then "api-storm: N passed, N failed".
#   api-storm-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
#   STORM_REQUESTS=N STORM_SEED=S: another count, a given seed.
set -u
name=api-storm driver_needs="count.bin"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
requests=${STORM_REQUESTS:-10000}
max_gap=${STORM_MAX_GAP:-5}
token=api-storm-test-token-2f9c1e7b

storm=$log_dir/storm
gcc -O2 -Wall -Wextra -Werror -pthread -o "$storm" "$root/tests/api-storm/storm.c" \
	"$root/tests/api-storm/storm_req.c" "$root/tests/api-storm/storm_wire.c" ||
	driver_abort "tests/api-storm/storm*.c do not build"
printf '%s\n' "$token" >"$work/token"

api_get() { "$storm" -p "$port" -f "$work/token" get "$1"; }
# The monitor's mem: "PAGES BLOCKS".
mem() {
	cmd_until mem '^memory: [0-9]+ pages free, [0-9]+ heap blocks in use' 20 || return 1
	since | sed -nE 's/.*memory: ([0-9]+) pages free, ([0-9]+) heap blocks in use.*/\1 \2/p' |
		tail -n 1
}
free_mib() { api_get /host | sed -nE 's/.*"free_mib":([0-9]+).*/\1/p'; }

port=$(free_port) || driver_abort "no free TCP port on 127.0.0.1"
log=$log_dir/api-storm.log
DRIVER_QEMU_ARGS="-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-10.0.2.50:8080
	-device virtio-net-pci,netdev=n0" driver_start "$log" 400 2 \
	"exit=halt hostip=10.0.2.50/24,gw=10.0.2.2 api_token=$token vm=cnt,image=count.bin,mode=long,mem=32M,cpus=2,arg=200" \
	"$guest_dir/count.bin"
wait_for 'VMs? on [0-9]+ CPUs' 60
check $? "utsuwa boots with the canary VM" || { driver_end; exit; }
wait_for '\[cnt\] count: n=3 ' 60
check $? "the canary counts" || { since | tail -n 5 | sed 's/^/  | /'; driver_end; exit; }

# The API answers with the token (lwIP may take a moment to be on the switch).
end=$((SECONDS + 30))
until out=$(api_get /host) || [ $SECONDS -ge "$end" ]; do sleep 1; done
grep -q '"free_mib":' <<<"$out"
check $? "an authorized GET /host answers before the storm" || sed 's/^/  | /' <<<"$out"
sleep 2 # the check's connection closed
cmd ''
read -r pages0 blocks0 <<<"$(mem)"
mib0=$(free_mib)
echo "api-storm: before: $pages0 pages free, $blocks0 heap blocks in use, free_mib $mib0"

# Each canary line as it comes, with the wall clock (tail's own pid, to end it).
stamps=$work/stamps
exec 7< <(exec tail -n 0 -F "$log" 2>/dev/null)
tailer=$!
trap 'kill "$tailer" 2>/dev/null; driver_cleanup' EXIT
while IFS= read -r line <&7; do
	[[ $line =~ \[cnt\]\ (count: n=[0-9]+ .*bad=[0-9]+) ]] && echo "$EPOCHREALTIME ${BASH_REMATCH[1]}"
done >"$stamps" 2>/dev/null &
stamper=$!
exec 7<&-
sleep 1
t_start=$EPOCHREALTIME
"$storm" -p "$port" -f "$work/token" -n "$requests" -v cnt ${STORM_SEED:+-s "$STORM_SEED"} \
	>"$work/storm.out" 2>&1
rc=$?
t_end=$EPOCHREALTIME
sed 's/^/  | /' "$work/storm.out"
cp "$work/storm.out" "$log_dir/api-storm.storm.out"
[ "$rc" = 0 ]
check $? "$requests requests: each got the answer it must, none hung, none not HTTP"
grep -qE '^storm: 401 for ([0-9]+) of \1 requests' "$work/storm.out" &&
	! grep -qE '^storm: 401 for 0 of' "$work/storm.out"
check $? "every request without the token or with a wrong one got 401"
grep -qE '^storm: checks: [1-9][0-9]* authorized .* answered, 0 failed; cnt not running in 0$' \
	"$work/storm.out"
check $? "during the storm, authorized GET /host and GET /vms answered and the canary ran"

# After: the canary still counts, the API answers, the memory is back.
sleep 5
out=$(api_get /vms)
grep -q '{"name":"cnt","state":"running"' <<<"$out"
check $? "after the storm GET /vms shows the canary running" || sed 's/^/  | /' <<<"$out"
kill "$tailer" 2>/dev/null
wait "$stamper" 2>/dev/null
# Gaps between canary lines from just before the storm to now.
gaps=$(awk -v s="$t_start" -v e="$t_end" '
	{ t = $1; sub(/.*n=/, ""); n = $1 + 0 }
	NR > 1 { g = t - pt; if (g > max) max = g; if (n != pn + 1) skip++ }
	t >= s && t <= e { during++ } t > e { after++ }
	{ pt = t; pn = n }
	END { printf "%.1f %d %d %d\n", max, during, after, skip }' "$stamps")
read -r gap during after skips <<<"$gaps"
[ "${during:-0}" -gt 0 ] && [ "${after:-0}" -gt 0 ] &&
	awk -v g="$gap" -v m="$max_gap" 'BEGIN { exit !(g <= m) }'
check $? "the canary counted during the storm ($during lines) and after it ($after), the longest gap ${gap} s (at most $max_gap)"
[ "${skips:-1}" = 0 ] && tail -n 1 "$stamps" | grep -qE 'back=no bad=0$'
check $? "its count never skipped or went back, its memory and clocks intact" ||
	tail -n 3 "$stamps" | sed 's/^/  | /'
out=$(api_get /host)
grep -q '"free_mib":' <<<"$out"
check $? "an authorized GET /host answers after the storm" || sed 's/^/  | /' <<<"$out"

# The connections the storm left are closed within seconds: look a few times.
for try in 1 2 3 4 5; do
	read -r pages1 blocks1 <<<"$(mem)"
	[ "$pages1" = "$pages0" ] && [ "$blocks1" = "$blocks0" ] && break
	sleep 2
done
mib1=$(free_mib)
echo "api-storm: after: $pages1 pages free, $blocks1 heap blocks in use, free_mib $mib1"
[ -n "$pages0" ] && [ "$pages1" = "$pages0" ] && [ "$blocks1" = "$blocks0" ] && [ "$mib1" = "$mib0" ]
check $? "no memory lost: $pages1 pages free (before $pages0), $blocks1 heap blocks (before $blocks0), free_mib $mib1 (before $mib0)"
# No line about the canary but its creation's (a crash report, a stop).
! tr -d '\r' <"$log" | grep -aE 'PANIC|exception [0-9]+ .*in the hypervisor|vm cnt\b' |
	grep -avqE 'utsuwa: vm cnt: [0-9]+ vCPUs, '
check $? "the hypervisor printed no PANIC or exception, and nothing was done to the canary" ||
	tr -d '\r' <"$log" | grep -aE -A3 'PANIC|exception [0-9]+|vm cnt: ' | head -n 20 | sed 's/^/  | /'
driver_end
