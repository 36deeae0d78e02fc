#!/bin/bash
# A VM's lifecycle driven from the monitor through Bochs's COM1, on Intel VT-x
# (docs/lifecycle.md): the checks of tests/guests/lifecycle-test.sh (AMD-V,
# QEMU) with a counting test guest in place of Linux, which boots too slowly
# under Bochs for `make test`. utsuwa runs on 2 emulated CPUs with one VM, cnt
# (tests/guests/count.c, 2 vCPUs, 32 MiB): vCPU 0 prints
# "count: n=N n1=M ns=NS tsc=T back=no|yes bad=B" on each periodic local APIC
# timer interrupt (every 200 ms of guest time), vCPU 1 counts n1 on HC_TIMER.
# Checks:
#   - pause stops the count (no line for 3 s, list says paused); resume
#     continues it at the next number, the guest clocks having stood still
#   - snapshot cnt, destroy it, restore the snapshot as cnt2: both counts go
#     on from where they were, neither clock went backwards nor jumped, the
#     guest's 4 MiB pattern is intact
#   - a damaged snapshot is refused with one line naming a section, while
#     cnt2 runs on
#   - Ctrl-] and console VM: the VM's output raw while it has the console,
#     keys typed reach its UART, Ctrl-] back to the monitor and again to the VM
#   - then, with no VM left (exit=halt keeps the monitor), 100 create/destroy
#     cycles of a 64 MiB VM leave the free pages and the heap's blocks in use
#     exactly where they were after the first cycle
# Prints one PASS/FAIL line per check and "lifecycle-vmx: N passed, N failed".
# About 2 minutes on two cores.
#
# Usage: lifecycle-vmx.sh -k build/utsuwa.elf -g build/guests -o build/bochs
set -u
name=lifecycle-vmx driver_needs="count.bin spin.bin"
. "$(dirname "$0")/../guests/lib/console-driver.sh"
log_dir=$root/build/bochs
driver_args "$@"
start=$SECONDS

period_ms=200
cfg="exit=halt vm=cnt,image=count.bin,mode=long,mem=32M,cpus=2,arg=$period_ms"
driver_start_bochs "$log_dir/lifecycle-vmx" 420 2 "$cfg" "$guest_dir/count.bin,$guest_dir/spin.bin"

# The monitor's prompt is drawn again under each line a VM prints: mon waits
# for a command's own answer (cmd_until). VM lines are matched unanchored: one
# can follow a prompt on the same screen line.
mon() { cmd_until "$@"; }
# The last count line of VM $1 in the log up to the first line matching $2
# (else the whole log), as "n n1 ns tsc back bad".
count_re='count: n=([0-9]+) n1=([0-9]+) ns=([0-9]+) tsc=([0-9]+) back=(no|yes) bad=([0-9]+)'
last_count() {
	tr -d '\r' <"$driver_log" | sed -n "1,/${2:-^\$^}/p" | grep -aoE "\[$1\] $count_re" |
		tail -n 1 | sed -E "s/.*$count_re/\1 \2 \3 \4 \5 \6/"
}
first_count() {
	since | grep -aoE "\[$1\] $count_re" | head -n 1 | sed -E "s/.*$count_re/\1 \2 \3 \4 \5 \6/"
}

wait_for 'VMs? on [0-9]+ CPUs \(vmx\)' 120
check $? "utsuwa boots on VT-x under Bochs with the monitor on COM1" || driver_end
sleep 1
mon '' 'utsuwa> $'

