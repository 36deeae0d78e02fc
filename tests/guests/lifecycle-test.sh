#!/bin/bash
# A VM's lifecycle driven from the monitor through QEMU's serial line
# (docs/lifecycle.md), on AMD-V under QEMU; with -b bochs on VT-x under Bochs
# (make test-vmx; about 10 minutes: lin has 1 vCPU there, the timeouts are 4
# times longer, and the result line is "lifecycle-linux-vmx: ...").
# utsuwa starts one Linux VM, lin
# (2 vCPUs, 256 MiB, a RAM disk made from its initrd module), whose init
# runs a loop (utsuwa.loop): each second it appends a line to a file in its
# initramfs, writes sector N of its disk and reads sectors 1 and N back, and
# prints "utsuwa-loop: n=N lines=L uptime=U date=D backwards=no|yes
# disk=ok|bad". Checks:
#   - pause stops the counting loop (no line for 3 s, list says paused) and
#     resume continues it from the next number
#   - snapshot lin, destroy it, restore the snapshot as lin2: the loop goes
#     on from where it was (n and the file's line count continue, nothing
#     went backwards, the RAM disk holds what was written before the
#     snapshot), and after its last round lin2 prints a clean dmesg and
#     powers off
#   - a damaged snapshot is refused with one line naming a section, while
#     lin2 runs on
#   - then, with no VM left (exit=halt keeps the monitor), 100 create/destroy
#     cycles of a 64 MiB VM leave the free pages and the heap's blocks in use
#     exactly where they were after the first cycle
#   - a VM created with on_crash=pause that triple-faults is reported and
#     kept paused (list), and can be destroyed
# Prints one PASS/FAIL line per check and "lifecycle: N passed, N failed".
#
# Usage: lifecycle-test.sh -k build/utsuwa.elf -g build/guests -o build/guests/logs [-b bochs]
set -u
name=lifecycle driver_needs="vmlinuz initrd.gz spin.bin triplefault.bin"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"

# Under Bochs Linux boots on one vCPU in minutes (on 2 or 4, 5-15 minutes).
cpus=2 slow=1
[ "$driver_backend" = bochs ] && name=lifecycle-linux-vmx cpus=1 slow=4
cfg='exit=halt' # the monitor stays when every VM has ended
cfg+=" vm=lin,image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=$cpus,disk=module:initrd.gz"
cfg+=',cmdline="console=ttyS0 quiet utsuwa.loop"'
mods="$guest_dir/vmlinuz,$guest_dir/initrd.gz,$guest_dir/spin.bin,$guest_dir/triplefault.bin"
case $driver_backend in
qemu) driver_start "$log_dir/lifecycle.log" 420 2 "$cfg" "$mods" ;;
bochs) driver_start_bochs "$log_dir/lifecycle-linux-vmx" 1200 2 "$cfg" "$mods" ;;
*) echo "$name: no back end '$driver_backend' (qemu or bochs)"; exit 2 ;;
esac

# The monitor has the console (nothing attached): Enter gives its prompt.
wait_for 'VMs? on [0-9]+ CPUs' $((60 * slow))
sleep 1
cmd ''

# ---- pause and resume a counting guest ----
set_mark
wait_for '\[lin\] utsuwa-loop: n=2 ' $((150 * slow))
check $? "lin's loop counts"
cmd 'pause lin'
set_mark
sleep 3
last=$(tr -d '\r' <"$driver_log" | sed -n 's/^\[lin\] utsuwa-loop: n=\([0-9]*\) .*/\1/p' | tail -n 1)
! since | grep -aq 'utsuwa-loop'
check $? "pause stops the loop (no line in 3 s after n=$last)"
cmd list
since | grep -aqE "^lin +paused +$cpus +256M "
check $? "list shows lin paused"
set_mark
type_keys $'resume lin\r'
wait_for "\\[lin\\] utsuwa-loop: n=$((last + 1)) lines=$((last + 1)) " $((20 * slow))
check $? "resume continues the loop at n=$((last + 1))"

# ---- snapshot, destroy, restore as lin2 ----
set_mark
wait_for '\[lin\] utsuwa-loop: n=[0-9]+ ' $((10 * slow))
cmd_until 'snapshot lin' '^vm lin: snapshot [0-9]+$|^snapshot: ' $((120 * slow))
since | grep -aqE '^vm lin: snapshot 1$'
check $? "snapshot lin (while its loop writes to its file)" || since | sed 's/^/  | /'
# Where the snapshot holds the loop: its last line before the snapshot was
# taken (lin was paused for it); lin goes on until destroy.
at=$(tr -d '\r' <"$driver_log" | sed -n '1,/vm lin: snapshot 1 taken/p' |
	sed -n 's/.*\[lin\] utsuwa-loop: n=\([0-9]*\) .*/\1/p' | tail -n 1)
