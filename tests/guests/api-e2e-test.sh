#!/bin/bash
# The management API end to end (issue 11, item 5): utsuwa under QEMU (AMD-V)
# with no VM at first (exit=halt keeps it up), its own address
# hostip=10.0.2.50/24 on QEMU's user network behind a virtio-net-pci card,
# the API's TCP port forwarded to a free port of the build machine's
# loopback, a known api_token=; then everything through build/utsuwactl:
#   1. host answers (svm, CPUs, free memory: noted, with the monitor's mem)
#   2. upload Debian's kernel and the busybox initrd into the image store;
#      images lists them with their exact sizes
#   3. create two Linux VMs from JSON specs naming the uploaded images: one
#      counting once a second (utsuwa.loop), one a plain shell; list shows
#      both running; the loop's lines come out on the serial line ([loop] ...)
#   4. console to the shell VM with a command piped in: its answer comes back;
#      it reads 256 KiB of its RAM disk (an uploaded image) and pings the
#      hypervisor's address 3 times, and show's I/O counters say so
#   5. pause the loop VM: no line for 3 s, show says paused; resume: the
#      next number
#   6. snapshot it, destroy it, restore the snapshot as loop2: the counter
#      goes on from where it was
#   7. no token (utsuwactl refuses to send; a bare request gets 401) and a
#      wrong token (status 1, the 401's error): nothing changes, and no log
#      line holds a token
#   8. destroy both VMs, delete both images and the snapshot: the host's free
#      memory (the API's free_mib, the monitor's free pages and heap blocks)
#      is back where it was in step 1
# One PASS/FAIL line per check, then "api-e2e: N passed, N failed".
#   api-e2e-test.sh [-k KERNEL] [-g GUEST_DIR] [-o LOG_DIR]
set -u
name=api-e2e driver_needs="vmlinuz initrd.gz"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
ctl_bin=${UTSUWACTL:-$root/build/utsuwactl}
[ -x "$ctl_bin" ] || driver_abort "missing $ctl_bin (make)"
started=$SECONDS

port=$(free_port) || driver_abort "no free TCP port on 127.0.0.1"
token=e2e-Token.0123456789abcdef
printf '%s\n' "$token" >"$work/token"
printf '%s\n' e2e-Wrong.0123456789abcdef >"$work/wrong"
# utsuwactl with the token; $out its standard output, $err its error, $rc
# its status. HOME and UTSUWA_TOKEN are cleared so that only the file counts.
ctl() {
	out=$(HOME=$work UTSUWA_TOKEN= timeout 60 "$ctl_bin" --host "127.0.0.1:$port" \
		--token-file "$work/token" "$@" 2>"$work/err")
	rc=$? err=$(cat "$work/err")
}
show_out() { { echo "$ ${*:-}"; echo "$out"; echo "$err"; echo "(status $rc)"; } | sed 's/^/  | /'; }
# The last counter line of VM $1 on the serial line (its n), optionally only
# up to the first line matching $2.
last_n() {
	tr -d '\r' <"$driver_log" | { if [ -n "${2:-}" ]; then sed -n "1,/$2/p"; else cat; fi; } |
		sed -n "s/^\[$1\] utsuwa-loop: n=\([0-9]*\) .*/\1/p" | tail -n 1
}
mem_now() { cmd mem; since | sed -n 's/^memory: \(.*\)$/\1/p' | tail -n 1; }

log=$log_dir/api-e2e.log
DRIVER_QEMU_ARGS="-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-10.0.2.50:8080
	-device virtio-net-pci,netdev=n0" driver_start "$log" 360 2 \
	"exit=halt hostip=10.0.2.50/24,gw=10.0.2.2 api_token=$token" ""
wait_for '^api: listening on TCP port 8080' 60
check $? "utsuwa boots with no VM, the API listening" || { since | tail -n 5 | sed 's/^/  | /'; driver_end; exit; }
sleep 1
cmd ''

# ---- 1. the host ----
ctl host
ctl host # the second answer: the first connection's state is made by now
free0=$(sed -n 's/^free_mib: //p' <<<"$out")
[ "$rc" = 0 ] && grep -qx 'backend: svm' <<<"$out" && grep -qE '^cpus: [1-9]' <<<"$out" &&
	[ -n "$free0" ]
check $? "host answers: backend svm, cpus, free_mib=$free0" || show_out host
mem0=$(mem_now)

