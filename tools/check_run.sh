#!/usr/bin/env bash
# The order of `make check`'s stages: tools/check_run.sh "FREE..." "EARLY..." "LATE..."
#
# `sync`, then `libs` (every chapter library), one after the other.  The FREE stages
# need neither, so they start at once, beside `sync`; the EARLY ones need the libraries
# and start beside `build` (the test programs); the LATE ones need the test programs and
# start once `build` is done.  Each line is printed as soon as it and every line before
# it are done: the LATE stages' lines first, then the FREE and EARLY ones'.  A stage
# whose prerequisite failed is not run and counts as failed: it could only repeat that
# error.
#
# $SUBMAKE is the command that runs a make target (`make check` hands down its own).
set -uo pipefail

free=$1 early=$2 late=$3
top=build/check
rm -rf "$top/run"
mkdir -p "$top/run"
export STAGE_KEEP_GOING=1
# This run's name, for the verdicts a stage may reuse only within one run (tools/stage.sh);
# a check run inside this one (the handout's) keeps it.
export CHECK_RUN=${CHECK_RUN:-$(date +%s.%N).$$}

run_stage() {
    eval "$SUBMAKE check-stage-$1" || echo "1 1" >"$top/run/$1"
}

failed() {
    local failures
    read -r _ failures <"$top/run/$1" 2>/dev/null || return 0
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

# shellcheck disable=SC2086  # lists of stage names
start $free
run_stage sync
run_stage libs
if failed libs; then
    # shellcheck disable=SC2086
    not_run "the libraries' build" build $late $early
else
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
fi
for stage in $late $free $early; do
    if [ -n "${pid[$stage]:-}" ]; then
        wait "${pid[$stage]}"
        cat "$top/$stage.line"
    fi
done
