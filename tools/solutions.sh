#!/usr/bin/env bash
# Each exercise's reference solution is the book's own code for the file it replaces,
# as chapters 00..NN (NN = the exercise's chapter) tangle it: the grader builds the
# exercise against that chapter's library, so the solution is that chapter's version.
# An extension exercise (`kind = extension`) asks for more than the book implements:
# there the book's file is the *starter* (without the tangler's header and #line
# directives, since the student edits the copy), and the solution is that starter with
# solution/FILE.patch applied, so that it follows every change of the book's file.
#   tools/solutions.sh write   write the generated files into solution/ (and starter/)
#   tools/solutions.sh check   fail if one of them differs from what is generated
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
        "${PYTHON:-python3}" tools/tangle.py "$out" "${chapters[@]}" >&2
    fi
    echo "$out"
}

# Bring DST in line with SRC (write), or report that it is not (check).
sync_file() {
    if ! cmp -s "$1" "$2"; then
        if [ "$mode" = write ]; then
            mkdir -p "$(dirname "$2")" && cp "$1" "$2"
        else
            echo "solutions: $2 differs from $3: run 'make tangle'" >&2
            status=1
        fi
    fi
}

for conf in exercises/ch[0-9][0-9]-*/*/exercise.conf; do
    [ -e "$conf" ] || continue
    dir=$(dirname "$conf")
    [ -d "$dir/solution" ] || continue       # a student's handout has no solutions
    chapter=${dir#exercises/ch}
    chapter=${chapter:0:2}
    replaces=$(sed -n 's/^replaces *= *//p' "$conf")
    file=$(basename "$replaces")
    src=$(prefix_tree "$chapter")/$replaces
    if [ ! -f "$src" ]; then
        echo "solutions: $conf replaces $replaces, which chapters 00-$chapter do not produce" >&2
        status=1
        continue
    fi
    if ! grep -qE '^kind *= *extension' "$conf"; then
        [ -f "$dir/starter/$file" ] || { echo "solutions: $dir/starter/ lacks $file" >&2; status=1; }
        sync_file "$src" "$dir/solution/$file" "chapter $chapter's $replaces"
        continue
    fi
    sed '1{/^\/\* Generated from /d};/^#line /d' "$src" >"$tmp/starter"
    # An extension of a file that a fill-in exercise also replaces builds on that
    # exercise (`builds_on = chNN-slug/NAME`): its starter is that exercise's starter,
    # so that it gives away no answer; the student starts from their own solution.
    base=$(sed -n 's/^builds_on *= *//p' "$conf")
    if [ -n "$base" ]; then
        sync_file "exercises/$base/starter/$file" "$dir/starter/$file" "$base's starter"
    else
        sync_file "$tmp/starter" "$dir/starter/$file" "chapter $chapter's $replaces"
    fi
    if ! patch -s -o "$tmp/solution" "$tmp/starter" <"$dir/solution/$file.patch" \
            >"$tmp/patch.log" 2>&1; then
        echo "solutions: $dir/solution/$file.patch does not apply to chapter $chapter's" \
             "$replaces: rebase the patch on the new starter" >&2
        sed 's/^/    /' "$tmp/patch.log" >&2
        status=1
        continue
    fi
    sync_file "$tmp/solution" "$dir/solution/$file" "the starter with $file.patch applied"
    rm -f "$tmp/solution"
done
exit $status
