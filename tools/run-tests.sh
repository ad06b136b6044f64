#!/usr/bin/env bash
# Run Check test programs: tools/run-tests.sh LABEL PROGRAM...
#
# Each program runs in fork mode (a crash or hang costs one test, not the run), with
# $SIM_RUN_WRAPPER in front if set (valgrind, setarch).  Prints each program's Check
# summary and a closing "N passed, N failed" line; exits 1 if any test failed.
set -uo pipefail

label=$1
shift
passed=0 failed=0 status=0
for prog in "$@"; do
    log=$(mktemp)
    CK_FORK=yes ${SIM_RUN_WRAPPER:-} "$prog" >"$log" 2>&1
    rc=$?
    summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "$prog: no Check summary (exit $rc)"
        tail -n 30 "$log"
        status=1 failed=$((failed + 1))
    else
        read -r checks fails errors < <(sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/' <<<"$summary")
        printf '%-44s %s\n' "$(basename "$prog")" "$summary"
        passed=$((passed + checks - fails - errors))
        failed=$((failed + fails + errors))
        if [ "$rc" -ne 0 ] || [ "$fails" -ne 0 ] || [ "$errors" -ne 0 ]; then
            grep -vE '^(Running suite|[0-9]+%: Checks)' "$log" | head -n 60
            status=1
        fi
    fi
    rm -f "$log"
done
echo "$label: $passed passed, $failed failed"
exit $status
