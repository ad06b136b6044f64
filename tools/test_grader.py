#!/usr/bin/env python3
"""The grader's own test: hostile and fair submissions, each with the verdict it must get.

* tests/grading/hostile/: one submission whose exercises break in the ways students'
  code breaks (a crash, a loop, a compile error, nothing submitted, a constructor that
  leaves, noisy output); each must lose exactly the tests it broke.
* tests/grading/attacks/NAME/: one submission per attack on the grader itself (see
  tests/grading/README.md); each must earn no more than the starter, be rejected with a
  reason, leave no process behind, and change nothing the next submission is graded with.
* tests/grading/fair/NAME/: correct code that behaves badly but fairly (floods stdout);
  it must earn full marks, and the grader must keep a bounded part of its output.
* The sandbox itself: what a program inside it can see, reach and leave behind.
* Two graders at once over the same repository: both complete, both exact.

Prints "check-grader: N passed, M failed" and exits 1 on any failure.
"""

import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sandbox  # noqa: E402

GRADING = ROOT / "tests" / "grading"
OUT = ROOT / "build" / "grade-hostile"
TARGET = "ch01-physical-memory/page-refs"
failures = []
checked = 0


def expect(cond, what):
    global checked
    checked += 1
    if not cond:
        failures.append(what)


def points_of(key):
    table = {}
    for line in (ROOT / "exercises" / key / "tests" / "points").read_text().splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            table[fields[0]] = int(fields[1])
    return table


def grade(*args, env_extra=None, timeout=600):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def results_of(path):
    return json.loads(Path(path).read_text())


def by_key(results):
    tests = {}
    for t in results["tests"]:
        key, test = t["name"].rsplit("/", 1)
        tests.setdefault(key, {})[test] = t
    return tests


ATTACK_CACHE = ROOT / "build" / "grade-cache-attacks"


def fingerprint():
    """What a submission must never change: the tools, the exercises, the chapters'
    libraries and the cache of suite objects the attacks are graded with (a cache of
    their own, so that graders running alongside do not change it either)."""
    h = hashlib.sha256()
    for top in ("tools", "exercises", "tests/grading", ATTACK_CACHE.relative_to(ROOT)):
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(ROOT)).encode())
                h.update(p.read_bytes())
    for p in sorted((ROOT / "build").glob("ch*/obj/*.o")):
        h.update(p.read_bytes())
    return h.hexdigest()


def leftovers(marker, grace=5.0):
    """Processes that grading may have left: anything whose command line names the
    directory a check graded into (its sandboxes bind it).  The kernel kills what is
    left in a sandbox's pid namespace when the sandbox ends, but the dying take a moment
    to disappear on a busy machine: only what is still there after `grace` seconds
    counts."""
    deadline = time.monotonic() + grace
    while True:
        res = subprocess.run(["ps", "-eo", "pid,stat,args"], capture_output=True, text=True)
        found = [l for l in res.stdout.splitlines() if marker in l and "ps -eo" not in l]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def check_hostile():
    res = grade("--submission", str(GRADING / "hostile"), "--out", str(OUT),
                env_extra={"GRADE_TIMEOUT_MULTIPLIER": "0.2"})
    expect(res.returncode == 0, f"grader exited {res.returncode}: {res.stderr.strip()}")
    results = results_of(OUT / "results.json")
    expect(results["score"] == sum(t["score"] for t in results["tests"]),
           "results.json: score is not the sum of the tests")
    tests = by_key(results)
    for key, got in tests.items():
        expected = points_of(key)
        expect(set(got) == set(expected), f"{key}: results.json lists {sorted(got)}")
        for test, pts in expected.items():
            t = got.get(test, {})
            expect(t.get("max_score") == pts, f"{key}/{test}: max_score {t.get('max_score')}")
            expect(t.get("visibility") in ("visible", "hidden", "after_due_date",
                                           "after_published"), f"{key}/{test}: visibility")

    def score(key):
        return sum(t["score"] for t in tests[key].values())

    def outputs(key):
        return " ".join(t["output"] for t in tests[key].values())

    key = "ch01-physical-memory/page-refs"
    expect(score(key) == 0, f"{key}: exit(0) in a constructor earned points")
    expect("rejected" in outputs(key) and "exit" in outputs(key),
           f"{key}: the constructor's exit is not reported")
    key = "ch01-physical-memory/page-lock"
    passing = {"trylock_takes_a_free_lock", "unlocking_an_unlocked_page_warns"}
    for test, t in tests[key].items():
        want = points_of(key)[test] if test in passing else 0
        expect(t["score"] == want, f"{key}/{test}: scored {t['score']}, expected {want}")
    expect("signal 11" in outputs(key), f"{key}: the crash is not reported")
    key = "ch01-physical-memory/frame-check"
    expect(score(key) == 0 and "not submitted" in outputs(key), f"{key}: not 'not submitted'")
    key = "ch02-address-spaces/dontneed"
    looping = tests[key].get("private_pages_read_zero_and_are_freed", {}).get("output", "")
    expect(score(key) == 0 and "s of CPU time" in looping,
           f"{key}: the loop is not reported as stopped by its CPU budget")
    key = "ch03-mmu-notifiers/release"
    expect(score(key) == 0 and "s asleep" in outputs(key),
           f"{key}: sleeping forever is not reported as asleep")
    key = "ch02-address-spaces/pte-walk"
    expect(score(key) == 0 and "does not compile" in outputs(key) and
           "no_such_field" in outputs(key), f"{key}: the compiler's error is not shown")
    key = "ch02-address-spaces/cow-break"
    expect(score(key) == sum(points_of(key).values()),
           f"{key}: correct code with a noisy stdout lost points")
    expect(not any("made_up" in n for n in tests.get(key, {})), "a forged test was counted")


