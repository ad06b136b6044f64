#!/usr/bin/env python3
"""Tangle the chapters into code trees.

    tools/tangle.py OUTDIR CHAPTER.nw...          one tree from the chapters given
    tools/tangle.py --prefixes DIR CHAPTER.nw...   DIR/chNN/code for every chapter NN
                                                   with code, from chapters 00..NN alone
    tools/tangle.py --check OUTDIR CHAPTER.nw...   change nothing; exit 1 if OUTDIR differs

Any mode takes `--exclude FILE` (repeatable) first: that root is not written.  The
students' handout tangles this way, leaving out the files the exercises replace, whose
chunks its chapters show only as placeholders (see tools/handout.py).

The chapters are parsed once (noweb's `markup`); each root chunk is then extracted by
noweb's `nt` with `#line` directives, so compiler errors, gdb and gcov point at the
chapter.  Every root must be a file under include/ or src/: any other root is a chunk
nobody uses, usually a misspelt continuation, and that is an error.

A file is rewritten only when its content changes, so make stays incremental.  Each
C file starts with a comment that carries a checksum of the rest of the file.  Before
overwriting a file, the tangler checks that checksum: a file whose body no longer
matches was edited by hand, and the tangler stops instead of throwing the edit away.
"""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

NOWEB_LIB = os.environ.get("NOWEB_LIB", "/usr/lib/noweb")
ROOT_RE = re.compile(r"^(include|src|examples)/[A-Za-z0-9_./-]+$")
HEADER_RE = re.compile(r"^/\* Generated from (\S+) by make tangle \(sum ([0-9a-f]{12})\): "
                       r"edit the chapter, not this file\. \*/\n")


class TangleError(Exception):
    pass


def markup(chapters):
    """noweb's pipeline representation of the chapters, split per chapter file."""
    res = subprocess.run([f"{NOWEB_LIB}/markup", *chapters], capture_output=True, text=True)
    if res.returncode != 0:
        raise TangleError(f"markup failed: {res.stderr.strip()}")
    parts, current = {}, None
    for line in res.stdout.splitlines(keepends=True):
        if line.startswith("@file "):
            current = line[6:].strip()
            parts[current] = []
        if current is None:
            raise TangleError("markup output does not start with @file")
        parts[current].append(line)
    return {name: "".join(lines) for name, lines in parts.items()}


def roots_of(stream):
    """Chunks defined but never used, with the file that first defines each."""
    defined, used = {}, set()
    current_file = None
    for line in stream.splitlines():
        if line.startswith("@file "):
            current_file = line[6:]
        elif line.startswith("@defn "):
            defined.setdefault(line[6:], current_file)
        elif line.startswith("@use "):
            used.add(line[5:])
    return {name: f for name, f in defined.items() if name not in used}


def checksum(body):
    return hashlib.sha256(body.encode()).hexdigest()[:12]


def render(root, first_file, stream):
    res = subprocess.run([f"{NOWEB_LIB}/nt", '-L#line %L "%F"%N', f"-R{root}"],
                         input=stream, capture_output=True, text=True)
    if res.returncode != 0 or res.stderr:
        raise TangleError(f"<<{root}>>: {res.stderr.strip() or 'nt failed'}")
    body = res.stdout
    if root.endswith((".c", ".h")):
        return (f"/* Generated from {first_file} by make tangle (sum {checksum(body)}): "
                f"edit the chapter, not this file. */\n" + body)
    return body


def hand_edited(path):
    """True when PATH carries our header but its body no longer matches the checksum."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    m = HEADER_RE.match(text)
    return bool(m) and checksum(text[m.end():]) != m.group(2)


def show_diff(path, old, new, limit=12):
    """Print the first lines of what a fresh tangle would change in PATH."""
    import difflib
    lines = list(difflib.unified_diff((old or "").splitlines(), new.splitlines(),
                                      f"{path} (as it is)", f"{path} (from the chapters)",
                                      lineterm="", n=1))
    for line in lines[:limit]:
        print("    " + line)
    if len(lines) > limit:
        print(f"    ... ({len(lines) - limit} more diff lines)")


def tangle_tree(out, stream, check_only=False, exclude=()):
    """Write (or compare) every root of STREAM under OUT; return the paths that differ."""
    roots = roots_of(stream)
    bad = sorted(r for r in roots if not ROOT_RE.match(r))
    if bad:
        raise TangleError("chunk defined but never used: " + ", ".join(f"<<{b}>>" for b in bad))
    differ = []
    for root, first in sorted(roots.items()):
        if root in exclude:
            continue
        text = render(root, first, stream)
        path = out / root
        old = path.read_text() if path.exists() else None
        if old == text:
            continue
        differ.append(root)
        if check_only:
            show_diff(path, old, text)
            continue
        if old is not None and hand_edited(path):
            raise TangleError(
                f"{path} was edited by hand, and tangling would overwrite the edit.\n"
                f"  Move the change into the chapter: the '#line N \"chapters/...\"' line above\n"
                f"  the edited lines names the chunk's file and line.  Then delete the file\n"
                f"  (rm {path}, or git checkout -- {path}) and run 'make' again:\n"
                f"  it is tangled afresh from the chapter.")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    # Files whose root chunk disappeared from the chapters must not linger.
    if out.is_dir():
        for f in out.rglob("*"):
            if f.is_file() and f.suffix in (".c", ".h"):
                rel = f.relative_to(out).as_posix()
                if rel not in roots or rel in exclude:
                    differ.append(rel)
                    if not check_only:
                        f.unlink()
    return differ


def chapter_number(name):
    return Path(name).name[:2]


def main(argv):
    mode, exclude = "tree", set()
    while len(argv) > 1 and argv[0] == "--exclude":
        exclude.add(argv[1])
        argv = argv[2:]
    if argv and argv[0] in ("--prefixes", "--check"):
        mode = argv.pop(0)[2:]
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out, chapters = Path(argv[0]), argv[1:]
    try:
        parts = markup(chapters)
        if mode == "prefixes":
            ordered = list(parts)
            for i, name in enumerate(ordered):
                num = chapter_number(name)
                if num == "00":
                    continue
                stream = "".join(parts[n] for n in ordered[:i + 1])
                tangle_tree(out / f"ch{num}" / "code", stream, exclude=exclude)
            return 0
        differ = tangle_tree(out, "".join(parts.values()), check_only=(mode == "check"),
                             exclude=exclude)
        if mode == "check" and differ:
            for d in differ:
                print(f"tangle: {out}/{d} differs from the chapters")
            return 1
        return 0
    except TangleError as e:
        print(f"tangle: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
