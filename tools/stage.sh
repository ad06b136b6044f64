#!/usr/bin/env bash
# Run one stage of `make check` and print its one-line verdict:
#
#   tools/stage.sh NAME [--inputs "FILE..."] -- COMMAND...
#
# The command's whole output goes to build/check/logs/NAME.log; the terminal gets one
# line, "NAME: <the log's closing line>", and on failure the last lines of the log.
# The stage's counts ("N passed, M failed" lines of the log, added up; 1 passed or
# 1 failed by exit status for a command that prints none) go to build/check/run/NAME,
# where tools/verdict.sh adds up every stage of the run.
#
# --inputs names the files the stage's verdict depends on and nothing else (a
# deterministic check such as the model checker or the grader's own tests).  When
# their content matches the last passing run, the stage is not run again and its
# recorded verdict is reused, marked "(unchanged inputs: verdict of <date>)".
#
# --programs names test programs the verdict depends on as well, by their code: their
# debugging information and build id are left out, so a program linked from objects
# stripped of it (a handout's reference objects) counts as the same program.  Suites
# with threads can fail one run in many, so such a verdict is reused only within one
# `make check` ($CHECK_RUN), including a check it runs inside itself: the handout's
# unpack runs the same chapter programs, and they run once, in whichever tree first.
#
# The verdicts are kept in $STAGE_CACHE (build/check/cache), which a nested check
# shares; a stage holds a lock on its entry while it runs, so that when both trees
# reach the same stage, one runs it and the other waits for its verdict.
set -uo pipefail

name=$1
shift
inputs="" programs=""
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
        --inputs) inputs=$2; shift 2 ;;
        --programs) programs=$2; shift 2 ;;
        *) echo "stage.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ "${1:-}" = -- ] && shift

top=build/check
mkdir -p "$top/logs" "$top/run"
log=$top/logs/$name.log
COUNT_RE='^([A-Za-z0-9 ._-]+: )?[0-9]+ passed, [0-9]+ failed$'

code_sums() {       # code_sums PROGRAM...: one sum per program, of its code alone
    local p tmp
    tmp=$(mktemp)
    for p in "$@"; do
        objcopy --strip-debug --remove-section=.note.gnu.build-id "$p" "$tmp" || { rm -f "$tmp"; return 1; }
        echo "$(sha256sum <"$tmp" | cut -c1-64) $p"
    done
    rm -f "$tmp"
}

key="" reused="unchanged inputs"
if [ -n "$programs" ]; then
    reused="the same programs passed earlier in this run"
    # Outside `make check`, or with a program missing, the verdict is not reused.
    # shellcheck disable=SC2086  # a list of paths
    if [ -n "${CHECK_RUN:-}" ] && sums=$(code_sums $programs 2>/dev/null); then
        key="run $CHECK_RUN
$sums"
    else
        inputs=""
    fi
fi
if [ -n "$inputs" ] || [ -n "$key" ]; then
    # shellcheck disable=SC2086  # a list of paths
    key=$( { printf '%s\n' "$*" "$key"; sha256sum $inputs 2>&1; } | sha256sum | cut -c1-16)
    cache=${STAGE_CACHE:-$top/cache}/$name
    mkdir -p "$(dirname "$cache")"
    exec 9>"$cache.lock"
    flock 9             # held until this stage ends: the other tree's waits here
    if [ -f "$cache.verdict" ]; then
        read -r was passed failed when line <"$cache.verdict"
        if [ "$was" = "$key" ]; then
            echo "$passed $failed" >"$top/run/$name"
            printf '%-11s %s (%s: verdict of %s)\n' "$name:" "$line" "$reused" "$when"
            exit 0
        fi
    fi
fi

start=$(date +%s)
# Wall-clock and CPU seconds of the stage and everything it ran, for whoever tunes
# the build: build/check/times/NAME holds "wall user system".
mkdir -p "$top/times"
TIMEFORMAT='%R %U %S'
{ time "$@" >"$log" 2>&1; } 2>"$top/times/$name"
rc=$?
secs=$(( $(date +%s) - start ))

passed=0 failed=0
while read -r p f; do
    passed=$((passed + p)) failed=$((failed + f))
done < <(grep -E "$COUNT_RE" "$log" | sed -E 's/^(.*: )?([0-9]+) passed, ([0-9]+) failed$/\2 \3/')
if ! grep -qE "$COUNT_RE" "$log"; then
    if [ "$rc" -eq 0 ]; then passed=1; else failed=1; fi
elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1            # the command failed after its counts were printed
fi
echo "$passed $failed" >"$top/run/$name"

last=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
last=${last#"$name: "}
if [ "$rc" -eq 0 ]; then
    printf '%-11s %s (%ss)\n' "$name:" "$last" "$secs"
    if [ -n "$key" ]; then       # the key and its verdict in one file, replaced whole
        echo "$key $passed $failed $(date '+%Y-%m-%dT%H:%M:%S') $last" >"$cache.verdict.$$"
        mv "$cache.verdict.$$" "$cache.verdict"
    fi
    exit 0
fi
printf '%-11s FAILED (exit %s; whole output in %s):\n' "$name:" "$rc" "$log"
# Check's own failure lines (file:line:F|E:case:test:...) say it best; other tools'
# last lines otherwise.  Make's "*** Error" lines only repeat the exit status.
if grep -qE '^[^ :]+:[0-9]+:[FE]:' "$log"; then
    grep -E '^[^ :]+:[0-9]+:[FE]:|no Check summary' "$log" | head -n 20
    grep -E "$COUNT_RE" "$log" | tail -n 1
else
    shown=$(grep -cvE '^make(\[[0-9]+\])?: \*\*\*' "$log")
    [ "$shown" -gt 30 ] && echo "($((shown - 30)) lines more above these, in $log)"
    grep -vE '^make(\[[0-9]+\])?: \*\*\*' "$log" | tail -n 30
fi | sed 's/^/    /'
[ -n "$key" ] && rm -f "$cache.verdict"
# Inside `make check` the run goes on to the other stages; the verdict tells.
[ -n "${STAGE_KEEP_GOING:-}" ] && exit 0
exit 1