def check_attacks(starter_score):
    cache = {"GRADE_CACHE": str(ATTACK_CACHE)}
    out = ROOT / "build" / "grade-attacks"
    grade("--starters", "--only", TARGET, "--out", str(out / "warm"), env_extra=cache)
    before = fingerprint()
    res = grade("--batch", str(GRADING / "attacks"), "--only", TARGET, "--out", str(out),
                env_extra=cache)
    expect(res.returncode == 0, f"batch grading exited {res.returncode}: {res.stderr.strip()}")
    for attack in sorted(d.name for d in (GRADING / "attacks").iterdir() if d.is_dir()):
        path = out / attack / "results.json"
        if not path.exists():
            expect(False, f"attack {attack}: no results.json")
            continue
        r = results_of(path)
        outputs = " ".join(t["output"] for t in r["tests"])
        expect(r["score"] <= starter_score,
               f"attack {attack}: scored {r['score']}, the starter {starter_score}")
        expect("rejected" in outputs, f"attack {attack}: not reported as rejected: "
                                      f"{outputs[:120]}")
    summary = (out / "summary.csv").read_text().splitlines() if (out / "summary.csv").exists() \
        else []
    expect(len(summary) == 1 + len(list((GRADING / "attacks").iterdir())),
           f"summary.csv has {len(summary)} lines")
    expect(not leftovers(str(out)), f"processes left behind: {leftovers(str(out))}")
    expect(fingerprint() == before, "grading the attacks changed the tools, the exercises "
                                    "or the grader's cache")
    # The next submission is graded exactly as before.
    res = grade("--solutions", "--only", TARGET, "--out", str(out / "next"), env_extra=cache)
    r = results_of(out / "next" / "results.json")
    expect(r["score"] == sum(points_of(TARGET).values()),
           f"after the attacks, the solution scored {r['score']}")


def check_fifo(starter_score):
    with tempfile.TemporaryDirectory() as d:
        sub = Path(d) / TARGET
        sub.mkdir(parents=True)
        os.mkfifo(sub / "page_ref.c")
        res = grade("--submission", d, "--only", TARGET, "--out", str(Path(d) / "out"),
                    timeout=60)
        r = results_of(Path(d) / "out" / "results.json")
        expect(res.returncode == 0 and r["score"] <= starter_score and
               "not a regular file" in r["tests"][0]["output"],
               "a FIFO submitted as a source file was not refused")


def check_fair():
    out = ROOT / "build" / "grade-fair"
    grade("--batch", str(GRADING / "fair"), "--only", TARGET, "--out", str(out))
    r = results_of(out / "flood" / "results.json")
    expect(r["score"] == sum(points_of(TARGET).values()),
           f"correct code that floods stdout scored {r['score']}")
    kept = (out / "flood" / TARGET / "output.txt").stat().st_size
    expect(kept <= 4 << 20, f"the grader kept {kept} bytes of output")


