#!/bin/sh
# make bench-passthru (bench/README.md, "I/O: a passed-through NIC"; issue 13,
# item 5): network round trips and a TCP stream between two Linux guests
# whose NICs are passed through (pci=, docs/passthrough.md), against the same
# two guests on utsuwa's switch with its virtio-net (make bench-io's set-up)
# and against the same kernel on the bare emulated machine, counted in
# instructions under QEMU TCG with -cpu qemu64,+svm,+npt
# (scripts/qemu-svm-cpu.sh), one CPU and -icount shift=0,sleep=off, where a
# TSC tick is one instruction of the whole emulated machine. The guest program
# is io-bench (tools/io-bench, in the Linux guest's initramfs), with the
# client's and server's roles of make bench-io (tools/io-bench/run.sh).
#
# Every run is QEMU's q35 with -device amd-iommu first (as
# tests/guests/passthru-linux-test.sh). For each NIC model (e1000e;
# virtio: virtio-net-pci,disable-legacy=on,iommu_platform=on, so that its DMA
# goes through the IOMMU) the machine has two of them, at 00:06.0 and 00:07.0,
# their netdevs joined by a QEMU hub (hubid 0), and:
#
# - passthrough: utsuwa, 2 GiB, VMs ioa (the client, pci=00:06.0) and iob
#   (the server, pci=00:07.0), one vCPU and 256 MiB each, no net and no disk
#   (the client says "no /dev/vda" and skips the disk figures);
# - native: the same vmlinuz and initrd.gz booted by QEMU itself (512 MiB)
#   with amd_iommu=off (utsuwa's VMs see no IOMMU either: their DMA is
#   translated by the machine's, which costs no guest instruction); role
#   native: the server in a network namespace of its own holding eth1 (io-bench
#   netns-serve), the client on eth0, so the frames cross both NICs and the hub.
#
# virtio-net: once per run, the same two VMs with utsuwa's paravirtual NIC on
# its switch (net), on the same q35 machine with the IOMMU and no NIC (-nic
# none); it does not depend on the NIC model, so each model's lines show the
# one figure.
#
# Each guest turns its NICs' interrupt moderation off first (io-bench
# no-coalesce). Under sleep=off a CPU that halts waiting for a device's timer
# (QEMU 7.2's e1000e keeps 128 us between two interrupts of a vector) or for
# QEMU's I/O thread (virtio-net-pci sends from a bottom half) counts the wait
# as ticks up to the next timer: such waits are in the medians. Prints, per
# model,
#   io passthrough-ping nic=<M> passthrough=<N> virtio-net=<N> native=<N>
#   io passthrough-ping-p10 nic=<M> passthrough=<N> virtio-net=<N> native=<N>
#   io passthrough-stream nic=<M> passthrough=<N> virtio-net=<N> native=<N>
# with N instructions per UDP round trip, the median (ping) and the 10th
# percentile (ping-p10: a round trip that waited for nothing), and per MiB of
# the TCP stream (stream), as io-bench prints them; before them, per run, the
# client kernel's MSI/MSI-X interrupts during the round trips (16 untimed
# first) and the stream (1 MiB untimed first), by name. Exits non-zero with
# the log's tail when a run fails.
#
#   bench/passthru.sh [KERNEL [GUEST_DIR]]
# KERNEL build/utsuwa.elf, GUEST_DIR build/guests. Environment: QEMU;
# IO_ARGS (the client's counts as make bench-io's: reads,seq MiB,round
# trips,stream MiB; only the last two are used here, no disk; default
# 1000,64,200,16); PT_NICS (default "e1000e virtio"); PT_TIMEOUT (s, each
# run, default 600; a run takes 12 to 60 s here, about 3 minutes in all).
# Logs: build/bench-passthru/<run>.log (serial) and <run>.qemu (QEMU's own
# output), runs virtio-net, passthrough-<M> and native-<M>.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-$root/build/utsuwa.elf}
guests=${2:-$root/build/guests}
qemu=${QEMU:-qemu-system-x86_64}
args=${IO_ARGS:-1000,64,200,16}
nics=${PT_NICS:-e1000e virtio}
. "$root/scripts/qemu-svm-cpu.sh"
out=$root/build/bench-passthru
mkdir -p "$out"
for f in "$kernel" "$guests/vmlinuz" "$guests/initrd.gz"; do
	[ -f "$f" ] || { echo "bench-passthru: missing $f (make, make linux-guest)" >&2; exit 2; }
done
case $args in *[!0-9,]*) echo "bench-passthru: bad IO_ARGS '$args'" >&2; exit 2 ;; esac
start=$(date +%s)
: >"$out/figures"

