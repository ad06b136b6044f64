#!/usr/bin/env python3
"""Prove the students' handout: tools/check_handout.py [--build] HANDOUT.tar.gz

It gives no answer away (always), and with --build it works from a fresh unpack: `make
check` there passes every stage once mywork/ holds the reference solutions, and with an
empty mywork/ its last stage names all the exercises as unsolved.

A *solution line* is a line of an exercise's solution/ file, stripped of surrounding
blanks, at least 30 characters long, that is the answer's own.  Not the answer's own:
a line the exercise's starter holds (a starter hands its lines to the student on
purpose); a line of the library outside the files the exercises replace, of another
chapter's code, or of the test suites' fixtures (a line such as
`pthread_mutex_lock(&mm->page_table_lock);` is the library's idiom, printed in many
places, not this answer's); a `#line` directive.  The check fails if any solution line
appears in any file of the unpacked handout: chapters, tangled code, README, exercises,
tools.  Reference objects are binaries: only their strings are
searched, which is how a student would read them.

It also fails if the handout holds a solution/ folder, a grader test submission, or a
hidden test (one whose points line is not `visible`).
"""

import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN = 30

sys.path.insert(0, str(ROOT / "tools"))
import handout  # noqa: E402  (its idea of answers and hidden tests is the one to check)


def replaced_files():
    """The files the fill-in exercises replace (an extension's file is the book's own)."""
    return {replaces for _, replaces, _ in handout.exercises()}


def stripped_lines(text):
    return {l.strip() for l in text.splitlines()}


def chapter_code(path):
    """The lines of a chapter's code chunks."""
    lines, inside = [], False
    for line in path.read_text().splitlines():
        if re.match(r"^<<.+>>=\s*$", line):
            inside = True
        elif inside and (line.startswith("@ ") or line == "@"):
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def library_lines():
    """The lines that are not any one answer's: {chapter number or None: lines}."""
    replaced, common = replaced_files(), set()
    for f in (ROOT / "code").rglob("*.[ch]"):
        if f.relative_to(ROOT / "code").as_posix() not in replaced:
            common |= stripped_lines(f.read_text())
    for f in (ROOT / "tests").glob("*.[ch]"):
        common |= stripped_lines(f.read_text())
    per_chapter = {ch.name[:2]: stripped_lines(chapter_code(ch))
                   for ch in ROOT.glob("chapters/[0-9][0-9]-*.nw")}
    return common, per_chapter


def solution_lines():
    """{line: 'exercise/solution/FILE'} for every answer-only line of 30 chars or more."""
    found = {}
    common, per_chapter = library_lines()
    for sol in sorted(ROOT.glob("exercises/ch[0-9][0-9]-*/*/solution/*")):
        if sol.suffix == ".patch":          # an extension's source; its result is beside it
            continue
        num = sol.relative_to(ROOT).parts[1][2:4]
        others = set().union(*(v for k, v in per_chapter.items() if k != num))
        starter = sol.parent.parent / "starter" / sol.name
        given = stripped_lines(starter.read_text()) if starter.exists() else set()
        # An extension's tests declare the functions it asks for: its contract, public.
        if (sol.parent / (sol.name + ".patch")).exists():
            for t in (sol.parent.parent / "tests").glob("*.c"):
                given |= stripped_lines(t.read_text())
        for line in sol.read_text().splitlines():
            s = line.strip()
            if (len(s) >= MIN and not s.startswith("#line") and
                    s not in given | common | others):
                found.setdefault(s, sol.relative_to(ROOT).as_posix())
    return found


def hidden_tests():
    return set().union(*(handout.hidden_tests(d.parent.parent)
                         for d in ROOT.glob("exercises/ch[0-9][0-9]-*/*/tests/points")))


def readable(data):
    """The handout file as a student would read it: text, or a binary's strings."""
    if b"\0" not in data[:4096]:
        return data.decode(errors="replace")
    return subprocess.run(["strings", "-n", "8"], input=data, capture_output=True,
                          check=True).stdout.decode(errors="replace")


