#!/bin/bash
# A snapshot of a VM of 4 GiB restores (issue 15: RAM below the PCI hole and
# above 4 GiB, include/hv/gmem_layout.h). Run by hand, not by make test: it
# needs a 7 GiB QEMU and about two minutes. utsuwa starts one Linux VM, lin
# (4 GiB, 1 vCPU, its counting loop utsuwa.loop, docs/lifecycle.md); Linux
# puts its struct pages and most allocations in the GiB above 4 GiB (the top
# of memory and ZONE_NORMAL), so a restore that lost that RAM would crash it.
# Checks: snapshot lin, destroy it, restore it as lin2, and lin2's loop goes
# on from where lin's was, with nothing gone backwards and its disk intact.
#
# Usage: snapshot-4g-test.sh -k build/utsuwa.elf -g build/guests -o build/guests/logs
set -u
name=snapshot-4g driver_needs="vmlinuz initrd.gz"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"
DRIVER_QEMU_ARGS="-m 7G" # the last -m counts: 4 GiB of VM, its snapshot, the hypervisor
cfg='exit=halt'
cfg+=" vm=lin,image=vmlinuz,initrd=initrd.gz,mem=4096M,cpus=1,disk=module:initrd.gz"
cfg+=',cmdline="console=ttyS0 quiet utsuwa.loop"'
driver_start "$log_dir/snapshot-4g.log" 400 1 "$cfg" "$guest_dir/vmlinuz,$guest_dir/initrd.gz"
wait_for 'VMs? on [0-9]+ CPUs' 60
sleep 1
cmd ''
set_mark
wait_for '\[lin\] utsuwa-loop: n=2 ' 150
check $? "lin (4 GiB) boots and its loop counts"
cmd_until 'snapshot lin' '^vm lin: snapshot [0-9]+$|^snapshot: ' 120
since | grep -aqE '^vm lin: snapshot 1$'
check $? "snapshot lin" || since | sed 's/^/  | /'
at=$(tr -d '\r' <"$driver_log" | sed -n '1,/vm lin: snapshot 1 taken/p' |
	sed -n 's/.*\[lin\] utsuwa-loop: n=\([0-9]*\) .*/\1/p' | tail -n 1)
cmd_until 'destroy lin' 'vm lin: destroyed|^destroy: ' 20
since | grep -aq 'vm lin: destroyed'
check $? "destroy lin"
cmd_until 'restore 1 lin2' 'vm lin2: restored from snapshot|^restore: |^snapshot: ' 120
since | grep -aq 'vm lin2: restored from snapshot 1'
check $? "restore 1 lin2" || since | sed 's/^/  | /'
set_mark
wait_for '\[lin2\] utsuwa-loop: n=[0-9]+ lines=[0-9]+ .*' 30
line=$(since | grep -a '\[lin2\] utsuwa-loop' | head -n 1)
n=$(sed -n 's/.*n=\([0-9]*\) lines=\([0-9]*\) .*/\1/p' <<<"$line")
l=$(sed -n 's/.*n=\([0-9]*\) lines=\([0-9]*\) .*/\2/p' <<<"$line")
[ -n "$n" ] && [ -n "$at" ] && [ "$n" -ge "$at" ] && [ "$n" -le $((at + 2)) ] && [ "$n" = "$l" ] &&
	grep -q 'backwards=no disk=ok' <<<"$line"
check $? "lin2 continues lin's loop (n=$n after ${at:-?}, file lines=$l)" || echo "  | $line"
set_mark
wait_for '\[lin2\] utsuwa-loop: n=[0-9]+ ' 30
check $? "lin2 runs on" || since | tail -n 20 | sed 's/^/  | /'
driver_end
