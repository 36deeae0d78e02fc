#!/bin/bash
# Snapshot and restore of a 256 MiB Linux VM, in instructions: utsuwa under
# QEMU -icount shift=0,sleep=off on one CPU, where the TSC advances by one per
# instruction executed (DESIGN.md, "Deterministic cost"), so the TSC ticks the
# hypervisor logs around `snapshot` and `restore` are the instructions they
# took. The VM (1 vCPU, 256 MiB) runs Linux's utsuwa.loop; at its third round
# the monitor takes a snapshot, destroys the VM and restores it.
#   bench/snapshot.sh build/utsuwa.elf build/guests
set -u
name=snapshot-bench
DRIVER_QEMU_ARGS='-icount shift=0,sleep=off'
. "$(dirname "$0")/../tests/guests/lib/console-driver.sh"
kernel=${1:-$kernel} guest_dir=${2:-$guest_dir}
mkdir -p "$root/build/bench"
cfg='exit=halt vm=lin,image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=1,cmdline="console=ttyS0 quiet utsuwa.loop"'
driver_start "$root/build/bench/snapshot.log" 900 1 "$cfg" "$guest_dir/vmlinuz,$guest_dir/initrd.gz"
wait_for 'VMs? on [0-9]+ CPUs' 120 && sleep 1 && cmd ''
set_mark
wait_for '\[lin\] utsuwa-loop: n=3 ' 600
check $? "the VM's loop runs"
cmd 'snapshot lin' 300
snap=$(since | sed -n 's/^utsuwa: vm lin: snapshot 1 taken, \([0-9]*\) KiB, in \([0-9]*\) TSC ticks$/\1 \2/p')
[ -n "$snap" ]
check $? "snapshot"
cmd 'destroy lin' 60
cmd 'restore 1 lin2' 300
rest=$(since | sed -n 's/^utsuwa: vm lin2: restored from snapshot 1 (of vm lin), in \([0-9]*\) TSC ticks$/\1/p')
[ -n "$rest" ]
check $? "restore"
set_mark
wait_for '\[lin2\] utsuwa-loop: n=[0-9]+ ' 300
check $? "the restored VM's loop goes on"
echo "snapshot-bench: snapshot of a 256 MiB Linux VM: ${snap#* } instructions, ${snap% *} KiB"
echo "snapshot-bench: restore of it: $rest instructions"
driver_end
