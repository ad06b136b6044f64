#!/usr/bin/env bash
# Model-check the interval-notifier collision-retry protocol with SPIN.
#
#   tools/check_model.sh
#
# Builds and runs the verifier for each design of tests/model/interval_notifier.pml
# and checks the verdict each one must give:
#
#   SEQCOUNT    (the kernel's read_begin / read_retry)    no errors
#   BOOL_VALID  (the 2019 hmm_range->valid flag)          a counterexample
#   NO_RETRY    (read_begin without read_retry)           a counterexample
#
# The work happens in a temporary directory under build/model/, which is removed
# afterwards.  Kept in build/model/: DESIGN.pan.txt (the verifier's report) and,
# for each counterexample, DESIGN.trail.txt (a short replay of the failing run).
# Prints one line per design and exits 1 if any verdict differs from the expected.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
model=$root/tests/model/interval_notifier.pml
out=$root/build/model

if ! command -v spin >/dev/null 2>&1; then
    echo "check-model: spin not found; install it with:" >&2
    echo "  apt-get install -y --no-install-recommends spin" >&2
    exit 1
fi
if ! command -v gcc >/dev/null 2>&1; then
    echo "check-model: gcc not found (needed to compile SPIN's pan.c)" >&2
    exit 1
fi

mkdir -p "$out"
work=$(mktemp -d "$out/run.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Turn "spin -t -p" output into a short story: the model's own printf lines
# (numbered with the step that printed them), the fault path taking and dropping
# the driver lock, the failed assertion and the final values of the variables
# it talks about.
summarize_trail() {
    awk '
        /^ {10,}(inv|fault)/ { sub(/^ +/, ""); text = $0; next }
        /^ *[0-9]+:\tproc/ && /\[printf\(/ && text != "" {
            split($0, f, ":"); printf "step %3d  %s\n", f[1], text; text = ""; next
        }
        /^ *[0-9]+:\tproc .*\(device_fault:/ && /\[drv_lock = 1\]/ {
            split($0, f, ":"); printf "step %3d  fault: takes the driver lock\n", f[1]; next
        }
        /^ *[0-9]+:\tproc .*\(device_fault:/ && /\[drv_lock = 0\]/ {
            split($0, f, ":"); printf "step %3d  fault: drops the driver lock\n", f[1]; next
        }
        /Error: assertion violated/ { print "          ASSERTION VIOLATED: !dev_valid || dev_version == cpu"; next }
        /^\t\t(cpu|dev_valid|dev_version|mm_active|drv_lock) = / {
            sub(/^\t\t/, ""); final = final (final == "" ? "" : ", ") $0; next
        }
        END { if (final != "") print "          final state: " final }
    '
}

status=0 failed=0 designs=0
for spec in SEQCOUNT:verify BOOL_VALID:fail NO_RETRY:fail; do
    design=${spec%%:*}
    designs=$((designs + 1))
    expect=${spec##*:}
    dir=$work/$design
    mkdir -p "$dir"
    cp "$model" "$dir/interval_notifier.pml"
    rm -f "$out/$design.trail.txt" "$out/$design.pan.txt"

    # Generate, compile and run the verifier.  -DSAFETY: assertions and invalid
    # end states only (no cycle search); -DBFS: breadth-first, so the first
    # counterexample found is a shortest one.  The state space is small and
    # pan.c is big, so compile time dominates: -O1, and a 2^20-slot hash table
    # (-w20) instead of the default 2^24.
    if ! (cd "$dir" && spin -a -DDESIGN="$design" interval_notifier.pml) >"$dir/spin.log" 2>&1; then
        echo "check-model: $design: spin -a failed:"
        cat "$dir/spin.log"
        status=1 failed=$((failed + 1))
        continue
    fi
    if ! (cd "$dir" && gcc -O1 -DSAFETY -DBFS -o pan pan.c) >"$dir/gcc.log" 2>&1; then
        echo "check-model: $design: compiling pan.c failed:"
        tail -n 20 "$dir/gcc.log"
        status=1 failed=$((failed + 1))
        continue
    fi
    (cd "$dir" && ./pan -w20) >"$dir/pan.log" 2>&1
    cp "$dir/pan.log" "$out/$design.pan.txt"

    errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$dir/pan.log" | head -n 1)
    states=$(awk '/states, stored$/ { print $1; exit }' "$dir/pan.log")
    if [ -z "$errors" ] || [ -z "$states" ]; then
        echo "check-model: $design: could not read the verifier's report (see build/model/$design.pan.txt)"
        status=1 failed=$((failed + 1))
        continue
    fi
    incomplete=$(grep -E 'search not completed|max search depth too small|out of memory' "$dir/pan.log" | head -n 1)

    if [ "$expect" = verify ]; then
        # The unreached-code report guards against a vacuous pass: every
        # statement of the model (retry, give-up, install) must be reachable.
        unreached=$(grep -cE '^[[:space:]]+\([1-9][0-9]* of [0-9]+ states\)' "$dir/pan.log")
        if [ "$errors" -ne 0 ]; then
            echo "check-model: $design FAILED: $errors error(s), expected none"
            (cd "$dir" && spin -t -p -DDESIGN="$design" interval_notifier.pml 2>&1) \
                | summarize_trail >"$out/$design.trail.txt"
            cat "$out/$design.trail.txt"
            status=1 failed=$((failed + 1))
        elif [ -n "$incomplete" ]; then
            echo "check-model: $design FAILED: search incomplete: $incomplete"
            status=1 failed=$((failed + 1))
        elif [ "$unreached" -ne 0 ]; then
            echo "check-model: $design FAILED: model has unreachable statements (see build/model/$design.pan.txt)"
            status=1 failed=$((failed + 1))
        else
            echo "check-model: $design verified ($states states, 0 errors)"
        fi
    else
        if [ "$errors" -ge 1 ] && [ -f "$dir/interval_notifier.pml.trail" ]; then
            {
                echo "$design: shortest counterexample (spin -t -p, filtered)"
                (cd "$dir" && spin -t -p -DDESIGN="$design" interval_notifier.pml 2>&1) | summarize_trail
            } >"$out/$design.trail.txt"
            echo "check-model: $design counterexample found as expected ($states states; trail in build/model/$design.trail.txt)"
        else
            echo "check-model: $design FAILED: expected a counterexample, got $errors error(s)"
            status=1 failed=$((failed + 1))
        fi
    fi
done
echo "check-model: $((designs - failed)) passed, $failed failed"
exit $status
