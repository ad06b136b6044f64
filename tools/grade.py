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
import fcntl
import functools
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import policy   # noqa: E402
import sandbox  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CC = os.environ.get("CC", "gcc")
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-g", "-O1", "-pthread"]
TEST_TIMEOUT = os.environ.get("GRADE_TEST_TIMEOUT", "5")          # tests without their own
TIMEOUT_MULTIPLIER = os.environ.get("GRADE_TIMEOUT_MULTIPLIER", "2")  # scales every timeout
# A test's budget is CPU time: the suite's timeout times the multiplier, in seconds of
# CPU (a loop is stopped by the work it did, however busy the machine is); a test whose
# process does no work for as long is stopped as asleep (tests/test_main.c).  A busy
# machine stretches wall-clock time, not these, so the wall clock, WALL_SLACK times
# longer, is only a backstop: a loop that gets a sixth of a core still meets its CPU
# budget first.
WALL_SLACK = 6
# A test program reports its verdicts when every test has run, so it must be given time
# to time out in each of its tests (the longest a suite asks for, 5 s, scaled as above)
# plus a margin.
OUTER_TIMEOUT = os.environ.get("GRADE_OUTER_TIMEOUT")
CACHE_DIR = Path(os.environ.get("GRADE_CACHE", ROOT / "build" / "grade-cache"))
COMPILE_TIMEOUT = 30                # compiling or linking one exercise, s
RUN_MEMORY = 2 << 30                # address space of the test program
OUTPUT_LIMIT = 4 << 20              # bytes of stdout and stderr kept per test program
# Any one file the test program writes, its output and Check's own message file included
# (Check records every assertion there, so a test that asserts a million times needs
# room); what is kept of the output is cut to OUTPUT_LIMIT afterwards.
FILE_LIMIT = 64 << 20
JOBS = int(os.environ.get("GRADE_JOBS", str(os.cpu_count() or 1)))
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}
DIFFICULTY = {"1": "①", "2": "②", "3": "③"}


class GradeError(Exception):
    """Something outside the submission prevents grading."""


class SandboxError(GradeError):
    """A sandbox did not start (bwrap said why); worth one more try."""


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
    """The chapter prefix's objects, minus the one the exercise replaces, and that one."""
    pfx = ROOT / "build" / f"ch{ex.chapter}"
    replaced = Path(ex.conf["replaces"]).stem + ".o"
    objs = sorted((pfx / "obj").glob("*.o"))
    if not any(o.name == replaced for o in objs):
        raise GradeError(f"{ex.key}: build/ch{ex.chapter}/obj/{replaced} missing; "
                         f"run 'make libs' first")
    return pfx, [o for o in objs if o.name != replaced], pfx / "obj" / replaced


def first_error(log):
    for line in log.splitlines():
        if "undefined reference" in line:        # the linker's own words, not collect2's
            return line.strip()
    for line in log.splitlines():
        if "error" in line:
            return line.strip()
    lines = [l for l in log.splitlines() if l.strip()]
    return lines[0].strip() if lines else "build failed"


SYMBOL_CACHE = {}
SYMBOL_LOCK = threading.Lock()


def suite_objects(ex, inc_dirs):
    """The exercise's own test code, compiled once for as long as what goes into it is
    unchanged: the same suites serve every submission graded.  An object is filed under a
    hash of everything the compiler reads (the source, every header it could include, the
    command), so the runner and test library serve all of a chapter's exercises, and a
    cache can be shared by trees in different places (the objects hold relative paths
    only).  The cache is written only here, by the grader, never from inside a sandbox;
    each object is compiled under a name of its own and moved into place whole, so that
    graders running side by side never see a half-written one."""
    sources = list(ex.suites) + [ROOT / "tests" / "test_main.c", ROOT / "tests" / "testlib.c"]
    inc = [f"-I{os.path.relpath(d, ROOT)}" for d in inc_dirs]
    headers = hashlib.sha256()
    for h in sorted(h for d in inc_dirs for h in d.glob("*.h")):
        headers.update(h.name.encode() + b"\0" + h.read_bytes() + b"\0")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return [cached_object(src, inc, headers.copy()) for src in sources]


