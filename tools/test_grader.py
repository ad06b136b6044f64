#!/usr/bin/env python3
"""Grade the hostile submissions of tests/grading/hostile and check every verdict.

Each hostile file breaks some tests on purpose (see tests/grading/README.md). The grader
must finish, exit 0, write a valid results.json, give exactly the points of the tests
that really passed, and say why the others failed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "grade-hostile"
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


def main():
    env = dict(os.environ, GRADE_TIMEOUT_MULTIPLIER="0.2", GRADE_OUTER_TIMEOUT="60")
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"), "--submission",
                          str(ROOT / "tests" / "grading" / "hostile"), "--out", str(OUT)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    expect(res.returncode == 0, f"grader exited {res.returncode}: {res.stderr.strip()}")
    results = json.loads((OUT / "results.json").read_text())
    tests = {t["name"]: t for t in results["tests"]}

    expect(results["score"] == sum(t["score"] for t in results["tests"]),
           "results.json: score is not the sum of the tests")
    for key in sorted({n.rsplit("/", 1)[0] for n in tests}):
        expected = points_of(key)
        got = {n.rsplit("/", 1)[1] for n in tests if n.startswith(key + "/")}
        expect(got == set(expected), f"{key}: results.json lists {sorted(got)}")
        for test, pts in expected.items():
            t = tests.get(f"{key}/{test}", {})
            expect(t.get("max_score") == pts, f"{key}/{test}: max_score {t.get('max_score')}")
            expect(t.get("visibility") in ("visible", "hidden", "after_due_date",
                                           "after_published"), f"{key}/{test}: visibility")

    def scores(key):
        return {n.rsplit("/", 1)[1]: t["score"] for n, t in tests.items()
                if n.startswith(key + "/")}

    def outputs(key):
        return " ".join(t["output"] for n, t in tests.items() if n.startswith(key + "/"))

    key = "ch01-physical-memory/page-refs"
    expect(sum(scores(key).values()) == 0, f"{key}: exit(0) in a constructor earned points")
    expect("did not run" in outputs(key), f"{key}: no 'did not run' verdict")

    key = "ch01-physical-memory/page-lock"
    passing = {"trylock_takes_a_free_lock", "unlocking_an_unlocked_page_warns"}
    for test, score in scores(key).items():
        want = points_of(key)[test] if test in passing else 0
        expect(score == want, f"{key}/{test}: scored {score}, expected {want}")
    expect("signal 11" in outputs(key), f"{key}: the crash is not reported")

    key = "ch01-physical-memory/frame-check"
    expect(sum(scores(key).values()) == 0, f"{key}: points without a submission")
    expect("not submitted" in outputs(key), f"{key}: no 'not submitted' verdict")

    key = "ch02-address-spaces/dontneed"
    expect(sum(scores(key).values()) == 0, f"{key}: a loop earned points")
    expect("timeout" in outputs(key).lower(), f"{key}: the timeout is not reported")

    key = "ch02-address-spaces/pte-walk"
    expect(sum(scores(key).values()) == 0, f"{key}: a compile failure earned points")
    expect("does not compile" in outputs(key) and "no_such_field" in outputs(key),
           f"{key}: the compiler's error is not shown")

    key = "ch02-address-spaces/cow-break"
    expect(sum(scores(key).values()) == sum(points_of(key).values()),
           f"{key}: correct code with a noisy stdout lost points: {scores(key)}")
    expect(not any("made_up" in n for n in tests), "a fake test from stdout was counted")

    if failures:
        print("check-grader: FAILED", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        print(res.stdout, file=sys.stderr)
    else:
        print(f"check-grader: {len(tests)} tests of hostile submissions scored as expected "
              f"(score {results['score']})")
    print(f"check-grader: {checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
