#!/bin/bash
# Runs apic-periodic-livelock.S under QEMU TCG for a few seconds and reports
# what it saw: dots from the guest, QEMU's threads, whether the monitor answers.
#   tests/qemu-repro/run-livelock.sh [SECONDS]   (docs/interrupts.md, "The tick")
set -u
here=$(cd "$(dirname "$0")" && pwd)
t=${1:-10}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
gcc -m32 -nostdlib -static -Wl,-Ttext=0x100000 -Wl,--build-id=none \
	-o "$d/k.elf" "$here/apic-periodic-livelock.S" || exit 2
qemu-system-x86_64 -accel tcg -smp "${SMP:-2}" -display none -serial "file:$d/serial" \
	-monitor "unix:$d/mon,server,nowait" -kernel "$d/k.elf" </dev/null >"$d/out" 2>&1 &
pid=$!
sleep "$t"
echo "serial after ${t}s: $(wc -c <"$d/serial") bytes: $(head -c 60 "$d/serial")"
s1=$(wc -c <"$d/serial"); sleep 2; s2=$(wc -c <"$d/serial")
echo "serial grew by $((s2 - s1)) bytes in 2 s"
top -b -n 1 -H -p "$pid" | awk 'NR > 7 { print "thread", $1, "state", $8, "cpu", $9 "%" }'
if python3 - "$d/mon" <<'PY'; then echo "monitor: answers"; else echo "monitor: no answer in 5 s"; fi
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
try:
    s.recv(4096)
except socket.timeout:
    sys.exit(1)
PY
kill -9 "$pid"; wait "$pid" 2>/dev/null
