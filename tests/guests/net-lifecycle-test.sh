#!/bin/bash
# Two Linux VMs on utsuwa's switch driven from the monitor through QEMU's
# serial line (docs/lifecycle.md, docs/platform.md "The switch"), AMD-V under
# QEMU. pa (MAC 52:54:00:00:00:0a) and pb (its MAC derived from its name)
# boot with utsuwa.netping: each pings the other once a second, each reply a
# line on its console. Checks:
#   - both get replies through the switch
#   - the monitor's net shows both ports with frames in and out, no spoofs
#   - snapshot pb, destroy it, restore the snapshot as pb2: pb2 keeps pb's MAC
#     (the configuration line holds it) and the pings go on both ways
#   - restoring the same snapshot again while pb2 runs is refused: its MAC is
#     pb2's on the switch
# Prints one PASS/FAIL line per check and "net-lifecycle: N passed, N failed".
#
# Usage: net-lifecycle-test.sh -k build/utsuwa.elf -g build/guests -o build/guests/logs
set -u
name=net-lifecycle driver_needs="vmlinuz initrd.gz"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
. "$(dirname "$0")/../../scripts/qemu-svm-cpu.sh"

cfg='exit=halt'
cfg+=' vm=pa,image=vmlinuz,initrd=initrd.gz,mem=160M,cpus=1,net=mac=52:54:00:00:00:0a'
cfg+=',cmdline="console=ttyS0 quiet utsuwa.netping=10.0.0.1/10.0.0.2"'
cfg+=' vm=pb,image=vmlinuz,initrd=initrd.gz,mem=160M,cpus=1,net'
cfg+=',cmdline="console=ttyS0 quiet utsuwa.netping=10.0.0.2/10.0.0.1"'
driver_start "$log_dir/net-lifecycle.log" 400 2 "$cfg" "$guest_dir/vmlinuz,$guest_dir/initrd.gz"

wait_for 'VMs? on [0-9]+ CPUs' 60
sleep 1
cmd ''

set_mark
wait_for '\[pa\] 64 bytes from 10\.0\.0\.2' 150 && wait_for '\[pb\] 64 bytes from 10\.0\.0\.1' 30
check $? "pa and pb ping each other through the switch"

cmd net
port_line() { since | grep -aE "^port [0-9]+: vm $1 mac $2 in [1-9][0-9]* out [1-9][0-9]* drops [0-9]+ spoofs 0 bad 0$"; }
pb_mac=$(since | sed -n 's/^port [0-9]*: vm pb mac \([0-9a-f:]*\) .*/\1/p')
port_line pa 52:54:00:00:00:0a >/dev/null && port_line pb '02:[0-9a-f:]+' >/dev/null &&
	since | grep -aqE '^switch: [1-9][0-9]* frames, [0-9]+ flooded$'
check $? "net shows both ports with frames in and out, no spoofs" || since | sed 's/^/  | /'

cmd_until 'snapshot pb' '^vm pb: snapshot [0-9]+$|^snapshot: ' 120
since | grep -aqE '^vm pb: snapshot 1$'
check $? "snapshot pb" || since | sed 's/^/  | /'
cmd_until 'destroy pb' 'vm pb: destroyed|^destroy: ' 20
since | grep -aq 'vm pb: destroyed'
check $? "destroy pb"
cmd_until 'restore 1 pb2' 'vm pb2: restored from snapshot|^restore: |^snapshot: ' 120
since | grep -aq 'vm pb2: restored from snapshot 1'
check $? "restore 1 pb2" || since | sed 's/^/  | /'
set_mark
wait_for '\[pb2\] 64 bytes from 10\.0\.0\.1' 60 && wait_for '\[pa\] 64 bytes from 10\.0\.0\.2' 30
check $? "the pings go on both ways after the restore" || since | tail -n 20 | sed 's/^/  | /'
cmd net
port_line pb2 "$pb_mac" >/dev/null
check $? "pb2 has pb's MAC ($pb_mac) on the switch, no spoofs" || since | sed 's/^/  | /'

cmd_until 'restore 1 pb3' 'vm pb3: restored from snapshot|^restore: |^snapshot: ' 60
sleep 1
since | grep -aq 'another VM on the switch has this MAC' && ! since | grep -aq 'vm pb3: restored'
check $? "a second restore beside pb2 is refused: the MAC is taken" || since | sed 's/^/  | /'

cmd_until 'destroy pb2' 'vm pb2: destroyed|^destroy: ' 20
cmd_until 'destroy pa' 'vm pa: destroyed|^destroy: ' 20
cmd net
# The machine's own NIC may be the switch's uplink (QEMU's default e1000,
# an 82540EM, which utsuwa drives): only VM ports must be gone.
since | grep -aq '^port [0-9]*: vm ' && bad "no VM's port is left after both VMs are destroyed" ||
	ok "no VM's port is left after both VMs are destroyed"

driver_end