# ---- pause and resume ----
mark=0
wait_for '\[cnt\] count: n=5 ' 60
check $? "cnt counts on the APIC timer and HC_TIMER" || since | tail -n 5 | sed 's/^/  | /'
# A line is shown as the guest writes it, and the monitor says "paused" once
# no vCPU runs: no line may come after that.
mon 'pause cnt' '^vm cnt: paused$'
read -r p_n p_n1 p_ns p_tsc _ <<<"$(last_count cnt '^vm cnt: paused$')"
sleep 3
! tr -d '\r' <"$driver_log" | sed -n '/^vm cnt: paused$/,$p' | grep -aq '\[cnt\] count:'
check $? "pause stops the count (no line in 3 s after n=$p_n)"
mon list '(^|> )cnt +paused +2 +32M '
check $? "list shows cnt paused"
mon 'resume cnt' "\\[cnt\\] count: n=$((p_n + 1)) " 10
check $? "resume continues the count at n=$((p_n + 1))"
read -r r_n r_n1 r_ns r_tsc _ <<<"$(first_count cnt)"
gap_ms=$(((r_ns - p_ns) / 1000000))
gap_tsc_ms=$(((r_tsc - p_tsc) / 20000)) # Bochs: 20 MHz
[ -n "$r_ns" ] && [ "$gap_ms" -ge 0 ] && [ "$gap_ms" -le $((2 * period_ms)) ] &&
	[ "$gap_tsc_ms" -ge 0 ] && [ "$gap_tsc_ms" -le $((2 * period_ms)) ] && [ "$r_n1" -ge "$p_n1" ]
check $? "the guest's clocks stood still while paused (${gap_ms} ms by HC_TIME_NS, \
${gap_tsc_ms} ms by its TSC between two lines $period_ms ms apart, 3 s paused)"

# ---- snapshot, destroy, restore as cnt2 ----
set_mark
wait_for "\\[cnt\\] count: n=$((r_n + 3)) " 10
mon 'snapshot cnt' '^vm cnt: snapshot [0-9]+$' 60
check $? "snapshot cnt (while both vCPUs count)" || since | sed 's/^/  | /'
snap=$(since | sed -n 's/^vm cnt: snapshot \([0-9]*\)$/\1/p')
# The count as the snapshot holds it: the last line before the snapshot was
# taken (cnt was paused for it); cnt goes on counting until destroy.
read -r s_n s_n1 s_ns s_tsc _ <<<"$(last_count cnt "vm cnt: snapshot $snap taken")"
mon 'destroy cnt' '^vm cnt: destroyed'
check $? "destroy cnt"
sleep 2 # the guest clock must not count the time the VM did not exist
mon "restore $snap cnt2" 'vm cnt2: restored from snapshot|^restore: |^snapshot: ' 60
since | grep -aq "vm cnt2: restored from snapshot $snap"
check $? "restore $snap cnt2" || since | sed 's/^/  | /'
# cnt2 runs before the monitor says it was restored: its first line may
# come before that message.
mark=0
wait_for '\[cnt2\] count: n=' 15
read -r c_n c_n1 c_ns c_tsc c_back c_bad <<<"$(first_count cnt2)"
set_mark
jump_ms=$(((${c_ns:-0} - s_ns) / 1000000))
[ -n "$c_n" ] && [ "$c_n" = $((s_n + 1)) ] && [ "$c_n1" -ge "$s_n1" ] &&
	[ "$c_ns" -ge "$s_ns" ] && [ "$c_tsc" -ge "$s_tsc" ] && [ "$jump_ms" -le $((3 * period_ms)) ] &&
	[ "$c_back" = no ] && [ "$c_bad" = 0 ]
check $? "cnt2 continues the count where the snapshot holds it (n=$c_n n1=$c_n1 after \
n=$s_n n1=$s_n1; clock +$jump_ms ms; back=$c_back bad=$c_bad)"
wait_for "\\[cnt2\\] count: n=$((c_n + 5)) n1=[0-9]+ .* back=no bad=0" 10
check $? "cnt2 counts on: n=$((c_n + 5)), its memory and clocks as they were"

# ---- a damaged snapshot ----
mon "damage $snap 5000" "^snapshot $snap: byte 5000 flipped"
mon "restore $snap bad" "^snapshot: |^restore: |vm bad" 60
sleep 0.5
out=$(answer_to "restore $snap bad" cnt2)
[ "$(wc -l <<<"$out")" = 1 ] && grep -aqE "^snapshot: section [0-9]+ '[^']+': " <<<"$out" &&
	! since | grep -aq 'vm bad'
