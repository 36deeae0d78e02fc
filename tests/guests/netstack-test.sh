#!/bin/bash
# The hypervisor's own address (docs/platform.md, "The hypervisor's own
# address"): lwIP on a port of the switch, under QEMU (AMD-V), the machine's
# NIC a virtio-net-pci card on QEMU's user network (the switch's uplink), the
# API's TCP port forwarded to a free port of the build machine's loopback.
#   1. hostip=10.0.2.50/24,gw=10.0.2.2: the boot logs the address and MAC and
#      the API's listener; a Linux VM on the switch (10.0.2.60) pings
#      10.0.2.50 and gets replies; the build machine connects through the
#      forwarded port and gets an HTTP answer, 20 times in a row; with
#      API_MAX_CONNS (8) connections open, more are refused with a 503 and
#      a new one is answered once they close; the monitor's net shows the
#      host's port and its counters.
#   2. hostip=dhcp (no VM): QEMU's DHCP server gives 10.0.2.15, logged; the
#      API answers on that address.
#   3. No hostip=: no network stack, nothing answers.
# One PASS/FAIL line per check, then "netstack: N passed, N failed".
#   netstack-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=netstack driver_needs="vmlinuz initrd.gz"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
has() { if grep -qaE -- "$2" "$1"; then ok "$3"; else bad "$3"; fi; }

# One request through the forwarded port; prints what came back (10 s at most).
request() {
	( exec 5<>"/dev/tcp/127.0.0.1/$1" || exit 1
	  printf 'GET /host HTTP/1.1\r\nHost: utsuwa\r\nConnection: close\r\n\r\n' >&5
	  timeout 10 cat <&5 ) 2>/dev/null | tr -d '\r'
}
answered() { grep -aqE '^HTTP/1\.1 [0-9]{3} ' <<<"$1"; }

# 1. A static address, a VM pinging it, the API's port from the build machine.
port=$(free_port) || driver_abort "no free TCP port on 127.0.0.1"
log=$log_dir/netstack.log
DRIVER_QEMU_ARGS="-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-10.0.2.50:8080
	-device virtio-net-pci,netdev=n0" driver_start "$log" 300 2 \
	"exit=halt hostip=10.0.2.50/24,gw=10.0.2.2 vm=p,image=vmlinuz,initrd=initrd.gz,mem=160M,cpus=1,net,cmdline=\"console=ttyS0 quiet utsuwa.netping=10.0.2.60/10.0.2.50\"" \
	"$guest_dir/vmlinuz,$guest_dir/initrd.gz"
wait_for 'VMs? on [0-9]+ CPUs' 60
check $? "utsuwa boots" || { driver_end; exit; }
boot=$(since)
grep -aqE '^netstack: 10\.0\.2\.50/24, gateway 10\.0\.2\.2, MAC 02(:[0-9a-f]{2}){5}, port [0-9]+ of the switch' <<<"$boot"
check $? "the boot logs the address, gateway and a locally administered MAC" ||
	grep -a 'netstack\|uplink' <<<"$boot" | sed 's/^/  | /'
mac=$(sed -n 's/^netstack: .* MAC \([0-9a-f:]*\),.*/\1/p' <<<"$boot")
grep -aqE '^api: listening on TCP port 8080 ' <<<"$boot"
check $? "the API listens on TCP port 8080 (the default)"

out=$(request "$port")
answered "$out"
check $? "the build machine gets an HTTP answer through the forwarded port" ||
	sed 's/^/  | /' <<<"$out"
good=0
for i in $(seq 20); do answered "$(request "$port")" && good=$((good + 1)); done
[ "$good" = 20 ]
check $? "20 connections in a row are answered ($good)"

# API_MAX_CONNS open and silent, then two more: refused with a 503.
for fd in 10 11 12 13 14 15 16 17; do eval "exec $fd<>/dev/tcp/127.0.0.1/$port"; done
sleep 3
busy=0
for i in 1 2; do
	out=$( (exec 5<>"/dev/tcp/127.0.0.1/$port" && timeout 10 cat <&5) 2>/dev/null | tr -d '\r')
	grep -aqE '^HTTP/1\.1 503 ' <<<"$out" && busy=$((busy + 1))
done
[ "$busy" = 2 ]
check $? "with 8 connections open, two more are refused with a 503 ($busy)"
for fd in 10 11 12 13 14 15 16 17; do eval "exec $fd>&-"; done
sleep 2
answered "$(request "$port")"
check $? "once they close, a new connection is answered"

set_mark
wait_for '\[p\] 64 bytes from 10\.0\.2\.50' 150
check $? "the VM pings the hypervisor's address and gets replies" ||
	since | tail -n 5 | sed 's/^/  | /'
sleep 3
cmd ''
cmd net
out=$(since)
grep -aqE "^port [0-9]+: host mac $mac in [1-9][0-9]* out [1-9][0-9]* drops 0 spoofs 0 bad 0\$" <<<"$out"
check $? "the monitor's net shows the host's port with frames both ways" || sed 's/^/  | /' <<<"$out"
grep -aqE '^host: 10\.0\.2\.50/24, [1-9][0-9]* frames received, 0 dropped \(ring full\), 0 without a buffer$' <<<"$out"
check $? "the monitor's net shows the host's address and counters" || sed 's/^/  | /' <<<"$out"
driver_cleanup
trap - EXIT
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"

# 2. DHCP from QEMU's user network: it leases 10.0.2.15 first.
run_qemu() {
	local log=$1 cfg=$2
	timeout -k 5 120 "${QEMU:-qemu-system-x86_64}" -accel tcg -cpu "$QEMU_SVM_CPU" -m 512M \
		-smp 1 -display none -monitor none -serial stdio -no-reboot \
		-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:8080" -device virtio-net-pci,netdev=n0 \
		-kernel "$kernel" -append "$cfg" >"$log" 2>&1 </dev/null &
	qemu=$!
}
wait_log() {
	local end=$((SECONDS + $3))
	until grep -aqE -- "$2" "$1"; do
		[ $SECONDS -lt "$end" ] && kill -0 "$qemu" 2>/dev/null || return 1
		sleep 0.2
	done
}
stop_qemu() { kill "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null; tr -d '\r' <"$1" >"$1.txt" && mv "$1.txt" "$1"; }
port=$(free_port) || driver_abort "no free TCP port on 127.0.0.1"
log=$log_dir/netstack-dhcp.log
run_qemu "$log" "exit=halt hostip=dhcp"
wait_log "$log" '^netstack: 10\.0\.2\.15/24 by DHCP, gateway 10\.0\.2\.2' 60
check $? "hostip=dhcp: QEMU's DHCP server's address is logged when bound" ||
	grep -a 'netstack' "$log" | sed 's/^/  | /'
has "$log" '^netstack: MAC 02(:[0-9a-f]{2}){5}, port [0-9]+ of the switch; asking for an address by DHCP' \
	"hostip=dhcp: the boot logs the MAC and that it asks"
answered "$(request "$port")"
check $? "hostip=dhcp: the API answers on the leased address"
stop_qemu "$log"

# 3. Without hostip=: nothing of it.
port=$(free_port) || driver_abort "no free TCP port on 127.0.0.1"
log=$log_dir/netstack-none.log
run_qemu "$log" "exit=halt"
wait_log "$log" '^utsuwa: no VM to run' 60
sleep 2
out=$(request "$port")
! answered "$out" && ! grep -aq '^netstack\|^api:' "$log"
check $? "without hostip=: no network stack, nothing answers"
stop_qemu "$log"
echo "$name: logs in $log_dir/netstack*.log"
echo "$name: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
