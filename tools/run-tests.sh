#!/usr/bin/env bash
# Run Check test programs: tools/run-tests.sh LABEL PROGRAM...
#
# Each program runs in fork mode (a crash or hang costs one test, not the run), with
# $SIM_RUN_WRAPPER in front if set (valgrind, setarch).  Programs run side by side,
# $SIM_TEST_JOBS at a time (default: one per core); their reports are printed in the
# order given: each program's Check summary, its failures, and a closing
# "N passed, N failed" line.  Exits 1 if any test failed.
set -uo pipefail

label=$1
shift
jobs=${SIM_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

run_one() {     # run_one INDEX PROGRAM
    CK_FORK=yes ${SIM_RUN_WRAPPER:-} "$2" >"$dir/$1.log" 2>&1
    echo $? >"$dir/$1.rc"
}

i=0
for prog in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    run_one "$i" "$prog" &
    i=$((i + 1))
done
wait

passed=0 failed=0 status=0 i=0
for prog in "$@"; do
    log=$dir/$i.log
    rc=$(cat "$dir/$i.rc")
    i=$((i + 1))
    summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "$prog: no Check summary (exit $rc)"
        tail -n 30 "$log"
        status=1 failed=$((failed + 1))
        continue
    fi
    read -r checks fails errors < <(sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/' <<<"$summary")
    printf '%-44s %s\n' "$(basename "$prog")" "$summary"
    passed=$((passed + checks - fails - errors))
    failed=$((failed + fails + errors))
    if [ "$rc" -ne 0 ] || [ "$fails" -ne 0 ] || [ "$errors" -ne 0 ]; then
        grep -vE '^(Running suite|[0-9]+%: Checks)' "$log" | head -n 60
        status=1
    fi
done
echo "$label: $passed passed, $failed failed"
exit $status
