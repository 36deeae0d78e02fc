#!/bin/bash
# The management API's benchmark (bench/README.md, "Management API"; issue 11
# item 6): utsuwa under QEMU TCG (AMD-V) on one CPU with
# -icount shift=0,sleep=off, where the TSC counts executed instructions,
# with the API on QEMU's user network (as tests/guests/api-e2e-test.sh), all
# driven by build/utsuwactl:
#   1. upload Debian's kernel and the busybox initrd (make linux-guest) into
#      the image store (they are boot modules too: if an upload fails, the VM
#      boots the modules and the script says so)
#   2. create a Linux VM (1 vCPU, 256 MiB, "console=ttyS0 utsuwa.bench") with
#      "start": false; read its guest TSC twice (it must stand still)
#   3. POST /vms/NAME/start, then GET /vms/NAME: three instants on the host
#      TSC (= instructions):
#        a. the start route takes the request on: start_tsc
#           (core/api_routes.c)
#        b. the VM's first slice, just before its first VMRUN:
#           first_entry_tsc (core/vcpu_run.c)
#        c. Linux's /init where the shell would start: the guest prints its
#           TSC there ("utsuwa-bench: shell-ready tsc=N", tools/guest-tsc);
#           host TSC = host_tsc_at_guest_tsc_0 + guest TSC (core/vm_clock.c:
#           after the start, guest TSC = host TSC + offset, the offset fixed
#           until a pause or a TSC write; host_tsc_at_guest_tsc_0 = -offset)
#      checked: a < the clock's start (host_tsc_at_guest_tsc_0 + the paused
#      guest TSC) < b < c
#   4. N calls each of GET /host and GET /vms: GET /host reports the
#      hypervisor's TSC ticks for the request before it
#      (api_last_request_tsc, core/api_tcp.c: from the frame's arrival in
#      netstack_poll to the answer's last tcp_output)
# Prints
#   api start-to-first-entry instructions=<b-a>
#   api start-to-init instructions=<c-a> (first entry to init <c-b>, guest idle <ns>)
#   api round-trip GET /host instructions=<mean> (min <N> max <N>, N calls)
#   api round-trip GET /vms instructions=<mean> (min <N> max <N>, N calls)
#
#   bench/api.sh [KERNEL [GUEST_DIR]]
# Environment: QEMU, API_CALLS (N, default 20), API_TIMEOUT (s, default 600).
# The serial log stays in build/bench/api.log.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-$root/build/utsuwa.elf}
guests=${2:-$root/build/guests}
qemu=${QEMU:-qemu-system-x86_64}
ctl_bin=${UTSUWACTL:-$root/build/utsuwactl}
calls=${API_CALLS:-20}
limit=${API_TIMEOUT:-600}
. "$root/scripts/qemu-svm-cpu.sh"
out=$root/build/bench
mkdir -p "$out"
log=$out/api.log
for f in "$kernel" "$ctl_bin" "$guests/vmlinuz" "$guests/initrd.gz"; do
	[ -f "$f" ] || { echo "api-bench: missing $f (make, make linux-guest)" >&2; exit 2; }
done
die() { echo "api-bench: $*" >&2; exit 1; }