# run NAME STATUS QEMU-ARGS...: one QEMU; its serial log, without the VMs'
# "[ioa] " prefixes, goes to NAME.out. STATUS is the exit status that means
# it ended as planned (utsuwa's exit=qemu: 1 when every VM ended as expected;
# Linux's poweroff with -no-reboot: 0). Appends "NAME ping N", "NAME stream N"
# and "NAME ping-p10 N" to figures and prints the client's interrupts; on a
# failure prints the log's tail and exits.
run() {
	name=$1 want=$2
	shift 2
	log=$out/$name.log
	rm -f "$log"
	t=$(date +%s)
	timeout -k 10 "${PT_TIMEOUT:-600}" "$qemu" -accel tcg -cpu "$QEMU_SVM_CPU" -smp 1 \
		-machine q35 -device amd-iommu -icount shift=0,sleep=off -display none \
		-monitor none -serial "file:$log" -no-reboot "$@" </dev/null >"$out/$name.qemu" 2>&1
	rc=$?
	tr -d '\r' <"$log" 2>/dev/null | sed 's/^\[io[ab]\] //' >"$out/$name.out"
	echo "bench-passthru: $name: $(($(date +%s) - t)) s"
	if [ "$rc" -ne "$want" ] || ! grep -q '^io-bench: done' "$out/$name.out" ||
	   ! grep -q '^io-bench: no /dev/vda' "$out/$name.out"; then
		[ "$rc" = 124 ] && echo "bench-passthru: $name: stopped after PT_TIMEOUT (${PT_TIMEOUT:-600} s)" >&2
		echo "bench-passthru: $name failed (QEMU exit status $rc, $want expected; or no" \
			"\"io-bench: done\", or a disk); $log:" >&2
		tail -n 40 "$out/$name.out" >&2
		tail -n 5 "$out/$name.qemu" >&2
		exit 1
	fi
	sed -n "s/^io-bench: \(ping\|stream\) per=\([0-9]*\) .*/$name \1 \2/p" "$out/$name.out" >>"$out/figures"
	sed -n "s/^io-bench: ping per=.* p10=\([0-9]*\).*/$name ping-p10 \1/p" "$out/$name.out" >>"$out/figures"
	# The client kernel's MSI/MSI-X interrupts during the round trips
	# and during the stream, by name (run.sh's irqs).
	awk -v name="$name" '
		$2 == "irqs" { c[$3 " " $4] = $5; if (!($4 in seen)) { seen[$4] = 1; q[++n] = $4 } }
		END {
			p = s = ""
			for (i = 1; i <= n; i++) {
				p = p " " q[i] "=" c["after-ping " q[i]] - c["before-ping " q[i]]
				s = s " " q[i] "=" c["after-stream " q[i]] - c["after-ping " q[i]]
			}
			print "bench-passthru: " name ": interrupts in the ping:" p "; in the stream:" s
		}' "$out/$name.out"
}

vm="image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=1,expect=0"
client="console=ttyS0 quiet utsuwa.iobench=client,10.0.0.1,10.0.0.2,$args"
server="console=ttyS0 quiet utsuwa.iobench=server,10.0.0.2"
utsuwa="-m 2G -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel $kernel"

# shellcheck disable=SC2086 # $utsuwa is words
run virtio-net 1 $utsuwa -nic none -initrd "$guests/vmlinuz,$guests/initrd.gz" \
	-append "exit=qemu vm=ioa,$vm,net,cmdline=\"$client\" vm=iob,$vm,net,cmdline=\"$server\""
for m in $nics; do
	case $m in
	e1000e) qdev=e1000e ;;
	virtio) qdev=virtio-net-pci,disable-legacy=on,iommu_platform=on ;;
	*) echo "bench-passthru: PT_NICS: e1000e or virtio, not '$m'" >&2; exit 2 ;;
	esac
	two="-netdev hubport,id=h0,hubid=0 -netdev hubport,id=h1,hubid=0
		-device $qdev,netdev=h0,addr=06.0 -device $qdev,netdev=h1,addr=07.0"
	# shellcheck disable=SC2086
	run "passthrough-$m" 1 $utsuwa $two -initrd "$guests/vmlinuz,$guests/initrd.gz" \
		-append "exit=qemu vm=ioa,$vm,pci=00:06.0,cmdline=\"$client\" vm=iob,$vm,pci=00:07.0,cmdline=\"$server\""
	grep -q "^utsuwa: vm 'ioa': pci=00:06.0 .* (MSI-X)" "$out/passthrough-$m.out" || {
		echo "bench-passthru: passthrough-$m: no MSI-X for ioa's NIC" >&2; exit 1; }
	[ "$m" = e1000e ] && ! grep -q '^io-bench: eth0 rx-usecs .* -> 0' "$out/passthrough-$m.out" && {
		echo "bench-passthru: passthrough-$m: e1000e's interrupt moderation stayed on" >&2; exit 1; }
	# shellcheck disable=SC2086
	run "native-$m" 0 -m 512M $two -kernel "$guests/vmlinuz" -initrd "$guests/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 amd_iommu=off utsuwa.iobench=native,10.0.0.1,10.0.0.2,$args"
	grep -q '^io-bench: eth1 10.0.0.2/24 in a network namespace of its own' "$out/native-$m.out" || {
		echo "bench-passthru: native-$m: the server was not in its own namespace" >&2; exit 1; }
done

awk -v nics="$nics" '
	{ f[$1 " " $2] = $3 }
	END {
		n = split(nics, m, " ")
		for (i = 1; i <= n; i++)
			for (k = 1; k <= 3; k++) {
				kind = k == 1 ? "ping" : k == 2 ? "ping-p10" : "stream"
				printf "io passthrough-%s nic=%s passthrough=%s virtio-net=%s native=%s\n", kind,
				       m[i], f["passthrough-" m[i] " " kind], f["virtio-net " kind],
				       f["native-" m[i] " " kind]
			}
	}' "$out/figures"
echo "bench-passthru: $(($(date +%s) - start)) s in all (IO_ARGS=$args)"
