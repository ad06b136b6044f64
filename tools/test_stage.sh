#!/usr/bin/env bash
# Self-test of tools/stage.sh's verdict reuse: tools/test_stage.sh
#
# Each case runs stage.sh in a scratch tree with a command that counts its runs, and
# checks how many times the command ran and what the verdict line said.
set -uo pipefail

STAGE=$(cd "$(dirname "$0")" && pwd)/stage.sh
# Run from `make check`, this inherits the run's own settings; the cases set their own.
unset CHECK_RUN STAGE_CACHE STAGE_KEEP_GOING
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
passed=0 failed=0

ok() {          # ok NAME CONDITION...: one check
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "test_stage: FAILED: $name" >&2
    fi
}

runs() { cat "$scratch/count" 2>/dev/null || echo 0; }

# The stage's command: counts its run, waits $SLOW seconds, passes unless $FAIL is set.
cat >counted.sh <<'EOF'
#!/bin/sh
echo x >>"$COUNT_DIR/runs"
wc -l <"$COUNT_DIR/runs" | tr -d ' ' >"$COUNT_DIR/count"
sleep "${SLOW:-0}"
[ -z "${FAIL:-}" ] || { echo "2 passed, 1 failed"; exit 1; }
echo "3 passed, 0 failed"
EOF
chmod +x counted.sh
export COUNT_DIR=$scratch
stage() { "$STAGE" "$@" 2>&1; }

# --inputs: unchanged inputs reuse the verdict; a change runs the stage again.
echo one >input
stage s1 --inputs input -- ./counted.sh >/dev/null
line=$(stage s1 --inputs input -- ./counted.sh)
ok "unchanged inputs run once" [ "$(runs)" = 1 ]
ok "the reused verdict says so" grep -q "3 passed, 0 failed (unchanged inputs" <<<"$line"
echo two >input
stage s1 --inputs input -- ./counted.sh >/dev/null
ok "changed inputs run again" [ "$(runs)" = 2 ]

# A failing run keeps no verdict: the next run is a real one.
FAIL=1 stage s2 --inputs input -- ./counted.sh >/dev/null
stage s2 --inputs input -- ./counted.sh >/dev/null
ok "a failure is not reused" [ "$(runs)" = 4 ]
line=$(stage s2 --inputs input -- ./counted.sh)
ok "a pass after a failure is" grep -q "unchanged inputs" <<<"$line"

# --programs: reused within one run (CHECK_RUN) only, never outside make check.
printf 'int main(void) { return 0; }\n' >p.c
gcc -g -c p.c -o p.o && gcc p.o -o prog
objcopy --strip-debug p.o p_stripped.o && gcc p_stripped.o -o prog_stripped
printf 'int main(void) { return 1; }\n' >q.c
gcc -g q.c -o prog_other
rm -f runs count
CHECK_RUN=r1 stage s3 --programs prog -- ./counted.sh >/dev/null
line=$(CHECK_RUN=r1 stage s3 --programs prog -- ./counted.sh)
ok "the same programs run once in a run" [ "$(runs)" = 1 ]
ok "and the line says why" grep -q "the same programs passed earlier in this run" <<<"$line"
cp prog_stripped prog
CHECK_RUN=r1 stage s3 --programs prog -- ./counted.sh >/dev/null
ok "a program linked from stripped objects is the same" [ "$(runs)" = 1 ]
cp prog_other prog
CHECK_RUN=r1 stage s3 --programs prog -- ./counted.sh >/dev/null
ok "other code runs again" [ "$(runs)" = 2 ]
CHECK_RUN=r2 stage s3 --programs prog -- ./counted.sh >/dev/null
ok "a new run runs again" [ "$(runs)" = 3 ]
stage s3 --programs prog -- ./counted.sh >/dev/null
stage s3 --programs prog -- ./counted.sh >/dev/null
ok "outside make check, every time" [ "$(runs)" = 5 ]
CHECK_RUN=r3 stage s3 --programs "prog missing" -- ./counted.sh >/dev/null
CHECK_RUN=r3 stage s3 --programs "prog missing" -- ./counted.sh >/dev/null
ok "a missing program keeps no verdict" [ "$(runs)" = 7 ]

# Two trees sharing STAGE_CACHE reach the same stage at once: one runs, one waits.
rm -f runs count
mkdir -p other
cp counted.sh prog other/               # the same programs, another tree
export STAGE_CACHE=$scratch/shared
CHECK_RUN=r4 SLOW=1 stage s4 --programs prog -- ./counted.sh >first.line &
sleep 0.2
(cd other && CHECK_RUN=r4 "$STAGE" s4 --programs prog -- ./counted.sh >../second.line 2>&1)
wait
ok "side by side, the stage runs once" [ "$(runs)" = 1 ]
ok "and the waiting tree reuses its verdict" grep -q "passed earlier in this run" second.line
unset STAGE_CACHE

echo "test_stage: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
