#!/bin/sh
# utsuwa-pgbench, for the Linux guest's initramfs (scripts/build-linux-guest.sh):
# the guest side of `make bench-paging` (bench/paging.sh, bench/README.md
# "Paging"). /init runs it, right after its "utsuwa-pgbench: init tsc=<N>"
# mark, when the kernel command line has
#   utsuwa.pgbench[=<forks>,<rounds>,<MiB>]     (default 200,16,4)
# Each workload lies between two marks, "utsuwa-pgbench: <name>-start tsc=<N>"
# and "utsuwa-pgbench: <name>-end tsc=<N>", printed by utsuwa-tsc (the TSC:
# under QEMU -icount shift=0,sleep=off the instructions executed):
#   fork  a shell loop running /bin/true <forks> times: busybox's ash forks,
#         the child execs /bin/true (a path, so never an in-process applet:
#         a real execve of the static busybox), the shell waits for it;
#   mmap  utsuwa-mmap-touch <rounds> <MiB> (tools/paging-bench/mmap-touch.c):
#         map, touch every 4 KiB page, unmap, round after round.
# Then "utsuwa-pgbench: uptime <up> <idle>" and "utsuwa-pgbench: done".
arg=$(sed -n 's/.*utsuwa\.pgbench=\([0-9,]*\).*/\1/p' /proc/cmdline)
IFS=, read -r forks rounds mib <<END
$arg
END
forks=${forks:-200} rounds=${rounds:-16} mib=${mib:-4}
echo "utsuwa-pgbench: forks=$forks rounds=$rounds mib=$mib"
/bin/utsuwa-tsc "utsuwa-pgbench: fork-start"
i=0
while [ $i -lt "$forks" ]; do
	/bin/true
	i=$((i + 1))
done
/bin/utsuwa-tsc "utsuwa-pgbench: fork-end"
/bin/utsuwa-tsc "utsuwa-pgbench: mmap-start"
/bin/utsuwa-mmap-touch "$rounds" "$mib"
/bin/utsuwa-tsc "utsuwa-pgbench: mmap-end"
echo "utsuwa-pgbench: uptime $(cat /proc/uptime)"
echo "utsuwa-pgbench: done"
