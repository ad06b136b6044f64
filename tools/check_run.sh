#!/usr/bin/env bash
# The order of `make check`'s stages: tools/check_run.sh "EARLY..." "LATE..."
#
# `sync`, then `libs` (every chapter library), one after the other.  The EARLY stages
# need nothing more, so they start then, beside `build` (the test programs); the LATE
# ones need the test programs and start once `build` is done.  The stages after `libs`
# run side by side, and each line is printed as soon as it and every line before it are
# done: the LATE stages' lines first, then the EARLY ones'.  A stage whose prerequisite
# failed is not run and counts as failed: it could only repeat that error.
#
# $SUBMAKE is the command that runs a make target (`make check` hands down its own).
set -uo pipefail

early=$1 late=$2
top=build/check
rm -rf "$top/run"
mkdir -p "$top/run"
export STAGE_KEEP_GOING=1

run_stage() {
    eval "$SUBMAKE check-stage-$1" || echo "1 1" >"$top/run/$1"
}

failed() {
    local passed failures
    read -r passed failures <"$top/run/$1" 2>/dev/null || return 0
    [ "$failures" -ne 0 ]
}

not_run() {     # not_run WHY STAGE...
    local why=$1 stage
    shift
    for stage in "$@"; do
        printf '%-11s not run: %s failed\n' "$stage:" "$why"
        echo "0 1" >"$top/run/$stage"
    done
}

declare -A pid
start() {
    local stage
    for stage in "$@"; do
        run_stage "$stage" >"$top/$stage.line" 2>&1 &
        pid[$stage]=$!
    done
}

run_stage sync
run_stage libs
if failed libs; then
    # shellcheck disable=SC2086  # lists of stage names
    not_run "the libraries' build" build $late $early
    exit 0
fi
# shellcheck disable=SC2086
start $early
run_stage build
if failed build; then
    # shellcheck disable=SC2086
    not_run "the test programs' build" $late
else
    # shellcheck disable=SC2086
    start $late
fi
for stage in $late $early; do
    if [ -n "${pid[$stage]:-}" ]; then
        wait "${pid[$stage]}"
        cat "$top/$stage.line"
    fi
done
