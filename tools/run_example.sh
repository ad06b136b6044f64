#!/bin/sh
# run_example.sh PROGRAM: run one of the book's example programs and print its output as
# a Markdown console block for the chapter to include.  A program that fails stops the
# build: the book never shows the output of a run that went wrong.
set -e
prog=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$prog" >"$out" 2>&1; then
    echo "run_example: $prog failed:" >&2
    cat "$out" >&2
    exit 1
fi
printf '```{.console}\n$ %s\n' "$prog"
cat "$out"
printf '```\n'
