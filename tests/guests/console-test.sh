#!/bin/bash
# The console and the monitor driven through QEMU's serial line, as a user at
# a terminal would (docs/console.md). utsuwa runs three VMs: lin (Linux,
# 2 vCPUs, 256M, attached at boot by console=lin), aux (Linux, 1 vCPU, 160M)
# and done (a small guest that exits at once). The script types into QEMU's
# stdin and reads its stdout, and checks:
#   - lin's prompt, and the echo of a command, show before Enter, raw
#   - Ctrl-] switches to the monitor; help lists every command
#   - list shows the three VMs' names, states, vCPU counts and memory
#   - info shows exits (by reason) and interrupts injected
#   - a bad command gets one line
#   - console aux attaches the other Linux VM (its prompt and output raw)
#   - a 4 KiB paste into lin's shell arrives whole (md5sum in the guest)
#   - the held output of the other VMs is shown prefixed back in the monitor
#   - poweroff of the attached VM gives the line back to the monitor
#   - stop (the ACPI power button) shuts the other Linux VM down cleanly
# Prints one PASS/FAIL line per check and "console: N passed, N failed".
#
# Usage: console-test.sh -k build/utsuwa.elf -g build/guests -o build/guests/logs
set -u
name=console driver_needs="vmlinuz initrd.gz basic-long.bin"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"

cfg='exit=qemu console=lin'
cfg+=' vm=lin,image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=2,cmdline="console=ttyS0 quiet"'
cfg+=' vm=aux,image=vmlinuz,initrd=initrd.gz,mem=160M,cpus=1,cmdline="console=ttyS0 quiet"'
cfg+=' vm=done,image=basic-long.bin,mode=long,mem=16M,cpus=1,expect=0'
# The whole run is bounded; each step below has its own, shorter, timeout.
driver_start "$log_dir/console.log" 240 2 "$cfg" \
	"$guest_dir/vmlinuz,$guest_dir/initrd.gz,$guest_dir/basic-long.bin"
prompt='utsuwa-guest:/# '

# ---- lin has the console from boot: its prompt, raw ----
wait_for "$prompt" 150
check $? "lin's shell prompt shows (attached at boot)"
if since | grep -aq "\[lin\] "; then bad "lin's output is raw (no [lin] prefix)"; else ok "lin's output is raw (no [lin] prefix)"; fi
sleep 2 # aux boots meanwhile; its output is held
set_mark
type_keys 'echo con'
wait_for "echo con" 10
check $? "the echo of keys shows before Enter"
type_keys $'sole-$((6*7))\r'
wait_for $'^console-42$' 10
check $? "the command runs on Enter"

# ---- Ctrl-] the monitor ----
set_mark
type_keys "$esc"
wait_for 'utsuwa: console: the monitor.*back to vm lin' 10
check $? "Ctrl-] switches to the monitor"
wait_for 'utsuwa> $' 5

cmd help
out=$(since)
missing=
for c in help list 'info VM' 'console VM' 'pause VM' 'resume VM' 'reset VM' 'stop VM' \
	'destroy VM' 'create CONFIG' 'snapshot VM' 'restore SNAPSHOT NAME'; do
	grep -aq "^  $c " <<<"$out" || missing+=" '$c'"
done
[ -z "$missing" ]
check $? "help lists every command${missing:+ (missing:$missing)}"

# aux must have booted to its shell before list: its prompt is held while
# lin had the line and shown, prefixed, now that the monitor has it.
set_mark
for _ in $(seq 60); do
	grep -aq "\[aux\] utsuwa-guest: busybox shell" "$driver_log" && break
	sleep 1
done
grep -aq "\[aux\] utsuwa-guest: busybox shell" "$driver_log"
check $? "the other VM's held output is shown prefixed in the monitor"

cmd list
out=$(since)
grep -aqE '^NAME +STATE +VCPUS +MEMORY +CPU-TIME +EXITS$' <<<"$out" &&
	grep -aqE '^lin +running +2 +256M +[0-9]+\.[0-9]{3}s +[1-9][0-9]*$' <<<"$out" &&
	grep -aqE '^aux +running +1 +160M +[0-9]+\.[0-9]{3}s +[1-9][0-9]*$' <<<"$out" &&
	grep -aqE '^done +ended +1 +16M +[0-9]+\.[0-9]{3}s +[1-9][0-9]*$' <<<"$out"