def run(cmd, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    # The suites' objects are filed under a hash of everything compiled into them
    # (tools/grade.py): the unpack compiles only what differs from this tree's.
    env["GRADE_CACHE"] = os.environ.get("GRADE_CACHE", str(ROOT / "build" / "grade-cache"))
    # Likewise the compiler cache: the student chapters keep the instructor's line
    # numbers, so their tangled files, and the objects compiled from them, are this tree's.
    env["CCACHE_DIR"] = os.environ.get("CCACHE_DIR", str(ROOT / "build" / "ccache"))
    # And the stages' verdicts: a stage whose inputs or programs are this tree's (the
    # model, the chapters' suites) runs once, here or there (tools/stage.sh).
    env["STAGE_CACHE"] = os.environ.get("STAGE_CACHE", str(ROOT / "build" / "check" / "cache"))
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def failed_stages(text):
    """The verdict lines of the stages that failed, with the lines that say why."""
    lines = text.splitlines()
    shown = []                  # indexes, each line once though the windows overlap
    for i, line in enumerate(lines):
        if "FAILED" in line:
            shown += [j for j in range(i, min(i + 4, len(lines))) if j not in shown]
    return "".join("\n      " + lines[j] for j in shown[:24])


def last_line(text):
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else ""


def instrumented_wiring(top):
    """The handout's sanitizer, Valgrind, coverage and benchmark builds link the reference
    objects for the files it does not tangle (ThreadSanitizer its own), or they fail to
    link.  Building them all here would double this check's time; make's dry run shows
    what they would link."""
    wants = {"build/asan/libhmmwb.a": "reference/ch", "build/tsan/libhmmwb.a": "reference/tsan/",
             "build/valgrind/libhmmwb.a": "reference/ch",
             "build/coverage/libhmmwb.a": "reference/ch"}
    wants.update({f"build/bench/{b.stem}": "reference/ch"
                  for b in sorted((top / "tests" / "bench").glob("*.c"))})
    problems = []
    for target, ref in wants.items():
        dry = run(["make", "-n", "-B", target], top)
        if dry.returncode != 0 or ref not in dry.stdout:
            problems.append(f"make {target} in the handout would not link {ref}*.o "
                            f"(exit {dry.returncode})")
    return problems


def build_check(path):
    """Problems found building, checking and grading a fresh unpack of the handout."""
    problems = []
    with tempfile.TemporaryDirectory() as d:
        with tarfile.open(path) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(d, filter="data")
            else:                                   # Python before 3.11.4; our own archive
                tar.extractall(d)
        top = Path(d) / "hmm-workbook"
        sols = sorted(ROOT.glob("exercises/ch[0-9][0-9]-*/*/solution"))
        for sol in sols:
            dest = top / "mywork" / sol.parent.parent.name / sol.parent.name
            shutil.copytree(sol, dest)
        done = run(["make", "check"], top)
        # The stage's line: "exercises:", padding, then the count.
        want = re.compile(rf"^exercises: +{len(sols)} passed, 0 failed", re.M)
        if done.returncode != 0 or not want.search(done.stdout):
            problems.append(f"make check with every solution in mywork/ (exit "
                            f"{done.returncode}): {last_line(done.stdout + done.stderr)}"
                            + failed_stages(done.stdout + done.stderr))
        problems += instrumented_wiring(top)
        empty = run(["make", "-s", "check-exercises", "MYWORK=nothing-yet"], top)
        want = f"exercises: 0 passed, {len(sols)} failed"
        named = empty.stdout.count("unsolved: ")
        if empty.returncode == 0 or want not in empty.stdout or named != len(sols):
            problems.append(f"make check-exercises with no work (exit {empty.returncode}, "
                            f"{named} named unsolved): {last_line(empty.stdout + empty.stderr)}")
    return problems


def scan(path):
    """(files, solution lines, hidden tests, problems) of the handout's contents."""
    answers, hidden = solution_lines(), hidden_tests()
    problems = []
    files = 0
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            files += 1
            name = member.name.split("/", 1)[1]
            if "/solution/" in name or name.startswith("tests/grading/"):
                problems.append(f"{name}: staff file in the handout")
                continue
            text = readable(tar.extractfile(member).read())
            stripped = {l.strip() for l in text.splitlines()}
            for line in sorted(stripped & answers.keys()):
                problems.append(f"{name}: holds a line of {answers[line]}: {line}")
            if name.startswith("exercises/") and "/tests/" in name:
                for test in sorted(hidden):
                    if re.search(rf"\b{test}\b", text):
                        problems.append(f"{name}: names the hidden test {test}")
    return files, len(answers), len(hidden), problems


def main(path, build=False):
    # The build check mostly waits for its make; the scan runs beside it.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        scanned = pool.submit(scan, path)
        built = build_check(path) if build else []
        files, answers, hidden, problems = scanned.result()
    problems += built
    for p in problems:
        print("  " + p)
    verdict = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
    print(f"check-handout: {files} files, {answers} solution lines, "
          f"{hidden} hidden tests looked for{', built and graded' if build else ''}, "
          f"{verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    argv = sys.argv[1:]
    build = bool(argv) and argv[0] == "--build"
    if build:
        argv = argv[1:]
    if len(argv) != 1:
        sys.exit("usage: tools/check_handout.py [--build] HANDOUT.tar.gz")
    sys.exit(main(argv[0], build))