# A TCP port of 127.0.0.1 nothing answers on now (QEMU's hostfwd binds it).
port=
for try in $(seq 20); do
	p=$((20000 + (RANDOM + $$ + try) % 30000))
	if ! { exec 9<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then port=$p; break; fi
	exec 9>&-
done
[ -n "$port" ] || die "no free TCP port on 127.0.0.1"
work=$(mktemp -d)
token=bench-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$token" >"$work/token"
qpid=
cleanup() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

ctl() { HOME=$work UTSUWA_TOKEN= timeout 120 "$ctl_bin" --host "127.0.0.1:$port" \
	--token-file "$work/token" "$@"; }
# A JSON answer's unsigned number field.
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
logline() { tr -d '\r' 2>/dev/null <"$log" | sed -n "$1" | head -n 1; }
wait_log() { # SED-PATTERN SECONDS
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		[ -n "$(logline "$1")" ] && return 0
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

rm -f "$log"
timeout -k 10 "$limit" "$qemu" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 1 \
	-icount shift=0,sleep=off -display none -monitor none -no-reboot \
	-serial "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=4 \
	-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-10.0.2.50:8080" \
	-device virtio-net-pci,netdev=n0 -kernel "$kernel" \
	-append "exit=halt hostip=10.0.2.50/24,gw=10.0.2.2 api_token=$token" \
	-initrd "$guests/vmlinuz,$guests/initrd.gz" </dev/null >"$out/api.qemu" 2>&1 &
qpid=$!
wait_log '/^api: listening on TCP port/p' 120 || die "the API did not come up (log: $log)"
ctl host >/dev/null || die "GET /host failed"

# ---- 1. the images ----
image=bench-vmlinuz initrd=bench-initrd.gz
if ! ctl upload "$image" "$guests/vmlinuz" >"$work/up" 2>&1 ||
	! ctl upload "$initrd" "$guests/initrd.gz" >>"$work/up" 2>&1; then
	echo "api-bench: an upload failed ($(tail -n 1 "$work/up")): the VM boots the boot modules" >&2
	image=vmlinuz initrd=initrd.gz
fi

# ---- 2. created paused ----
vm=benchvm
printf '{"name":"%s","image":"%s","initrd":"%s","cmdline":"console=ttyS0 utsuwa.bench","mem_mib":256,"cpus":1,"start":false}\n' \
	"$vm" "$image" "$initrd" >"$work/spec.json"
ctl create "$work/spec.json" >/dev/null || die "create failed"
g1=$(ctl --json show "$vm" | field guest_tsc)
sleep 1
g2=$(ctl --json show "$vm" | field guest_tsc)
[ -n "$g1" ] && [ "$g1" = "$g2" ] || die "the paused VM's guest TSC moved ($g1, $g2)"

# ---- 3. start ----
ctl start "$vm" >/dev/null || die "start failed"
info=$(ctl --json show "$vm")
b=$(field first_entry_tsc <<<"$info")
base=$(field host_tsc_at_guest_tsc_0 <<<"$info")
a=$(field start_tsc <<<"$info")
[ -n "$a" ] && [ -n "$b" ] && [ "$b" != 0 ] && [ -n "$base" ] && [ "$base" != 0 ] ||
	die "no start or first entry (a=$a b=$b base=$base; log: $log)"
wait_log '/utsuwa-bench: uptime/p' "$limit" || die "no /init line (log: $log)"
g=$(logline 's/.*utsuwa-bench: shell-ready tsc=\([0-9]*\).*/\1/p')
idle=$(logline 's/.*utsuwa-bench: uptime [0-9.]* \([0-9.]*\)$/\1/p')
idle=$(awk -v s="$idle" 'BEGIN { printf "%.0f", s * 1e9 }')
c=$((base + g))
clock_start=$((base + g1))
[ "$a" -lt "$clock_start" ] && [ "$clock_start" -lt "$b" ] && [ "$b" -lt "$c" ] ||
	die "the instants are out of order: start $a, clock start $clock_start, first entry $b, init $c"

# ---- 4. round trips ----
rt() { # LABEL COMMAND...: N calls, each followed by GET /host for its figure
	local label=$1 i v sum=0 min= max=0
	shift
	ctl --json host >/dev/null
	for ((i = 0; i < calls; i++)); do
		"$@" >/dev/null || die "$label failed"
		v=$(ctl --json host | field api_last_request_tsc)
		[ -n "$v" ] && [ "$v" != 0 ] || die "no api_last_request_tsc after $label"
		sum=$((sum + v))
		[ -z "$min" ] || [ "$v" -lt "$min" ] && min=$v
		[ "$v" -gt "$max" ] && max=$v
	done
	echo "api round-trip $label instructions=$((sum / calls)) (min $min max $max, $calls calls)"
}

echo "api start-to-first-entry instructions=$((b - a))"
echo "api start-to-init instructions=$((c - a)) (first entry to init $((c - b)), guest idle $idle)"
echo "api instants start=$a clock-start=$clock_start first-entry=$b init=$c (paused guest TSC $g1, at init $g)"
rt "GET /host" ctl --json host
rt "GET /vms" ctl --json list
ctl destroy "$vm" >/dev/null