check $? "a damaged snapshot is refused in one line naming the section" ||
	sed 's/^/  | /' <<<"$out"
set_mark
wait_for '\[cnt2\] count: n=' 5
check $? "cnt2 runs on beside the refused restore"

# ---- the console: Ctrl-] and console VM ----
mon 'console cnt2' 'utsuwa: console: vm cnt2 \(Ctrl-\] for the monitor\)'
# Only what came after the attach counts: a line the guest finished while
# the monitor read the command is still the monitor's, prefixed, and may
# be printed just after the attach line (seen under load); once the
# output is raw, no prefixed line may follow.
wait_for '^count: n=[0-9]+ ' 15 &&
	! since | sed -n '/utsuwa: console: vm cnt2/,$p' | sed -n '/^count: n=/,$p' |
		grep -aq '\[cnt2\] count:'
check $? "console cnt2: its output raw (no [cnt2] prefix)"
set_mark
type_keys 'u'
wait_for '^count: key=75$' 5
check $? "a key typed reaches cnt2's UART"
set_mark
type_keys "$esc"
wait_for 'utsuwa: console: the monitor .*back to vm cnt2' 5 && wait_for '\[cnt2\] count: n=' 5
check $? "Ctrl-] switches to the monitor (cnt2's lines prefixed again)"
set_mark
type_keys "$esc"
wait_for 'utsuwa: console: vm cnt2 \(Ctrl-\] for the monitor\)' 5 &&
	wait_for '^count: n=[0-9]+ ' 5
check $? "Ctrl-] in the monitor goes back to cnt2"
set_mark
type_keys "$esc"
wait_for 'utsuwa: console: the monitor' 5
check $? "and Ctrl-] back to the monitor again"
! grep -aq 'key=1d' "$driver_log"
check $? "the escape key never reaches the guest"
last_count cnt2 | grep -q ' no 0$'
check $? "cnt2's clocks never went backwards, its memory intact"

# ---- 100 create/destroy cycles of a 64 MiB VM, with no VM left ----
mon 'destroy cnt2' '^vm cnt2: destroyed'
check $? "destroy cnt2"
mem_now() { mon mem '^memory: ' >/dev/null; since | sed -n 's/^memory: \(.*\)$/\1/p' | tail -n 1; }
# Commands are typed ahead (the monitor queues 1 KiB of what is typed, each
# cycle is 62 bytes), 9 cycles at a time, and their output is looked at when
# the last destroy has answered: one wait per 9 cycles, not per command.
cycles() {
	local keys='' i out end
	for i in $(seq "$1"); do
		keys+=$'create vm=t,image=spin.bin,mode=long,mem=64M,cpus=1\rdestroy t\r'
	done
	set_mark
	type_keys "$keys"
	end=$((SECONDS + 60))
	while out=$(since) && [ "$(grep -acE '^vm t: destroyed$|^(destroy|monitor|create|config): ' \
		<<<"$out")" -lt "$1" ] && [ $SECONDS -lt $end ]; do
		sleep "$driver_poll"
	done
	[ "$(grep -ac 'vm t: created, ' <<<"$out")" = "$1" ] &&
		[ "$(grep -ac '^vm t: destroyed$' <<<"$out")" = "$1" ] &&
		! grep -aqE '^(destroy|monitor|create|config): ' <<<"$out"
}
driver_poll=0.05
before=$(mem_now)
cycles 1
first=$(mem_now)
good=1
t0=$SECONDS
for i in $(seq 11); do
	cycles 9 || { good=0; echo "  | cycles $((9 * i - 7))-$((9 * i + 1)) failed:"; \
		since | grep -av '^utsuwa> [cd]' | tail -n 5 | sed 's/^/  | /'; break; }
done
after=$(mem_now)
echo "  | memory before: $before; after 1 cycle: $first; after 100: $after ($((SECONDS - t0)) s)"
[ "$good" = 1 ] && [ -n "$first" ] && [ "$first" = "$after" ]
check $? "100 create/destroy cycles of a 64 MiB VM leave free memory where it was ($after)"

echo "$name: $((SECONDS - start)) s"
driver_end