cmd_until 'destroy lin' 'vm lin: destroyed|^destroy: ' $((20 * slow))
since | grep -aq 'vm lin: destroyed'
check $? "destroy lin"
cmd_until 'restore 1 lin2' 'vm lin2: restored from snapshot|^restore: |^snapshot: ' $((120 * slow))
since | grep -aq 'vm lin2: restored from snapshot 1'
check $? "restore 1 lin2" || since | sed 's/^/  | /'
set_mark
wait_for '\[lin2\] utsuwa-loop: n=[0-9]+ lines=[0-9]+ .*' $((30 * slow))
line=$(since | grep -a '\[lin2\] utsuwa-loop' | head -n 1)
n=$(sed -n 's/.*n=\([0-9]*\) lines=\([0-9]*\) .*/\1/p' <<<"$line")
l=$(sed -n 's/.*n=\([0-9]*\) lines=\([0-9]*\) .*/\2/p' <<<"$line")
[ -n "$n" ] && [ "$n" -ge "$at" ] && [ "$n" -le $((at + 2)) ] && [ "$n" = "$l" ] &&
	grep -q 'backwards=no' <<<"$line"
check $? "lin2 continues lin's loop (n=$n after $at, file lines=$l, not backwards)" ||
	echo "  | $line"
# Its RAM disk (disk=module:) came back with the snapshot: the sectors the
# loop wrote before it read back (O_DIRECT, past the page cache).
grep -q ' disk=ok$' <<<"$line"
check $? "lin2's RAM disk holds what lin wrote before the snapshot" || echo "  | $line"

# ---- a damaged snapshot ----
cmd_until 'damage 1 5000' '^snapshot 1: byte 5000 flipped|^damage: '
cmd_until 'restore 1 bad' "^snapshot: |^restore: |vm bad" $((20 * slow))
sleep 0.5
out=$(answer_to 'restore 1 bad' lin2)
[ "$(wc -l <<<"$out")" = 1 ] && grep -aqE "^snapshot: section [0-9]+ '[^']+': " <<<"$out" &&
	! since | grep -aq 'vm bad'
check $? "a damaged snapshot is refused in one line naming the section" || echo "  | $out"
set_mark
wait_for '\[lin2\] utsuwa-loop: n=' $((15 * slow))
check $? "lin2 runs on beside the refused restore"

# ---- lin2's end: a clean dmesg, poweroff ----
set_mark
wait_for '\[lin2\] utsuwa-check: done' $((120 * slow))
since | grep -aq 'backwards=yes' && bad "no loop line of lin2 went backwards" ||
	ok "no loop line of lin2 went backwards"
since | grep -aqE '\[lin2\] utsuwa-check: dmesg_hits=0$'
check $? "lin2's dmesg is clean after the restore" ||
	since | grep -a 'dmesg' | sed 's/^/  | /'
wait_for 'vm lin2: exited with code 0' $((60 * slow)) && wait_for 'all VMs have ended' 10
check $? "lin2 powers off; the hypervisor stays up with its monitor"
cmd ''

# ---- 100 create/destroy cycles of a 64 MiB VM ----
mem_now() { cmd mem; since | sed -n 's/^memory: \(.*\)$/\1/p' | tail -n 1; }
cycle() {
	cmd 'create vm=t,image=spin.bin,mode=long,mem=64M,cpus=1' &&
		since | grep -aq 'vm t: created' && cmd 'destroy t' && since | grep -aq 'vm t: destroyed'
}
before=$(mem_now)
cycle
first=$(mem_now)
good=1
for i in $(seq 2 100); do
	cycle || { good=0; echo "  | cycle $i failed:"; since | tail -n 5 | sed 's/^/  | /'; break; }
done
after=$(mem_now)
echo "  | memory before: $before; after 1 cycle: $first; after 100: $after"
[ "$good" = 1 ] && [ -n "$first" ] && [ "$first" = "$after" ]
check $? "100 create/destroy cycles of a 64 MiB VM leave free memory where it was ($after)"

# ---- on_crash=pause: a crashed VM is kept paused for the monitor ----
cmd_until 'create vm=cp,image=triplefault.bin,mode=long,mem=16M,cpus=1,on_crash=pause' \
	'vm cp: paused \(on_crash=pause\)|^create: ' $((20 * slow))
since | grep -aq 'vm cp: paused (on_crash=pause)'
check $? "on_crash=pause: the crashed VM is reported and paused" || since | tail -n 5 | sed 's/^/  | /'
cmd_until list '^cp +[a-z]+ '
since | grep -aqE '^cp +paused +1 +16M '
check $? "list shows cp paused after its crash"
cmd_until 'destroy cp' 'vm cp: destroyed|^destroy: ' $((20 * slow))
since | grep -aq 'vm cp: destroyed'
check $? "destroy the crash-paused VM"


driver_end
