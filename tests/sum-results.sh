#!/bin/sh
# Sums the parts of `make test`: each argument is LABEL:FILE, where FILE holds
# the part's output ending with "LABEL: N passed, N failed". A part with no
# such line counts as one failure (it did not run, or did not finish). Prints
# "N passed, N failed"; exit status 0 only if nothing failed.
#   sum-results.sh [-t SECONDS] unit:build/test/unit.out guests:build/test/guests.out ...
set -u
total_p=0 total_f=0
if [ "${1:-}" = -t ]; then echo "test: ${2}s"; shift 2; fi
for part; do
	label=${part%%:*} file=${part#*:}
	line=$(sed -n "s/^$label: \([0-9]*\) passed, \([0-9]*\) failed\$/\1 \2/p" "$file" 2>/dev/null |
		tail -n 1)
	if [ -z "$line" ]; then
		echo "$label: no result (it did not run or did not finish): 1 failure"
		total_f=$((total_f + 1))
		continue
	fi
	total_p=$((total_p + ${line% *})) total_f=$((total_f + ${line#* }))
done
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
