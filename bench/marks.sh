# Sourced by the benchmarks that read marks a guest prints with utsuwa-tsc
# (tools/guest-tsc: "<label> tsc=<N>", N the TSC, under QEMU -icount
# shift=0,sleep=off the instructions executed): bench/linux-boot.sh,
# bench/paging.sh.
#
# mark LOG LABEL: N of the first "LABEL tsc=<N>" anywhere on a line of LOG
# (a serial log: carriage returns dropped, any prefix such as utsuwa's
# "[vm] " allowed); nothing when there is none.
mark() {
	tr -d '\r' <"$1" 2>/dev/null | sed -n "s/.*$2 tsc=\([0-9][0-9]*\).*/\1/p" | head -n 1
}
