#!/usr/bin/env bash
# Tangle chapters into a code tree: tools/tangle.sh OUTDIR CHAPTER.nw...
#
# Every root chunk must be a file path under include/ or src/; any other root is a
# chunk that nothing uses (usually a misspelt continuation), and that is an error.
# A file is rewritten only when its content changes, so make stays incremental.
set -euo pipefail

out=$1
shift
[ $# -gt 0 ] || { echo "tangle: no chapters given" >&2; exit 2; }

roots=$(noroots "$@" | sed 's/^<<\(.*\)>>$/\1/')
bad=$(printf '%s\n' "$roots" | grep -Ev '^(include|src)/[A-Za-z0-9_./-]+$' || true)
if [ -n "$bad" ]; then
    printf 'tangle: chunk defined but never used: <<%s>>\n' $bad >&2
    exit 1
fi

tmp=$(mktemp)
marked=$(mktemp)
trap 'rm -f "$tmp" "$marked"' EXIT
# Parse the chapters once; notangle would parse them again for every root.
NOWEB_LIB=${NOWEB_LIB:-/usr/lib/noweb}
"$NOWEB_LIB/markup" "$@" >"$marked"
for root in $roots; do
    first=$(grep -l -F -x "<<$root>>=" "$@" | head -n 1)
    {
        case "$root" in
        *.c|*.h) printf '/* Generated from %s by notangle (make tangle): edit the chapter, not this file. */\n' "$first" ;;
        esac
        "$NOWEB_LIB/nt" -L'#line %L "%F"%N' -R"$root" <"$marked"
    } >"$tmp"
    mkdir -p "$out/$(dirname "$root")"
    if ! cmp -s "$tmp" "$out/$root"; then
        cp "$tmp" "$out/$root"
    fi
done

# Files whose root chunk disappeared from the chapters must not linger.
if [ -d "$out" ]; then
    find "$out" -type f \( -name '*.c' -o -name '*.h' \) | while read -r f; do
        rel=${f#"$out"/}
        printf '%s\n' "$roots" | grep -qxF "$rel" || rm -f "$f"
    done
fi
