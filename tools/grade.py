#!/usr/bin/env python3
"""Grade exercise submissions with their Check suites.

    tools/grade.py [--submission DIR | --solutions | --starters] [--out DIR]

An exercise lives in exercises/chNN-slug/NAME/ with exercise.conf (title, difficulty,
replaces = the library file the student's file stands in for), starter/, solution/,
tests/*.c (one Check suite) and tests/points (one line per test: NAME POINTS
[visible|hidden|after_due_date|after_published]).

A submission directory holds DIR/chNN-slug/NAME/<the starter's file names>.  Each
exercise is compiled with -Wall -Wextra against its chapter's prefix library (build/chNN,
without the replaced file), its suite runs in fork mode with a timeout per test and an
outer timeout, and only tests that the Check XML log records as passed earn points: a
test missing from the log (the program crashed, hung, or exited before running it)
earns nothing, whatever the exit code says.

Writes build/grade/results.json (Gradescope autograder format) and per exercise the raw
Check XML and TAP logs and the compiler log.  Exits 0 when grading completed, whatever
the score; 2 when it could not grade.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CC = os.environ.get("CC", "gcc")
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-g", "-O1", "-pthread"]
TEST_TIMEOUT = os.environ.get("GRADE_TEST_TIMEOUT", "5")          # tests without their own
TIMEOUT_MULTIPLIER = os.environ.get("GRADE_TIMEOUT_MULTIPLIER", "1")  # scales every timeout
OUTER_TIMEOUT = int(os.environ.get("GRADE_OUTER_TIMEOUT", "120"))
JOBS = int(os.environ.get("GRADE_JOBS", str(os.cpu_count() or 1)))
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}
DIFFICULTY = {"1": "①", "2": "②", "3": "③"}


class GradeError(Exception):
    """Something outside the submission prevents grading."""


def read_conf(path):
    conf = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            conf[key.strip()] = value.strip()
    for key in ("title", "difficulty", "replaces"):
        if key not in conf:
            raise GradeError(f"{path}: missing '{key}'")
    return conf


def read_points(path):
    tests = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) not in (2, 3) or not fields[1].isdigit():
            raise GradeError(f"{path}:{n}: expected 'TEST POINTS [VISIBILITY]'")
        vis = fields[2] if len(fields) == 3 else "visible"
        if vis not in VISIBILITIES:
            raise GradeError(f"{path}:{n}: unknown visibility '{vis}'")
        tests.append({"id": fields[0], "points": int(fields[1]), "visibility": vis})
    if not tests:
        raise GradeError(f"{path}: no tests")
    return tests


class Exercise:
    def __init__(self, path):
        self.path = path
        self.chapter_dir = path.parent.name           # chNN-slug
        self.name = path.name
        self.key = f"{self.chapter_dir}/{self.name}"
        self.chapter = self.chapter_dir[2:4]
        self.conf = read_conf(path / "exercise.conf")
        self.tests = read_points(path / "tests" / "points")
        self.files = sorted(p.name for p in (path / "starter").iterdir() if p.is_file())
        self.suites = sorted((path / "tests").glob("*.c"))
        if not self.files or not self.suites:
            raise GradeError(f"{path}: needs starter files and a tests/*.c suite")

    @property
    def max_points(self):
        return sum(t["points"] for t in self.tests)


def find_exercises(only=None):
    exercises = []
    for conf in sorted((ROOT / "exercises").glob("ch[0-9][0-9]-*/*/exercise.conf")):
        ex = Exercise(conf.parent)
        if only is None or ex.key in only:
            exercises.append(ex)
    return exercises


def prefix_objects(ex):
    """The chapter prefix's objects, minus the one the exercise replaces."""
    pfx = ROOT / "build" / f"ch{ex.chapter}"
    replaced = Path(ex.conf["replaces"]).stem + ".o"
    objs = sorted((pfx / "obj").glob("*.o"))
    if not any(o.name == replaced for o in objs):
        raise GradeError(f"{ex.key}: build/ch{ex.chapter}/obj/{replaced} missing; "
                         f"run 'make libs' first")
    return pfx, [str(o) for o in objs if o.name != replaced]


def first_error(log):
    for line in log.splitlines():
        if "error" in line:
            return line.strip()
    lines = [l for l in log.splitlines() if l.strip()]
    return lines[0].strip() if lines else "build failed"


CACHE_LOCK = threading.Lock()


