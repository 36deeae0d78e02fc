#!/bin/sh
# utsuwa-iobench, for the Linux guest's initramfs (scripts/build-linux-guest.sh):
# the guest side of `make bench-io` (bench/io.sh, bench/README.md "I/O").
# /init runs it when the kernel command line has
#   utsuwa.iobench=server,<address>
#   utsuwa.iobench=client,<address>,<peer>[,<reads>,<seq MiB>,<pings>,<stream MiB>]
# eth0 gets the address (a /24). The server answers io-bench's UDP echo and
# TCP sink until the client says quit. The client waits for the server, then
# runs, each alone: 4 KiB random reads of /dev/vda (if there is one), 1 MiB
# sequential reads, UDP round trips and a TCP stream to the peer (io-bench
# prints one "io-bench: <mode> per=<N> ..." line each), tells the server to
# quit and prints "io-bench: done". Defaults: 1000 reads, 64 MiB, 200 round
# trips, 16 MiB.
arg=$(sed -n 's/.*utsuwa\.iobench=\([^ ]*\).*/\1/p' /proc/cmdline)
IFS=, read -r role me peer reads seqmib pings mib <<END
$arg
END
if [ ! -e /sys/class/net/eth0 ]; then echo "io-bench: error no eth0"; exit 1; fi
ip link set lo up
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
	io-bench ping "$peer" "${pings:-200}"
	io-bench stream "$peer" "${mib:-16}"
	io-bench quit "$peer"
	echo "io-bench: done"
	;;
*)
	echo "io-bench: error bad utsuwa.iobench=$arg"
	;;
esac
