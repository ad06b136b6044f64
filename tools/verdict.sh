#!/usr/bin/env bash
# The closing verdict of `make check`: add up the counts every stage of this run
# recorded in build/check/run/ (see tools/stage.sh) and print them on one line,
# "N passed, M failed".  Exits 1 if anything failed or no stage ran.
set -uo pipefail

dir=${1:-build/check/run}
passed=0 failed=0 stages=0 bad=""
for f in "$dir"/*; do
    [ -f "$f" ] || continue
    read -r p n <"$f"
    passed=$((passed + p)) failed=$((failed + n)) stages=$((stages + 1))
    [ "$n" -eq 0 ] || bad="$bad ${f##*/}"
done
if [ "$stages" -eq 0 ]; then
    echo "check: no stage ran"
    echo "0 passed, 1 failed"
    exit 1
fi
if [ -n "$bad" ]; then
    echo "check: $stages stages; failed:$bad (logs in build/check/logs/)"
else
    echo "check: $stages stages, all passed"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