check $? "list shows the VMs' names, states, vCPUs and memory" ||
	since | sed 's/^/  | /'

cmd 'info lin'
out=$(since)
grep -aqE '^vm lin: running, 2 vCPUs, 256M, cpu time [0-9]+\.[0-9]{3}s$' <<<"$out" &&
	grep -aqE '^exits: [1-9][0-9]*$' <<<"$out" &&
	grep -aqE '^  io +[1-9][0-9]*$' <<<"$out" &&
	grep -aqE '^interrupts injected: [1-9][0-9]*$' <<<"$out" &&
	grep -aqE '^dirty pages: ' <<<"$out"
check $? "info shows exits by reason and interrupts injected" ||
	since | sed 's/^/  | /'

# Between the echoed command (the prompt came before the mark) and the next
# prompt: exactly one line.
one_line() {
	cmd "$1"
	[ "$(since | sed '1d;$d')" = "$2" ] && [ "$(since | head -n 1)" = "$1" ]
	check $? "$3" ||
		since | sed 's/^/  | /'
}
one_line 'frobnicate now' "monitor: unknown command 'frobnicate' (help lists them)" \
	"a bad command gets one line"
one_line 'pause' "usage: pause VM" "a missing argument gets one line"
one_line 'info nosuch' "monitor: no vm 'nosuch' (list shows them)" "a bad VM name gets one line"

# ---- console aux: the other Linux VM ----
set_mark
type_keys $'console aux\r'
wait_for 'utsuwa: console: vm aux' 10 && wait_for "$prompt" 10
check $? "console aux attaches it (its prompt shown again)"
set_mark
type_keys $'echo aux-$((1+1))\r'
wait_for '^aux-2$' 15 && ! since | grep -aq '\[aux\]'
check $? "aux's output is raw while attached"

set_mark
type_keys "$esc"
wait_for 'back to vm aux' 10 && wait_for 'utsuwa> $' 5
check $? "Ctrl-] from aux to the monitor"
set_mark
type_keys "$esc"
wait_for 'utsuwa: console: vm aux' 10 && wait_for "$prompt" 5
check $? "Ctrl-] from the monitor back to aux"
set_mark
type_keys "$esc"
wait_for 'utsuwa> $' 10
cmd 'console lin'
type_keys $'\r'
wait_for "$prompt" 10
check $? "console lin attaches lin again"

# ---- a 4 KiB paste into lin's shell ----
# 64 lines of 63 characters and a line end: 4096 bytes; the guest's md5sum
# of exactly 4096 bytes read must be ours.
base64 -w 63 <(head -c 3024 /dev/urandom) | head -c 4096 >"$work/paste"
[ "$(stat -c %s "$work/paste")" = 4096 ] || { bad "paste: could not make 4096 bytes"; }
want=$(md5sum <"$work/paste" | cut -d' ' -f1)
set_mark
type_keys $'echo paste-now; head -c 4096 | md5sum\r'
# The shell has run the line (the terminal is back in line mode, for head).
wait_for '^paste-now$' 10
sleep 1
set_mark
paste_start=$SECONDS
cat "$work/paste" >&3
wait_for "^$want  -$" 120
check $? "a 4 KiB paste arrives whole (md5 $want, $((SECONDS - paste_start)) s)" ||
	since | tail -n 5 | sed 's/^/  | /'

# ---- the attached VM ends: the monitor has the line ----
set_mark
type_keys $'poweroff\r'
wait_for 'utsuwa: vm lin: ' 60 && wait_for 'utsuwa: console: the monitor' 10
check $? "poweroff of the attached VM gives the line to the monitor"

# ---- stop: the ACPI power button; aux's acpid powers it off ----
set_mark
cmd 'stop aux'
wait_for 'utsuwa: vm aux: powered off \(ACPI S5\)' 60
check $? "stop aux: its power button shuts it down cleanly (ACPI S5)" || since | tail -n 5 | sed 's/^/  | /'

driver_end
