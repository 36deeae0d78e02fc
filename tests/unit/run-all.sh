#!/bin/sh
# Runs each unit test program; prints its output and a summary line
# "unit: N passed, N failed" (N counts programs). Exit status 1 on any failure.
pass=0; fail=0
for t in "$@"; do
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
