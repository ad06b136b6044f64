#!/usr/bin/env bash
# Each exercise's reference solution is the book's own code for the file it replaces.
#   tools/solutions.sh write   copy code/<replaces> into the exercise's solution/
#   tools/solutions.sh check   fail if a solution/ file differs from code/
set -euo pipefail

mode=${1:-check}
status=0
for conf in exercises/ch[0-9][0-9]-*/*/exercise.conf; do
    [ -e "$conf" ] || continue
    dir=$(dirname "$conf")
    [ -d "$dir/solution" ] || continue       # a student's handout has no solutions
    replaces=$(sed -n 's/^replaces *= *//p' "$conf")
    src=code/$replaces
    dst=$dir/solution/$(basename "$replaces")
    if [ ! -f "$src" ]; then
        echo "solutions: $conf replaces $replaces, which the chapters do not produce" >&2
        status=1
        continue
    fi
    if [ ! -f "$dir/starter/$(basename "$replaces")" ]; then
        echo "solutions: $dir/starter/ lacks $(basename "$replaces")" >&2
        status=1
    fi
    if ! cmp -s "$src" "$dst"; then
        if [ "$mode" = write ]; then
            mkdir -p "$dir/solution"
            cp "$src" "$dst"
        else
            echo "solutions: $dst differs from $src: run 'make tangle'" >&2
            status=1
        fi
    fi
done
exit $status
