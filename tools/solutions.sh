#!/usr/bin/env bash
# Each exercise's reference solution is the book's own code for the file it replaces,
# as chapters 00..NN (NN = the exercise's chapter) tangle it: the grader builds the
# exercise against that chapter's library, so the solution is that chapter's version.
# An extension exercise (`kind = extension`) asks for more than the book implements:
# there the book's file is the *starter* (without the tangler's header and #line
# directives, since the student edits the copy), and the solution is written by hand.
#   tools/solutions.sh write   copy it into the exercise's solution/ (starter/)
#   tools/solutions.sh check   fail if a solution/ (starter/) file differs from it
set -euo pipefail

mode=${1:-check}
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# With a second argument, prefix trees come from DIR/chNN/code (the build's own,
# tangled from the same chapters); otherwise each is tangled here.
trees=${2:-}

prefix_tree() {     # tangle chapters 00..$1 once, print the tree's path
    local n=$1 out=$tmp/ch$1
    if [ -n "$trees" ]; then
        echo "$trees/ch$n/code"
        return
    fi
    if [ ! -d "$out" ]; then
        local chapters=()
        for c in chapters/[0-9][0-9]-*.nw; do
            num=${c#chapters/}
            num=${num%%-*}
            if [[ ! "$num" > "$n" ]]; then
                chapters+=("$c")
            fi
        done
        python3 tools/tangle.py "$out" "${chapters[@]}" >&2
    fi
    echo "$out"
}

for conf in exercises/ch[0-9][0-9]-*/*/exercise.conf; do
    [ -e "$conf" ] || continue
    dir=$(dirname "$conf")
    [ -d "$dir/solution" ] || continue       # a student's handout has no solutions
    chapter=${dir#exercises/ch}
    chapter=${chapter:0:2}
    replaces=$(sed -n 's/^replaces *= *//p' "$conf")
    src=$(prefix_tree "$chapter")/$replaces
    dst=$dir/solution/$(basename "$replaces")
    given=$dir/starter/$(basename "$replaces")
    if [ ! -f "$src" ]; then
        echo "solutions: $conf replaces $replaces, which chapters 00-$chapter do not produce" >&2
        status=1
        continue
    fi
    if grep -qE '^kind *= *extension' "$conf"; then
        [ -f "$dst" ] || { echo "solutions: $dir/solution/ lacks $(basename "$replaces")" >&2; status=1; }
        sed '1{/^\/\* Generated from /d};/^#line /d' "$src" >"$tmp/starter"
        src=$tmp/starter dst=$given
    elif [ ! -f "$given" ]; then
        echo "solutions: $dir/starter/ lacks $(basename "$replaces")" >&2
        status=1
    fi
    if ! cmp -s "$src" "$dst"; then
        if [ "$mode" = write ]; then
            mkdir -p "$(dirname "$dst")" && cp "$src" "$dst"
        else
            echo "solutions: $dst differs from chapter $chapter's $replaces: run 'make tangle'" >&2
            status=1
        fi
    fi
done
exit $status
