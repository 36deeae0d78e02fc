#!/bin/sh
# The exit benchmark under KVM (bench/README.md, "Side by side with KVM"):
# boots the L1 Linux of bench/peer/build-l1.sh in QEMU TCG with AMD-V emulated
# (scripts/qemu-svm-cpu.sh), one CPU, -icount shift=0,sleep=off, as bench/run.sh
# boots utsuwa; its /init runs the bench guest under KVM with kvm-runner, then
# boots the Linux guest under KVM with QEMU (bench/peer/init).
# Prints the guest's lines,   exit <kind> kvm min=<N> median=<N>
# and   timer latency kvm min=<N> median=<N> max=<N>   (a second kvm-runner run, with -i)
# and the L1's own ("peer-l1: ...", among them
# "peer-l1: linux-boot kvm tsc=<N> uptime=<s> idle=<s> qemu_run=<N>").
# The whole serial log: build/peer/l1.log.
#
#   bench/peer/run.sh [OUTDIR]     (default build/peer: vmlinuz, initramfs.cpio)
# Environment: QEMU (default qemu-system-x86_64), PEER_TIMEOUT (s, default 900),
# PEER_APPEND (more kernel parameters, e.g. mitigations=off),
# PEER_RUNNER_OPTS (kvm-runner options), PEER_LINUX=0 (no Linux boot),
# PEER_L2_APPEND (more kernel parameters for the Linux guest under KVM; the
# native and utsuwa boots of make bench-peer do not take them).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build/peer}
qemu=${QEMU:-qemu-system-x86_64}
. "$root/scripts/qemu-svm-cpu.sh"
log=$out/l1.log
for f in "$out/vmlinuz" "$out/initramfs.cpio"; do
	[ -f "$f" ] || { echo "bench-peer: missing $f (bench/peer/build-l1.sh first)" >&2; exit 2; }
done
rm -f "$log"
# Never -accel kvm: KVM runs inside this emulated machine, not on the build machine.
timeout -k 10 "${PEER_TIMEOUT:-900}" "$qemu" -accel tcg -cpu "$QEMU_SVM_CPU" -m 1G -smp 1 \
	-icount shift=0,sleep=off -display none -monitor none -serial "file:$log" -no-reboot \
	-kernel "$out/vmlinuz" -initrd "$out/initramfs.cpio" \
	-append "console=ttyS0 quiet panic=-1 ${PEER_APPEND:-} peer.runner=\"${PEER_RUNNER_OPTS:-}\" peer.linux=${PEER_LINUX:-1} peer.l2append=\"${PEER_L2_APPEND:-}\"" \
	</dev/null 2>"$out/l1.qemu-stderr"
rc=$?
tr -d '\r' <"$log" 2>/dev/null | grep -E '^(exit [a-z]+ kvm |timer latency kvm |bench: kvm|peer-l1: )'
st=$(tr -d '\r' <"$log" 2>/dev/null | sed -n 's/^peer-l1: kvm-runner exit status \([0-9]*\).*/\1/p')
lst=0
if [ "${PEER_LINUX:-1}" != 0 ]; then
	lst=$(tr -d '\r' <"$log" 2>/dev/null | sed -n 's/^peer-l1: linux-boot status \([0-9]*\).*/\1/p')
fi
if [ "$rc" -ne 0 ] || [ "$st" != 0 ] || [ "$lst" != 0 ]; then
	echo "bench-peer: the L1 run failed (QEMU exit status $rc, kvm-runner ${st:-did not finish}," \
		"Linux boot ${lst:-did not finish}); the log, $log:" >&2
	tr -d '\r' <"$log" 2>/dev/null | tail -n 60 >&2
	exit 1
fi
