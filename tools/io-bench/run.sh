#!/bin/sh
# utsuwa-iobench, for the Linux guest's initramfs (scripts/build-linux-guest.sh):
# the guest side of `make bench-io` (bench/io.sh, bench/README.md "I/O") and
# `make bench-passthru` (bench/passthru.sh).
# /init runs it when the kernel command line has
#   utsuwa.iobench=server,<address>
#   utsuwa.iobench=client,<address>,<peer>[,<reads>,<seq MiB>,<pings>,<stream MiB>]
#   utsuwa.iobench=native,<address>,<peer>[,...]   (the client's counts)
# eth0 gets the address (a /24). The server answers io-bench's UDP echo and
# TCP sink until the client says quit. The client waits for the server, then
# runs, each alone: 4 KiB random reads of /dev/vda (if there is one), 1 MiB
# sequential reads, UDP round trips and a TCP stream to the peer (io-bench
# prints one "io-bench: <mode> per=<N> ..." line each), tells the server to
# quit and prints "io-bench: done". Defaults: 1000 reads, 64 MiB, 200 round
# trips, 16 MiB.
# native: both ends in one kernel with two NICs (a Linux booted directly on
# the machine): the server, with eth1 and <peer>, in a network namespace of
# its own (io-bench netns-serve), so that the traffic leaves by eth0 and comes
# back in by eth1 instead of taking the loopback; then the client as above.
# The MSI and MSI-X interrupts' counts, summed over the CPUs, one line each:
#   io-bench: irqs <when> <name> <count>
irqs() {
	awk -v when="$1" '/MSI/ {
		n = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
		print "io-bench: irqs " when " " $NF " " n
	}' /proc/interrupts
}
arg=$(sed -n 's/.*utsuwa\.iobench=\([^ ]*\).*/\1/p' /proc/cmdline)
IFS=, read -r role me peer reads seqmib pings mib <<END
$arg
END
if [ ! -e /sys/class/net/eth0 ]; then echo "io-bench: error no eth0"; exit 1; fi
ip link set lo up
# Interrupt moderation off (e1000e's timer; io-bench.c, no_coalesce).
io-bench no-coalesce eth0 || exit 1
if [ "$role" = native ]; then
	if [ ! -e /sys/class/net/eth1 ]; then echo "io-bench: error no eth1"; exit 1; fi
	io-bench no-coalesce eth1 || exit 1
	io-bench netns-serve eth1 "$peer" &
	role=client
fi
ip addr add "$me/24" dev eth0
ip link set eth0 up
case $role in
server)
	io-bench serve
	;;
client)
	io-bench wait "$peer" 600 || exit 1
	if [ -b /dev/vda ]; then
		io-bench randread /dev/vda "${reads:-1000}"
		io-bench seqread /dev/vda "${seqmib:-64}"
	else
		echo "io-bench: no /dev/vda"
	fi
	irqs before-ping
	io-bench ping "$peer" "${pings:-200}"
	irqs after-ping
	io-bench stream "$peer" "${mib:-16}"
	irqs after-stream
	io-bench quit "$peer"
	wait
	echo "io-bench: done"
	;;
*)
	echo "io-bench: error bad utsuwa.iobench=$arg"
	;;
esac