# ---- 2. upload the kernel and the initrd ----
k_size=$(stat -c %s "$guest_dir/vmlinuz") i_size=$(stat -c %s "$guest_dir/initrd.gz")
t=$SECONDS
ctl upload e2e-vmlinuz "$guest_dir/vmlinuz"
[ "$rc" = 0 ] && [ "$out" = "e2e-vmlinuz: $k_size bytes" ]
check $? "upload the kernel ($k_size bytes, $((SECONDS - t)) s)" || show_out upload
ctl upload e2e-initrd.gz "$guest_dir/initrd.gz"
[ "$rc" = 0 ] && [ "$out" = "e2e-initrd.gz: $i_size bytes" ]
check $? "upload the initrd ($i_size bytes)" || show_out upload
ctl images
[ "$rc" = 0 ] && grep -qE "^e2e-vmlinuz +$k_size\$" <<<"$out" &&
	grep -qE "^e2e-initrd\.gz +$i_size\$" <<<"$out"
check $? "images lists both with their exact sizes" || show_out images
head -c 1048576 /dev/urandom >"$work/disk.img"
ctl upload e2e-disk "$work/disk.img"
[ "$rc" = 0 ] && [ "$out" = "e2e-disk: 1048576 bytes" ]
check $? "upload a 1 MiB disk image" || show_out upload

# ---- 3. two VMs from JSON specs ----
spec() { # NAME CMDLINE [MORE-FIELDS]
	printf '{"name":"%s","image":"e2e-vmlinuz","initrd":"e2e-initrd.gz","cmdline":"%s","mem_mib":128,"cpus":1%s}\n' \
		"$1" "$2" "${3:-}" >"$work/$1.json"
}
spec loop "console=ttyS0 quiet utsuwa.loop"
spec sh "console=ttyS0 quiet" ',"disks":[{"source":"module:e2e-disk"}],"net":true'
set_mark
ctl create "$work/loop.json"
[ "$rc" = 0 ] && [ "$out" = "loop: running" ]
check $? "create the loop VM from a spec" || show_out create loop.json
ctl create "$work/sh.json"
[ "$rc" = 0 ] && [ "$out" = "sh: running" ]
check $? "create the shell VM from a spec" || show_out create sh.json
ctl list
[ "$rc" = 0 ] && grep -qE '^loop +running +1 +128$' <<<"$out" && grep -qE '^sh +running +1 +128$' <<<"$out"
check $? "list shows both running" || show_out list
wait_for '^\[loop\] utsuwa-loop: n=2 ' 150
check $? "the loop VM's counter comes out on the serial line ([loop] utsuwa-loop: n=...)" ||
	since | tail -n 5 | sed 's/^/  | /'

# ---- 5. pause and resume ----
ctl pause loop
[ "$rc" = 0 ] && [ "$out" = "loop: paused" ]
check $? "pause loop" || show_out pause loop
set_mark
sleep 3
last=$(last_n loop)
! since | grep -aq 'utsuwa-loop'
check $? "paused, the counter stops (no line in 3 s after n=$last)"
ctl show loop
[ "$rc" = 0 ] && grep -qx 'state: paused' <<<"$out"
check $? "show says paused" || show_out show loop
set_mark
ctl resume loop
[ "$rc" = 0 ] && [ "$out" = "loop: running" ] &&
	wait_for "^\\[loop\\] utsuwa-loop: n=$((last + 1)) lines=$((last + 1)) " 20
check $? "resume: the counter continues at n=$((last + 1))" ||
	{ show_out resume loop; since | tail -n 3 | sed 's/^/  | /'; }

# ---- 6. snapshot, destroy, restore ----
set_mark
ctl snapshot loop
id=$(sed -n 's/^loop: snapshot \([0-9][0-9]*\)$/\1/p' <<<"$out")
[ "$rc" = 0 ] && [ -n "$id" ] && wait_for "vm loop: snapshot $id taken" 10
check $? "snapshot loop: id ${id:-none}" || show_out snapshot loop
at=$(last_n loop "vm loop: snapshot $id taken")
ctl destroy loop
[ "$rc" = 0 ] && [ "$out" = "loop: destroyed" ]
check $? "destroy loop" || show_out destroy loop
set_mark
ctl restore "${id:-1}" loop2
[ "$rc" = 0 ] && [ "$out" = "loop2: running" ]
check $? "restore $id loop2" || show_out restore
wait_for '^\[loop2\] utsuwa-loop: n=' 30
line=$(since | grep -a '^\[loop2\] utsuwa-loop' | head -n 1)
n=$(sed -n 's/.*n=\([0-9]*\) lines=\([0-9]*\) .*/\1/p' <<<"$line")
l=$(sed -n 's/.*n=\([0-9]*\) lines=\([0-9]*\) .*/\2/p' <<<"$line")
[ -n "$n" ] && [ -n "$at" ] && [ "$n" = $((at + 1)) ] && [ "$n" = "$l" ] &&
	grep -q 'backwards=no' <<<"$line"