def cached_object(src, inc, key):
    rel = os.path.relpath(src, ROOT)
    cmd = [CC] + CFLAGS + inc + ["-c", rel]
    key.update(repr(cmd).encode() + b"\0" + src.read_bytes())
    obj = CACHE_DIR / f"{key.hexdigest()[:32]}-{src.stem}.o"
    # One grader compiles, the others wait for it and then find the object there.
    with open(CACHE_DIR / f".{obj.stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not obj.exists():
            tmp = CACHE_DIR / f".{obj.stem}.{os.getpid()}.{threading.get_ident()}.o"
            # Paths relative to the repository in __FILE__, so that Check's messages,
            # and what a verdict says, do not depend on where the repository lies.
            res = subprocess.run(cmd + [f"-ffile-prefix-map={ROOT}=.", "-o", str(tmp)],
                                 capture_output=True, text=True, cwd=ROOT)
            if res.returncode != 0:
                tmp.unlink(missing_ok=True)
                raise GradeError(f"{rel}: the test suite does not compile:\n{res.stderr}")
            os.replace(tmp, obj)
    return obj


def defined_globals(objs):
    """The global symbols a set of the book's objects defines.  Each object is read once
    per grading run, and all the new ones with a single readelf: every exercise of a chapter
    links the same prefix objects."""
    with SYMBOL_LOCK:
        missing = [o for o in objs if o not in SYMBOL_CACHE]
        if missing:
            SYMBOL_CACHE.update(policy.defined_symbols_of(missing))
        return set().union(*(SYMBOL_CACHE[o] for o in objs))


@functools.lru_cache(maxsize=None)
def link_flags():
    """gold where the toolchain has it, as the Makefile decides (LINK_FLAGS): half the time
    of the default linker, on a link per graded exercise."""
    if "LINK_FLAGS" in os.environ:
        return tuple(os.environ["LINK_FLAGS"].split())
    res = subprocess.run([CC, "-fuse-ld=gold", "-Wl,--version"], capture_output=True,
                         text=True)
    return ("-fuse-ld=gold",) if res.stdout.startswith("GNU gold") else ()


@functools.lru_cache(maxsize=None)
def check_flags():
    res = subprocess.run(["pkg-config", "--cflags", "--libs", "check"],
                         capture_output=True, text=True)
    return tuple(res.stdout.split()) if res.returncode == 0 else ("-lcheck",)


def stage(ex, src_dir, work):
    """Lay out what the sandbox may see: the submitted files (copied, after the file
    checks), and the objects to link (hard links of the prefix's objects minus the
    replaced one, and of the suite's).  Returns a reason to reject, or None."""
    for d in ("src", "out", "link", "run"):
        (work / d).mkdir(parents=True)
    for name in ex.files:
        reason = policy.check_file(src_dir / name, name)
        if reason:
            return reason
        data = policy.read_source(src_dir / name)
        if len(data) > policy.MAX_BYTES:
            return f"{name}: larger than {policy.MAX_BYTES // 1024} KiB"
        (work / "src" / name).write_bytes(data)
    return None


def link_inputs(ex, work, pfx, objs, suites):
    for i, o in enumerate(list(objs) + list(suites)):
        dst = work / "link" / f"{i:03d}-{o.name}"
        try:
            os.link(o, dst)
        except OSError:
            shutil.copyfile(o, dst)


def build(ex, src_dir, work):
    """Check, compile and link the submission in one sandbox run, then apply the policy
    to what the compiler read and to the objects it produced; nothing the submission
    wrote runs before that.  Returns (program or None, compiler log, reason for a policy
    rejection or None)."""
    reason = stage(ex, src_dir, work)
    if reason:
        return None, "", reason
    pfx, objs, replaced = prefix_objects(ex)
    inc_dir = pfx / "code" / "include"
    chapter_headers = {h.name for h in inc_dir.glob("*.h")}
    own_headers = set().union(*(policy.system_includes(f.read_text())
                                for f in (ex.path / "starter").glob("*")))
    for name in ex.files:
        text = (work / "src" / name).read_bytes().decode(errors="replace")
        reason = policy.check_includes(text, name, chapter_headers, own_headers)
        if reason:
            return None, "", reason
    status, log = in_build_sandbox(compile_script(ex), inc_dir, work)
    if status is None:
        return None, log, f"the compiler did not finish in {COMPILE_TIMEOUT} s"
    if status != 0:
        return None, log, None
    reference_defs, library_defs = defined_globals([replaced]), defined_globals(objs)
    # An extension exercise may ask for functions the book does not have (`defines`),
    # and allow calls the book's file does not make (`calls`, below).
    reference_defs = reference_defs | set(ex.conf.get("defines", "").split())
    reference_calls = (policy.undefined_symbols(replaced) |
                       set(ex.conf.get("calls", "").split()))
    for name in ex.files:
        stem = Path(name).stem
        deps = (work / "out" / f"{stem}.d").read_text(errors="replace")
        reason = (policy.check_dependencies(deps, name, ALLOWED_DEP_DIRS) or
                  policy.check_object(work / "out" / f"{stem}.o", name, reference_defs,
                                      library_defs, reference_calls))
        if reason:
            return None, log, reason
    suites = suite_objects(ex, [inc_dir, ROOT / "tests"])
    link_inputs(ex, work, pfx, objs, suites)
    status, llog = in_build_sandbox(link_script(ex, work), inc_dir, work)
    log += llog
    if status is None:
        return None, log, f"the linker did not finish in {COMPILE_TIMEOUT} s"
    return (work / "out" / "tests" if status == 0 else None), log, None


def in_build_sandbox(script, inc_dir, work):
    """Run a compile or link script where it sees only the chapter's headers, the
    submission, the objects to link and its output directory."""
    status, log, _ = sandbox.run(["/bin/sh", "-c", script],
                                 ro=[(inc_dir, "/grade/include"), (work / "src", "/grade/src"),
                                     (work / "link", "/grade/link")],
                                 rw=[(work / "out", "/grade/out")], timeout=COMPILE_TIMEOUT,
                                 limits=sandbox.Limits(as_bytes=1 << 30, cpu_s=COMPILE_TIMEOUT))
    if status == 1 and log.startswith("bwrap:"):
        raise SandboxError(f"the sandbox did not start: {log.strip()[:200]}")
    return status, log


ALLOWED_DEP_DIRS = ["/grade/include", "/grade/src", "/usr/include", "/usr/lib/gcc"]


def quote(arg):
    return "'" + arg.replace("'", "'\\''") + "'"


def compile_script(ex):
    """Each submitted file compiled with its dependency list."""
    cmds = []
    for name in ex.files:
        stem = Path(name).stem
        cmds.append(" ".join(quote(a) for a in [CC] + CFLAGS + [
            "-I/grade/include", "-MD", "-MF", f"/grade/out/{stem}.d", "-c",
            f"/grade/src/{name}", "-o", f"/grade/out/{stem}.o"]))
    return " && ".join(cmds)


def link_script(ex, work):
    """The test program: the suite, the prefix minus the replaced file, the submission."""
    objs = sorted(f"/grade/link/{o.name}" for o in (work / "link").iterdir())
    link = ([CC] + CFLAGS + list(link_flags()) + objs +
            [f"/grade/out/{Path(n).stem}.o" for n in ex.files] + list(check_flags()) +
            ["-o", "/grade/out/tests"])
    return " ".join(quote(a) for a in link)


def cpu_budget():
    """Seconds of CPU a test may use (whole seconds, as RLIMIT_CPU counts them)."""
    return max(1, math.ceil(float(TEST_TIMEOUT) * float(TIMEOUT_MULTIPLIER)))


def explain(message):
    """Check's words for a test stopped by its CPU or sleep budget, said for a student."""
    if "signal 24" in message:
        return (f"stopped after {cpu_budget()} s of CPU time (an endless loop, or far "
                f"too much work): {message}")
    if "signal 14" in message:
        return (f"stopped after {cpu_budget()} s asleep: every thread was waiting for "
                f"something that never came (a deadlock, or a wait nobody ends): {message}")
    return message


RESULT_RE = re.compile(r"^R (passed|failure|error) (\S+) (\S+) ?(.*)$")


def parse_results(text):
    """Map test id -> (result, location, message) from the runner's channel.  Only a
    report that ends with its END line counts: a runner that died reports nothing."""
    lines = text.splitlines()
    if not lines or not re.fullmatch(r"END \d+", lines[-1]):
        return {}, ("grader: the runner's report is damaged" if "BAD-LAYOUT" in text
                    else "")
    results = {}
    for line in lines[:-1]:
        m = RESULT_RE.match(line)
        if m and m.group(2) not in results:
            kind = {"passed": "success", "failure": "failure", "error": "error"}[m.group(1)]
            results[m.group(2)] = (kind, m.group(3), m.group(4))
    return results, ""


def run(ex, program, work):
    """Run the test program in the sandbox; verdicts come over the runner's channel."""
    rfd, wfd = os.pipe()
    env = {"CK_FORK": "yes", "CK_DEFAULT_TIMEOUT": TEST_TIMEOUT,
           "CK_TIMEOUT_MULTIPLIER": str(float(TIMEOUT_MULTIPLIER) * WALL_SLACK),
           "SIM_GRADE_CPU": str(cpu_budget()), "CK_VERBOSITY": "normal",
           "CK_XML_LOG_FILE_NAME": "/grade/run/check.xml",
           "CK_TAP_LOG_FILE_NAME": "/grade/run/check.tap", "SIM_GRADE_FD": str(wfd)}
    outer = int(OUTER_TIMEOUT) if OUTER_TIMEOUT else \
        int(len(ex.tests) * 5 * float(TIMEOUT_MULTIPLIER) * WALL_SLACK) + 30
    status, _, channel = sandbox.run(["/grade/prog/tests"],
                                     ro=[(program.parent, "/grade/prog")],
                                     rw=[(work / "run", "/grade/run")], env=env,
                                     timeout=outer, stdout=work / "output.txt",
                                     limits=sandbox.Limits(as_bytes=RUN_MEMORY, cpu_s=outer,
                                                           fsize=FILE_LIMIT),
                                     channel=(rfd, wfd))
    results, problem = parse_results(channel)
    if (work / "output.txt").stat().st_size > OUTPUT_LIMIT:
        os.truncate(work / "output.txt", OUTPUT_LIMIT)
    output = (work / "output.txt").read_bytes().decode(errors="replace")
    if problem:
        raise GradeError(f"{ex.key}: {problem}")
    if status == 1 and not results and output.startswith("bwrap:"):
        # The sandbox never started: the machine's fault, not the submission's.
        raise SandboxError(f"the sandbox did not start: {output.strip()[:200]}")
    if status is None:
        note = f"test program killed after {outer} s"
    elif status not in (0, 1):
        note = f"test program exited with status {status}"
    else:
        note = "" if results else f"the test program exited ({status}) without its report"
    return results, output, note


def misplaced(src_dir, names):
    """Files of these names elsewhere in the submission (one folder off, say), so that a
    student who laid the folders out wrong is told where each file should go."""
    top = src_dir.parent.parent if src_dir.parent.parent.is_dir() else None
    found = []
    for name in names:
        for path in sorted(top.rglob(name)) if top else []:
            if path.parent != src_dir and path.is_file():
                found.append((name, str(path.relative_to(top))))
                break
    return found


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

    missing = [f for f in ex.files if not os.path.lexists(src_dir / f)] if src_dir \
        else ex.files
    if missing:
        reason = "not submitted" if len(missing) == len(ex.files) else \
            "missing file(s): " + ", ".join(missing)
        elsewhere = misplaced(src_dir, missing) if src_dir else []
        if elsewhere:
            reason += "; found " + ", ".join(
                f"{found} (it belongs at {ex.chapter_dir}/{ex.name}/{name})"
                for name, found in elsewhere)
        return entries(lambda t: 0, lambda t: reason), reason
    program, log, rejected = build(ex, src_dir, work)
    (work / "build.log").write_text(log)
    if rejected:
        reason = "rejected: " + rejected
        return entries(lambda t: 0, lambda t: reason), reason
    if program is None:
        reason = "does not compile: " + first_error(log)
        return entries(lambda t: 0, lambda t: reason + "\n\n" + log[:4000]), reason
    results, output, note = run(ex, program, work)

    def earned(t):
        r = results.get(t["id"])
        return t["points"] if r and r[0] == "success" else 0

    def output_for(t):
        r = results.get(t["id"])
        if r is None:
            return "did not run to completion" + (f" ({note})" if note else "")
        if r[0] == "success":
            return "passed"
        return f"{r[1]}: {explain(r[2])}"

    failing = [t for t in ex.tests if not earned(t)]
    summary = "all tests pass" if not failing else \
        f"{failing[0]['id']}: {output_for(failing[0])}"
    return entries(earned, output_for), summary


def grade_retrying(ex, src_dir, out):
    """grade_exercise, tried once more if a sandbox failed to start: a verdict is never
    a zero that the machine earned, and a second failure stops the grading loudly."""
    try:
        return grade_exercise(ex, src_dir, out)
    except SandboxError as e:
        print(f"grade: {ex.key}: {e}; trying once more", file=sys.stderr)
        time.sleep(1)
        return grade_exercise(ex, src_dir, out)


def write_atomically(path, text):
    """Write a file that readers see whole or not at all."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def grade_submission(exercises, source_of, out, pool):
    """Grade every exercise of one submission into out/; returns (tests, rows)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").unlink(missing_ok=True)   # never report an old verdict
    start = time.time()
    graded = list(pool.map(lambda ex: grade_retrying(ex, source_of(ex), out), exercises))
    tests, rows = [], []
    for ex, (entries, summary) in zip(exercises, graded):
        tests += entries
        rows.append((ex, sum(e["score"] for e in entries), summary))
    score = sum(t["score"] for t in tests)
    total = sum(t["max_score"] for t in tests)
    results = {"score": score, "execution_time": round(time.time() - start, 1),
               "output": f"Score: {score}/{total}", "visibility": "visible",
               "stdout_visibility": "hidden", "tests": tests}
    write_atomically(out / "results.json", json.dumps(results, indent=2) + "\n")
    return tests, rows


def print_table(rows, tests):
    width = max(len(ex.key) for ex, _, _ in rows) + 2
    for ex, got, summary in rows:
        mark = DIFFICULTY.get(ex.conf["difficulty"], "")
        print(f"{mark} {ex.key:<{width}} {got:>3}/{ex.max_points:<3} {summary}")
    print(f"Score: {sum(t['score'] for t in tests)}/{sum(t['max_score'] for t in tests)}")


def report_unsolved(rows, tests, mywork, note=""):
    """A student's `make check`: every exercise below full marks is named, with why; the
    ones not started first, so that the ones in progress end the report, where a short
    view of it (make check's) shows them."""
    unsolved = [(ex, got, summary) for ex, got, summary in rows if got < ex.max_points]
    unsolved.sort(key=lambda r: r[2] != "not submitted")     # stable: chapter order kept
    width = max(len(ex.key) for ex, _, _ in rows) + 2
    for ex, got, summary in unsolved:
        why = (f"not started: copy its starter/ into {mywork}/{ex.key}/"
               if summary == "not submitted" else summary)
        print(f"unsolved: {ex.key:<{width}} {got:>3}/{ex.max_points:<3} {why}")
    if note:
        print(note)
    print(f"Score: {sum(t['score'] for t in tests)}/{sum(t['max_score'] for t in tests)}")
    print(f"exercises: {len(rows) - len(unsolved)} passed, {len(unsolved)} failed")
    return 1 if unsolved else 0


def grade_batch(exercises, batch, out, pool):
    """One folder per student under batch/: each graded into out/STUDENT/results.json,
    and out/summary.csv with one line per student and one column per exercise."""
    students = sorted(d for d in batch.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not students:
        raise GradeError(f"no student folders in {batch}")
    lines = ["student,score,max," + ",".join(ex.key for ex in exercises)]
    for student in students:
        tests, rows = grade_submission(
            exercises, lambda ex: student / ex.chapter_dir / ex.name, out / student.name, pool)
        score = sum(t["score"] for t in tests)
        total = sum(t["max_score"] for t in tests)
        print(f"{student.name}: {score}/{total}")
        lines.append(",".join([student.name, str(score), str(total)] +
                              [str(got) for _, got, _ in rows]))
    write_atomically(out / "summary.csv", "\n".join(lines) + "\n")
    print(f"grade-all: {len(students)} submissions; results in {out}/STUDENT/results.json, "
          f"summary in {out}/summary.csv")


def main():
    ap = argparse.ArgumentParser(description="Grade exercise submissions.")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--submission", type=Path, help="directory of chNN-slug/NAME/ files")
    group.add_argument("--batch", type=Path, help="directory of one submission per student")
    group.add_argument("--solutions", action="store_true", help="grade every solution/")
    group.add_argument("--starters", action="store_true", help="grade every starter/ (default)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "grade")
    ap.add_argument("--only", nargs="*", help="exercise keys chNN-slug/NAME to grade")
    ap.add_argument("--expect", choices=["full", "partial", "solved"],
                    help="exit 1 unless every exercise scores full / below full marks; "
                         "solved: as full, for a student's own work, naming each unsolved one")
    args = ap.parse_args()

    try:
        problem = sandbox.available()
        if problem:
            raise GradeError(problem)
        exercises = find_exercises(set(args.only) if args.only else None)
        if not exercises:
            raise GradeError("no exercises found")
        mywork, note = args.submission, ""
        if args.expect == "solved" and args.submission and not args.submission.exists():
            note = (f"grade: {args.submission}/ does not exist yet: every exercise is "
                    f"unsolved (the README's *Exercises and grading* says how to start one)")
            args.submission = ROOT / "build" / "no-submission"
            args.submission.mkdir(parents=True, exist_ok=True)
        for given in (args.submission, args.batch):
            if given is not None and not given.is_dir():
                raise GradeError(f"submission directory '{given}' does not exist")
        out = args.out.resolve()

        def source_of(ex):
            if args.solutions:
                return ex.path / "solution"
            if args.submission is not None:
                return args.submission.resolve() / ex.chapter_dir / ex.name
            return ex.path / "starter"

        # Exercises are independent: grade them side by side, report them in order.
        with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
            if args.batch is not None:
                grade_batch(exercises, args.batch.resolve(), out, pool)
                return 0
            tests, rows = grade_submission(exercises, source_of, out, pool)
    except GradeError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2

    if args.expect == "solved":
        return report_unsolved(rows, tests, mywork, note)
    print_table(rows, tests)
    if args.expect == "full":
        # Every test of every reference solution must pass.
        bad = [t for t in tests if t["score"] < t["max_score"]]
        for t in bad:
            why = (t["output"].strip().splitlines() or ["no output"])[0][:200]
            print(f"grade: a reference solution fails {t['name']}: {why}", file=sys.stderr)
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
