#!/usr/bin/env python3
"""Prove the Gradescope autograder without the platform.

Builds build/autograder.zip for a two-exercise assignment, unpacks it into a scratch
root laid out as Gradescope lays out /autograder (source/, submission/, results/), runs
setup.sh there, then run_autograder for four submissions, and checks each results.json
against Gradescope's format and the expected scores:

  solution   the reference files in the mywork/ layout, inside a top folder   full marks
  starter    the starter files, loose at the top                               the starters' score
  misplaced  the reference files one level off, plus a stray file             full marks, the
                                                                               stray file named
  hostile    one of tests/grading/attacks, and nothing for the other exercise 0, "rejected",
                                                                               the missing one named

Prints "check-autograder: N passed, M failed".
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["ch01-physical-memory/page-refs", "ch01-physical-memory/page-lock"]
FILES = {"ch01-physical-memory/page-refs": "page_ref.c",
         "ch01-physical-memory/page-lock": "page_lock.c"}
failures, checked = [], 0


def expect(cond, what):
    global checked
    checked += 1
    if not cond:
        failures.append(what)


def points(key):
    total = 0
    for line in (ROOT / "exercises" / key / "tests" / "points").read_text().splitlines():
        f = line.split()
        if f and not f[0].startswith("#"):
            total += int(f[1])
    return total


def unpack(zip_path, root):
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            z.extract(info, root)
            mode = info.external_attr >> 16
            if mode & 0o111:
                os.chmod(root / info.filename, 0o755)


def check_format(r, label):
    expect(isinstance(r.get("score"), (int, float)), f"{label}: no score")
    expect(isinstance(r.get("tests"), list) and r["tests"], f"{label}: no tests")
    fields = ("name", "score", "max_score", "status", "output", "visibility")
    bad = [t.get("name", "?") for t in r.get("tests", [])
           if any(f not in t for f in fields) or t.get("status") not in ("passed", "failed")]
    expect(not bad, f"{label}: tests out of format: {bad[:3]}")
    expect(r.get("score") == sum(t["score"] for t in r.get("tests", [])),
           f"{label}: score is not the sum of the tests")
    names = {t["name"].rsplit("/", 1)[0] for t in r.get("tests", [])}
    expect(names == set(KEYS), f"{label}: graded {sorted(names)}")


def grade(root, layout, label):
    sub = root / "submission"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir()
    for rel, src in layout.items():
        (sub / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, sub / rel)
    res = subprocess.run([str(root / "run_autograder")], capture_output=True, text=True,
                         env=dict(os.environ, AUTOGRADER_ROOT=str(root)), timeout=600)
    expect(res.returncode == 0, f"{label}: run_autograder exited {res.returncode}: "
                                f"{res.stderr[-300:]}")
    path = root / "results" / "results.json"
    if not path.exists():
        expect(False, f"{label}: no results.json")
        return {"score": None, "tests": [], "output": ""}
    r = json.loads(path.read_text())
    check_format(r, label)
    return r


def main():
    zip_path = ROOT / "build" / "autograder-proof.zip"
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "autograder.py"), "build",
                          "--assignment", *KEYS, "--out", str(zip_path)],
                         capture_output=True, text=True)
    expect(res.returncode == 0, f"building the zip: {res.stderr.strip()}")
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "autograder"
        root.mkdir()
        unpack(zip_path, root)
        expect(not list((root / "source").rglob("solution")), "the zip holds solutions")
        (root / "results").mkdir()
        res = subprocess.run([str(root / "setup.sh")], capture_output=True, text=True,
                             env=dict(os.environ, AUTOGRADER_ROOT=str(root)), timeout=900)
        expect(res.returncode == 0, f"setup.sh exited {res.returncode}: {res.stderr[-400:]}")

        ex = ROOT / "exercises"
        full = sum(points(k) for k in KEYS)
        r = grade(root, {f"mywork/{k}/{f}": ex / k / "solution" / f for k, f in FILES.items()},
                  "solution")
        expect(r["score"] == full, f"solution: scored {r['score']} of {full}")

        subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"), "--starters",
                        "--only", *KEYS, "--out", str(Path(d) / "starters")],
                       capture_output=True)
        starters = json.loads((Path(d) / "starters" / "results.json").read_text())
        r = grade(root, {f: ex / k / "starter" / f for k, f in FILES.items()}, "starter")
        expect(r["score"] == starters.get("score"),
               f"starter: scored {r['score']}, the starters {starters.get('score')}")

        layout = {f"mywork/{k.split('/')[1]}/{f}": ex / k / "solution" / f
                  for k, f in FILES.items()}
        layout["notes.txt"] = ROOT / "README.md"
        r = grade(root, layout, "misplaced")
        expect(r["score"] == full, f"misplaced: scored {r['score']} of {full}")
        expect("notes.txt" in r.get("output", ""), "misplaced: the stray file is not named")

        attack = ROOT / "tests" / "grading" / "attacks" / "libc-override" / KEYS[0] / FILES[KEYS[0]]
        r = grade(root, {f"{KEYS[0]}/{FILES[KEYS[0]]}": attack}, "hostile")
        expect(r["score"] == 0, f"hostile: scored {r['score']}")
        outputs = " ".join(t["output"] for t in r.get("tests", []))
        expect("rejected" in outputs, "hostile: not reported as rejected")
        expect(KEYS[1] in r.get("output", ""), "hostile: the missing exercise is not named")
    if failures:
        print("check-autograder: FAILED", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
    else:
        print("check-autograder: the zip unpacked, set up and graded four submissions exactly")
    print(f"check-autograder: {checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
