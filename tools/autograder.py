#!/usr/bin/env python3
"""Gradescope's autograder format, built from this repository and run on the platform.

    tools/autograder.py build [--assignment KEY...] [--out build/autograder.zip]
    tools/autograder.py run   [--root /autograder]

`build` packs the repository's committed files (without solutions or the grader's own
test submissions) under source/, with setup.sh and run_autograder at the top and the
list of exercises to grade in source/assignment.txt.  On the platform, setup.sh installs
what the grader needs and builds the chapter libraries the assignment uses, once, when
the image is built; run_autograder then calls `run` for each submission.

`run` reads ROOT/submission, which may hold
  * the mywork/ tree of the README (chNN-slug/NAME/FILE), possibly inside one top folder;
  * or loose files named as the starters are (wp_fault.c, ...), at the top or in folders;
lays it out as the grader expects, grades the assignment's exercises with tools/grade.py
(the same sandbox and policy as `make grade`, hidden tests included), and writes
ROOT/results/results.json.  Files it cannot place, and files two exercises both claim,
are named in the results' output; so is an exercise of the assignment with nothing
submitted.
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: install what
# the grader needs (if it is not there yet), then build the assignment's chapter libraries.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
for c in make gcc readelf objdump python3 notangle pkg-config bwrap; do
    if ! command -v "$c" >/dev/null; then
        apt-get update -q
        apt-get install -y --no-install-recommends make gcc libc6-dev binutils python3 \\
            noweb check pkg-config bubblewrap
        break
    fi
done
cd "${AUTOGRADER_ROOT:-/autograder}/source"
make -s grade-libs PREFIXES="$(cat assignment-chapters.txt)"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission into
# /autograder/results/results.json.
root="${AUTOGRADER_ROOT:-/autograder}"
cd "$root/source" || exit 1
exec python3 tools/autograder.py run --root "$root"
"""


def exercise_keys():
    return sorted(str(p.parent.relative_to(ROOT / "exercises"))
                  for p in (ROOT / "exercises").glob("ch[0-9][0-9]-*/*/exercise.conf"))


def committed_files():
    res = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    for name in res.stdout.decode().split("\0"):
        if not name or "/solution/" in name or name.startswith("tests/grading/"):
            continue
        yield name


def build(args):
    keys = args.assignment or exercise_keys()
    unknown = [k for k in keys if k not in exercise_keys()]
    if unknown:
        print(f"autograder: unknown exercise(s): {', '.join(unknown)}; "
              f"choose from {', '.join(exercise_keys())}", file=sys.stderr)
        return 2
    chapters = sorted({k[2:4] for k in keys})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            z.writestr(info, text)
        for name in committed_files():
            path = ROOT / name
            if path.is_symlink() or not path.is_file():
                continue
            info = zipfile.ZipInfo.from_file(path, "source/" + name)
            with open(path, "rb") as f:
                z.writestr(info, f.read(), zipfile.ZIP_DEFLATED)
        z.writestr("source/assignment.txt", "\n".join(keys) + "\n")
        z.writestr("source/assignment-chapters.txt", " ".join(chapters) + "\n")
    os.replace(tmp, out)
    print(f"autograder: {out} grades {len(keys)} exercise(s): {', '.join(keys)}")
    return 0


class Layout:
    """Where each submitted file goes in the grader's chNN-slug/NAME/FILE layout."""

    def __init__(self, keys):
        self.keys = keys
        self.files = {}                  # starter file name -> [exercise keys]
        for key in keys:
            for f in sorted((ROOT / "exercises" / key / "starter").iterdir()):
                self.files.setdefault(f.name, []).append(key)
        self.placed, self.unplaced, self.ambiguous = {}, [], []

    def place(self, rel, path):
        parts = rel.parts
        for i in range(len(parts) - 2):
            key = f"{parts[i]}/{parts[i + 1]}"
            if key in self.keys and len(parts) == i + 3:
                return self.put(key, parts[-1], path, rel)
        owners = self.files.get(parts[-1], [])
        if len(owners) == 1:
            return self.put(owners[0], parts[-1], path, rel)
        (self.ambiguous if owners else self.unplaced).append(str(rel))
        return None

    def put(self, key, name, path, rel):
        if name not in self.files or key not in self.files[name]:
            self.unplaced.append(str(rel))
            return None
        if (key, name) in self.placed:
            self.ambiguous.append(str(rel))
            return None
        self.placed[(key, name)] = path
        return key


def run(args):
    root = Path(args.root)
    submission, results_dir = root / "submission", root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").unlink(missing_ok=True)
    keys = (ROOT / "assignment.txt").read_text().split()
    layout = Layout(keys)
    for path in sorted(submission.rglob("*")) if submission.is_dir() else []:
        if path.is_dir() and not path.is_symlink():
            continue
        rel = path.relative_to(submission)
        if rel.parts[0].startswith(".") or rel.name.startswith("."):
            continue
        layout.place(rel, path)
    with tempfile.TemporaryDirectory() as d:
        staged = Path(d) / "submission"
        for (key, name), src in layout.placed.items():
            dst = staged / key / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink() or not src.is_file():
                os.symlink("/dev/null", dst)          # the grader refuses it, by name
            else:
                shutil.copyfile(src, dst)
        out = Path(d) / "out"
        res = subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"),
                              "--submission", str(staged), "--out", str(out),
                              "--only", *keys], capture_output=True, text=True,
                             env=dict(os.environ))
        print(res.stdout, end="")
        print(res.stderr, end="", file=sys.stderr)
        if res.returncode != 0 or not (out / "results.json").exists():
            results = {"score": 0, "output": "The autograder could not grade this submission: "
                       + res.stderr.strip()[-500:], "tests": []}
        else:
            results = json.loads((out / "results.json").read_text())
    notes = []
    if layout.unplaced:
        notes.append("Not part of this assignment, ignored: " + ", ".join(layout.unplaced))
    if layout.ambiguous:
        notes.append("More than one file for the same place, ignored: " +
                     ", ".join(layout.ambiguous))
    missing = [k for k in keys if not any(p[0] == k for p in layout.placed)]
    if missing:
        notes.append("Nothing submitted for: " + ", ".join(missing) + ". Upload your mywork/ "
                     "folder (mywork/chNN-slug/NAME/FILE) or the starter files by name.")
    results["output"] = "\n".join([results.get("output", "")] + notes).strip()
    tmp = results_dir / ".results.json.tmp"
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(tmp, results_dir / "results.json")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("build")
    b.add_argument("--assignment", nargs="*", help="exercise keys chNN-slug/NAME")
    b.add_argument("--out", default=str(ROOT / "build" / "autograder.zip"))
    r = sub.add_parser("run")
    r.add_argument("--root", default="/autograder")
    args = ap.parse_args()
    return build(args) if args.mode == "build" else run(args)


if __name__ == "__main__":
    sys.exit(main())