check $? "loop2 continues the counter (n=$n after n=$at at the snapshot, file lines=$l)" ||
	echo "  | $line"

# ---- 4. the shell VM's console ----
# (after the loop's checks, which race its 30 rounds; the shell waits)
wait_for '^\[sh\] utsuwa-guest: busybox shell on the console' 60
sleep 1
out=$(printf 'echo e2e-$((6*7))\n' | HOME=$work UTSUWA_TOKEN= timeout 30 "$ctl_bin" \
	--host "127.0.0.1:$port" --token-file "$work/token" console sh 2>"$work/err")
rc=$? err=$(cat "$work/err")
[ "$rc" = 0 ] && tr -d '\r' <<<"$out" | grep -qx 'e2e-42'
check $? "console sh: a piped command's answer comes back, and utsuwactl leaves at stdin's end" ||
	show_out console sh

# The I/O counters of GET /vms/NAME (show prints them as io.disks[0].reads:
# ...): 256 KiB read from the RAM disk with O_DIRECT (no readahead), three
# pings to the hypervisor's own address and their answers.
io_of() { sed -n "s/^io\.$1: //p" <<<"$out"; }
ctl show sh
r0=$(io_of 'disks\[0\]\.read_bytes') t0=$(io_of net.tx_frames) x0=$(io_of net.rx_frames)
out=$(printf 'dd if=/dev/vda of=/dev/null bs=65536 count=4 iflag=direct 2>/dev/null; ip link set eth0 up; ip addr add 10.0.2.61/24 dev eth0; echo pings=$(ping -c 3 -i 0.3 -W 2 10.0.2.50 | grep -c "bytes from")\n' |
	HOME=$work UTSUWA_TOKEN= timeout 30 "$ctl_bin" --host "127.0.0.1:$port" \
	--token-file "$work/token" console sh 2>"$work/err")
rc=$? err=$(cat "$work/err")
[ "$rc" = 0 ] && tr -d '\r' <<<"$out" | grep -qx 'pings=3'
check $? "console sh: dd from /dev/vda and 3 pings to the hypervisor's address answered" ||
	show_out console sh
ctl show sh
r1=$(io_of 'disks\[0\]\.read_bytes') t1=$(io_of net.tx_frames) x1=$(io_of net.rx_frames)
[ "$rc" = 0 ] && [ "$(io_of 'disks\[0\]\.disk')" = module:e2e-disk ] && [ -n "$r0" ] && [ -n "$r1" ] &&
	[ $((r1 - r0)) -ge 262144 ] && [ $((r1 - r0)) -lt 524288 ] &&
	[ "$(io_of 'disks\[0\]\.errors')" = 0 ] && [ "$(io_of 'disks\[0\]\.writes')" = 0 ] &&
	[ -n "$t0" ] && [ -n "$t1" ] && [ $((t1 - t0)) -ge 4 ] && [ -n "$x0" ] && [ -n "$x1" ] &&
	[ $((x1 - x0)) -ge 4 ] && [ "$(io_of net.tx_refused)" = 0 ]
check $? "show sh: the disk read $((${r1:-0} - ${r0:-0})) bytes (256 KiB asked), the NIC sent $((${t1:-0} - ${t0:-0})) frames and received $((${x1:-0} - ${x0:-0})) (ARP and 3 pings each way)" ||
	show_out show sh
ctl list
grep -qE '^sh +running ' <<<"$out"
check $? "the shell VM runs on after the console is left" || show_out list

# ---- 7. no token, a wrong token ----
before=$(HOME=$work UTSUWA_TOKEN= "$ctl_bin" --host "127.0.0.1:$port" --token-file "$work/token" list)
out=$(HOME=$work UTSUWA_TOKEN= timeout 20 "$ctl_bin" --host "127.0.0.1:$port" destroy sh 2>&1)
[ $? = 2 ]
check $? "utsuwactl without a token: status 2, nothing sent" || echo "  | $out"
out=$( (exec 5<>"/dev/tcp/127.0.0.1/$port" || exit 1
	printf 'POST /vms/sh/destroy HTTP/1.1\r\nHost: utsuwa\r\nConnection: close\r\n\r\n' >&5
	timeout 10 cat <&5) 2>/dev/null | tr -d '\r')