def check_sandbox():
    """A program in the sandbox sees only its binds, reaches no network, writes nothing
    outside, cannot outlive its run, and runs as nobody."""
    # A sleep no other process on the machine is running: its length is the marker.
    sleeper = f"sleep 100.{random.randrange(10**6):06d}"
    script = ("id -u; ls /; test -e /work && echo SAW-WORK; "
              "echo x > /usr/x 2>/dev/null && echo WROTE-USR; "
              "(exec 3<>/dev/tcp/127.0.0.1/22) 2>/dev/null && echo NET; "
              f"{sleeper} & echo started")
    status, out, _ = sandbox.run(["/bin/bash", "-c", script], timeout=20)
    lines = out.split()
    expect(status == 0 and lines[:1] == ["65534"], f"sandbox user: {out[:80]}")
    expect("SAW-WORK" not in out and "WROTE-USR" not in out and "NET" not in out,
           f"the sandbox leaks: {out}")
    left = leftovers(sleeper)
    expect(not left, f"a process outlived its sandbox: {left}")


FAKE_BWRAP = """#!/bin/sh
# Fails like bwrap that cannot create its namespaces, when a test program is to run and
# {fails} (a file of one line per failure still to come) says so; else the real one.
# (The grader starts bwrap with a clean environment: the file is named here.)
case "$*" in *"/grade/prog/tests"*)
    if [ -s {fails} ]; then
        sed -i 1d {fails}
        echo "bwrap: Creating new namespace failed: Resource temporarily unavailable" >&2
        exit 1
    fi;;
esac
exec {real} "$@"
"""


def check_sandbox_retry():
    """A sandbox that fails to start once costs nothing; failing twice stops the grading
    (exit 2, no results.json) instead of scoring the submission zero."""
    with tempfile.TemporaryDirectory() as d:
        fake = Path(d) / "bwrap"
        fails = Path(d) / "fails"
        fake.write_text(FAKE_BWRAP.format(real=sandbox.BWRAP, fails=fails))
        fake.chmod(0o755)
        env = {"PATH": f"{d}:{os.environ['PATH']}"}
        for times, want_status in ((1, 0), (2, 2)):
            fails.write_text("x\n" * times)
            out = Path(d) / f"out{times}"
            res = grade("--solutions", "--only", TARGET, "--out", str(out), env_extra=env)
            what = f"a sandbox failing to start {times} time(s)"
            expect(res.returncode == want_status and "did not start" in res.stderr,
                   f"{what}: grader exited {res.returncode}: {res.stderr[-300:]}")
            if want_status == 0 and (out / "results.json").exists():
                r = results_of(out / "results.json")
                expect(r["score"] == sum(points_of(TARGET).values()),
                       f"{what}: the solution scored {r['score']}")
            else:
                expect(not (out / "results.json").exists(), f"{what}: results.json written")


def check_location_free():
    """A verdict must not depend on where the repository lies: the suites' objects carry
    paths relative to it (Check records the path with every assertion, and a deep one
    once overflowed its message file)."""
    objs = list((ROOT / "build" / "grade-cache").glob("*-test_*.o"))
    rooted = [o.name for o in objs if str(ROOT).encode() + b"/exercises" in o.read_bytes()]
    expect(objs and not rooted, f"suite objects that name the repository's path: {rooted[:3]}")


def check_concurrent():
    """Two graders at once over one repository, each with a cold cache."""
    cache = ROOT / "build" / "grade-cache" / "ch01-physical-memory"
    subprocess.run(["rm", "-rf", str(cache)])
    procs = [subprocess.Popen([sys.executable, str(ROOT / "tools" / "grade.py"), "--solutions",
                               "--only", TARGET, "ch01-physical-memory/page-lock",
                               "--out", str(ROOT / "build" / f"grade-twin{i}")],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for i in range(2)]
    for i, p in enumerate(procs):
        _, err = p.communicate(timeout=300)
        expect(p.returncode == 0, f"twin grader {i} exited {p.returncode}: {err.decode()[:200]}")
        r = results_of(ROOT / "build" / f"grade-twin{i}" / "results.json")
        expect(r["score"] == r["score"] and r["score"] == sum(
            sum(points_of(k).values()) for k in (TARGET, "ch01-physical-memory/page-lock")),
            f"twin grader {i} scored {r['score']}")


def main():
    res = grade("--starters", "--only", TARGET, "--out", str(ROOT / "build" / "grade-starter"))
    starter_score = results_of(ROOT / "build" / "grade-starter" / "results.json")["score"]
    check_hostile()
    check_attacks(starter_score)
    check_fifo(starter_score)
    check_fair()
    check_sandbox()
    check_sandbox_retry()
    check_concurrent()
    check_location_free()
    if failures:
        print("check-grader: FAILED", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
    else:
        print(f"check-grader: {len(list((GRADING / 'attacks').iterdir()))} attacks refused, "
              f"hostile and fair submissions scored exactly")
    print(f"check-grader: {checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