def suite_objects(ex, inc):
    """The exercise's own test code, compiled once and reused while its sources and the
    chapter's headers are unchanged: the same suites serve every submission graded."""
    cache = ROOT / "build" / "grade-cache" / ex.chapter_dir / ex.name
    sources = list(ex.suites) + [ROOT / "tests" / "test_main.c", ROOT / "tests" / "testlib.c"]
    deps = sources + list((ROOT / "tests").glob("*.h")) + \
        list((ROOT / "build" / f"ch{ex.chapter}" / "code" / "include").glob("*.h"))
    newest = max(d.stat().st_mtime for d in deps)
    objs = []
    with CACHE_LOCK:
        cache.mkdir(parents=True, exist_ok=True)
    for src in sources:
        obj = cache / (src.stem + ".o")
        if not obj.exists() or obj.stat().st_mtime < newest:
            tmp = obj.with_suffix(".tmp.o")
            res = subprocess.run([CC] + CFLAGS + inc + ["-c", str(src), "-o", str(tmp)],
                                 capture_output=True, text=True, cwd=ROOT)
            if res.returncode != 0:
                raise GradeError(f"{ex.key}: the test suite does not compile:\n{res.stderr}")
            os.replace(tmp, obj)
        objs.append(str(obj))
    return objs


def build(ex, src_dir, work):
    """Compile the submitted files and link the exercise's test program."""
    pfx, objs = prefix_objects(ex)
    inc = ["-I" + str(pfx / "code" / "include"), "-I" + str(ROOT / "tests")]
    check = subprocess.run(["pkg-config", "--cflags", "--libs", "check"],
                           capture_output=True, text=True)
    check_flags = check.stdout.split() if check.returncode == 0 else ["-lcheck"]
    suites = suite_objects(ex, inc)
    student_objs, log = [], ""
    for name in ex.files:
        obj = work / (Path(name).stem + ".o")
        cmd = [CC] + CFLAGS + inc + ["-c", str(src_dir / name), "-o", str(obj)]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        log += res.stdout + res.stderr
        if res.returncode != 0:
            return None, log
        student_objs.append(str(obj))
    program = work / "tests"
    cmd = [CC] + CFLAGS + suites + student_objs + objs + check_flags + ["-o", str(program)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    log += res.stdout + res.stderr
    return (program if res.returncode == 0 else None), log


TEST_RE = re.compile(r'<test result="(\w+)">(.*?)</test>', re.S)


def tag(block, name):
    m = re.search(rf"<{name}>(.*?)</{name}>", block, re.S)
    return unescape(m.group(1).strip()) if m else ""


def unescape(text):
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def parse_xml_log(text):
    """Map test id -> (result, location, message).  Lenient: the log of a program that
    died is unterminated, and only complete <test> elements count."""
    results = {}
    for result, block in TEST_RE.findall(text):
        tid = tag(block, "id")
        if tid and tid not in results:
            results[tid] = (result, tag(block, "fn"), tag(block, "message"))
    return results


def run(ex, program, work):
    xml, tap = work / "check.xml", work / "check.tap"
    for f in (xml, tap):
        f.unlink(missing_ok=True)
    env = dict(os.environ, CK_FORK="yes", CK_DEFAULT_TIMEOUT=TEST_TIMEOUT,
               CK_TIMEOUT_MULTIPLIER=TIMEOUT_MULTIPLIER,
               CK_XML_LOG_FILE_NAME=str(xml), CK_TAP_LOG_FILE_NAME=str(tap),
               CK_VERBOSITY="normal")
    env.pop("CK_RUN_CASE", None)
    env.pop("CK_RUN_SUITE", None)
    try:
        res = subprocess.run([str(program)], cwd=ROOT, env=env, capture_output=True,
                             timeout=OUTER_TIMEOUT, stdin=subprocess.DEVNULL)
        output = (res.stdout + res.stderr).decode(errors="replace")
        note = "" if res.returncode in (0, 1) else f"test program exited with status {res.returncode}"
    except subprocess.TimeoutExpired as e:
        output = ((e.stdout or b"") + (e.stderr or b"")).decode(errors="replace")
        note = f"test program killed after {OUTER_TIMEOUT} s"
    log = xml.read_text(errors="replace") if xml.exists() else ""
    return parse_xml_log(log), output, note


def grade_exercise(ex, src_dir, out):
    """Returns a list of Gradescope test entries and a one-line summary."""
    work = out / ex.chapter_dir / ex.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    def entries(earned, output_for):
        return [{"name": f"{ex.key}/{t['id']}", "score": earned(t), "max_score": t["points"],
                 "status": "passed" if earned(t) == t["points"] else "failed",
                 "output": output_for(t), "visibility": t["visibility"]}
                for t in ex.tests]

    missing = [f for f in ex.files if not (src_dir / f).is_file()] if src_dir else ex.files
    if missing:
        reason = "not submitted" if len(missing) == len(ex.files) else \
            "missing file(s): " + ", ".join(missing)
        return entries(lambda t: 0, lambda t: reason), reason
    program, log = build(ex, src_dir, work)
    (work / "build.log").write_text(log)
    if program is None:
        reason = "does not compile: " + first_error(log)
        return entries(lambda t: 0, lambda t: reason + "\n\n" + log[:4000]), reason
    results, output, note = run(ex, program, work)
    (work / "output.txt").write_text(output)

    def earned(t):
        r = results.get(t["id"])
        return t["points"] if r and r[0] == "success" else 0

    def output_for(t):
        r = results.get(t["id"])
        if r is None:
            return "did not run to completion" + (f" ({note})" if note else "")
        if r[0] == "success":
            return "passed"
        return f"{r[1]}: {r[2]}"

    failing = [t for t in ex.tests if not earned(t)]
    summary = "all tests pass" if not failing else \
        f"{failing[0]['id']}: {output_for(failing[0])}"
    return entries(earned, output_for), summary


def main():
    ap = argparse.ArgumentParser(description="Grade exercise submissions.")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--submission", type=Path, help="directory of chNN-slug/NAME/ files")
    group.add_argument("--solutions", action="store_true", help="grade every solution/")
    group.add_argument("--starters", action="store_true", help="grade every starter/ (default)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "grade")
    ap.add_argument("--only", nargs="*", help="exercise keys chNN-slug/NAME to grade")
    ap.add_argument("--expect", choices=["full", "partial"],
                    help="exit 1 unless every exercise scores full / below full marks")
    args = ap.parse_args()

    start = time.time()
    try:
        exercises = find_exercises(set(args.only) if args.only else None)
        if not exercises:
            raise GradeError("no exercises found")
        if args.submission is not None and not args.submission.is_dir():
            raise GradeError(f"submission directory '{args.submission}' does not exist")
        out = args.out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        tests, rows = [], []

        def source_of(ex):
            if args.solutions:
                return ex.path / "solution"
            if args.submission is not None:
                return args.submission.resolve() / ex.chapter_dir / ex.name
            return ex.path / "starter"

        # Exercises are independent: grade them side by side, report them in order.
        with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
            graded = list(pool.map(lambda ex: grade_exercise(ex, source_of(ex), out),
                                   exercises))
        for ex, (entries, summary) in zip(exercises, graded):
            tests += entries
            rows.append((ex, sum(e["score"] for e in entries), summary))
    except GradeError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2

    score = sum(t["score"] for t in tests)
    total = sum(t["max_score"] for t in tests)
    width = max(len(ex.key) for ex, _, _ in rows) + 2
    for ex, got, summary in rows:
        mark = DIFFICULTY.get(ex.conf["difficulty"], "")
        print(f"{mark} {ex.key:<{width}} {got:>3}/{ex.max_points:<3} {summary}")
    print(f"Score: {score}/{total}")
    results = {"score": score, "execution_time": round(time.time() - start, 1),
               "output": f"Score: {score}/{total}", "visibility": "visible",
               "stdout_visibility": "hidden", "tests": tests}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.expect == "full":
        # Every test of every reference solution must pass.
        bad = [t["name"] for t in tests if t["score"] < t["max_score"]]
        for name in bad:
            print(f"grade: a reference solution fails {name}", file=sys.stderr)
        print(f"solutions: {len(tests) - len(bad)} passed, {len(bad)} failed")
        return 1 if bad else 0
    if args.expect == "partial":
        # Every starter must fail at least one of its tests.
        bad = [ex.key for ex, got, _ in rows if got >= ex.max_points]
        for key in bad:
            print(f"grade: the starter of {key} scores full marks: its tests cannot fail",
                  file=sys.stderr)
        print(f"starters: {len(rows) - len(bad)} passed, {len(bad)} failed")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