grep -q '^HTTP/1.1 401 ' <<<"$out" && grep -qF '{"error":"this call needs Authorization: Bearer <token>"}' <<<"$out"
check $? "a request without the Authorization header: 401 (bash's /dev/tcp, as utsuwactl cannot send one)" ||
	sed 's/^/  | /' <<<"$out"
sleep 1.2 # refusals are logged at most once a second
out=$(HOME=$work UTSUWA_TOKEN= timeout 20 "$ctl_bin" --host "127.0.0.1:$port" \
	--token-file "$work/wrong" destroy sh 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -qF 'utsuwactl: destroy: this call needs Authorization: Bearer <token> (HTTP 401 Unauthorized)' <<<"$out"
check $? "a wrong token: status 1 and the 401's error" || { echo "  | $out"; echo "  | (status $rc)"; }
HOME=$work UTSUWA_TOKEN= "$ctl_bin" --host "127.0.0.1:$port" --token-file "$work/wrong" pause loop2 >/dev/null 2>&1
after=$(HOME=$work UTSUWA_TOKEN= "$ctl_bin" --host "127.0.0.1:$port" --token-file "$work/token" list)
[ "$before" = "$after" ] && grep -qE '^sh +running ' <<<"$after"
check $? "list afterwards: nothing changed (sh survives the destroy)" ||
	{ echo "$before"; echo ---; echo "$after"; } | sed 's/^/  | /'
grep -aq 'api: 401: a request with a wrong token' "$driver_log" &&
	grep -aq 'api: 401: a request without an Authorization header' "$driver_log" &&
	! grep -aqF -e "$token" -e e2e-Wrong "$driver_log"
check $? "both refusals are logged, and no log line holds a token" ||
	grep -a 'api:' "$driver_log" | sed 's/^/  | /'

# ---- 8. everything away: the free memory is back ----
for vm in loop2 sh; do
	ctl destroy $vm
	[ "$rc" = 0 ] && [ "$out" = "$vm: destroyed" ]
	check $? "destroy $vm" || show_out destroy $vm
done
for img in e2e-vmlinuz e2e-initrd.gz e2e-disk; do
	ctl rmimage $img
	[ "$rc" = 0 ] && [ "$out" = "$img: deleted" ]
	check $? "rmimage $img" || show_out rmimage $img
done
ctl rmsnapshot "${id:-1}"
[ "$rc" = 0 ] && [ "$out" = "snapshot ${id:-1}: deleted" ]
check $? "rmsnapshot $id" || show_out rmsnapshot
ctl --json list; left=$out
ctl --json images; left+=" $out"
ctl --json snapshots; left+=" $out"
[ "$left" = "[] [] []" ]
check $? "no VM, image or snapshot is left (list, images, snapshots: $left)"
ctl host
free1=$(sed -n 's/^free_mib: //p' <<<"$out")
[ -n "$free1" ] && [ "$free1" = "$free0" ]
check $? "host's free memory is back where it was (free_mib $free0 -> $free1)" || show_out host
# The monitor's mem: "N pages free, N heap blocks in use, N pages in small
# heap blocks". Pages the heap cut into small blocks stay its own (kept for
# reuse, a high-water mark, not a leak): free pages plus those must be
# where they were, and the heap blocks in use too.
mem1=$(mem_now)
mem_sum() { sed -n 's/^\([0-9]*\) pages free, \([0-9]*\) heap blocks in use, \([0-9]*\) pages in small heap blocks$/\1 \2 \3/p' <<<"$1"; }
read -r f0 b0 c0 <<<"$(mem_sum "$mem0")"
read -r f1 b1 c1 <<<"$(mem_sum "$mem1")"
[ -n "${f0:-}" ] && [ -n "${f1:-}" ] && [ $((f1 + c1)) = $((f0 + c0)) ] && [ "$b1" = "$b0" ]
check $? "the monitor's mem: every page is back (free $f0 -> ${f1:-?}, of which $((${c1:-0} - ${c0:-0})) now in small heap blocks; heap blocks in use $b0 -> ${b1:-?})" ||
	echo "  | before: $mem0; after: $mem1"

echo "$name: $((SECONDS - started)) s"
driver_cleanup
trap - EXIT
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
echo "$name: log in $log"
echo "$name: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
