#!/usr/bin/env python3
"""Make the students' handout, the student edition of the book: tools/handout.py OUT.tar.gz

The handout holds no reference answer in any readable form:

* Chapters.  For every exercise (chapter NN, replacing file R), the *answer chunks* are
  the chunks reachable from R's root chunk that nothing outside R uses.  In the student
  edition of chapter NN, each definition of such a chunk keeps its name and place but its
  code becomes a placeholder naming the exercise (uses of chunks that later chapters fill
  in stay, so that the chunk graph is whole).  Other chapters' parts of the same chunks
  stay as they are: they are those chapters' code, not the exercise's answer.
* Code.  code/ is tangled from the student chapters without the replaced files
  (tools/tangle.py --exclude); the libraries link compiled reference objects for them,
  reference/chNN/FILE.o for every chapter prefix that has the file, built by the
  instructor's tree and stripped of debugging information (and reference/tsan/FILE.o,
  compiled for ThreadSanitizer, which must see the atomics of every file).
* Exercises.  No solution/ folders; each suite and points file keeps only its public tests
  (the hidden ones stay on the staff side).
* Staff tools.  No grader test submissions (tests/grading/), no tools only staff run, and
  the Makefile's and README's staff-only parts left out (between "staff-only begin" and
  "staff-only end" lines, or a single line marked <!-- staff-only -->).

Only committed files go in.  The handout's own `make` renders the student edition of
the book from its chapters.
"""

import io
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAFF_FILES = {"tools/test_grader.py", "tools/autograder.py", "tools/test_autograder.py",
               "tools/handout.py", "tools/check_handout.py", ".ci/run"}
BEGIN = re.compile(r"(#|<!--) staff-only begin")
END = re.compile(r"(#|<!--) staff-only end")
STAFF_LINE = "<!-- staff-only -->"   # one line, such as a table row, left out alone
DEFN = re.compile(r"^<<(.+)>>=\s*$")
USE = re.compile(r"<<(.+?)>>")


def student_text(text):
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if BEGIN.search(line):
            skipping = True
        elif END.search(line):
            skipping = False
        elif not skipping and STAFF_LINE not in line:
            out.append(line)
    return "".join(out)


# --- the chunk graph --------------------------------------------------------------------

def parts_of(path):
    """Every code chunk definition of a chapter: (name, first body line, end line)."""
    lines = path.read_text().splitlines(keepends=True)
    parts, i = [], 0
    while i < len(lines):
        m = DEFN.match(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and not (lines[j].startswith("@ ") or lines[j].rstrip() == "@"):
                j += 1
            parts.append((m.group(1), i + 1, j))
            i = j
        i += 1
    return lines, parts


def exercises():
    """The fill-in exercises: (chapter, replaced file, folder).  An extension exercise's
    file is the book's own code, handed out as its starter: nothing of it is hidden."""
    out = []
    for conf in sorted((ROOT / "exercises").glob("ch[0-9][0-9]-*/*/exercise.conf")):
        text = conf.read_text()
        if re.search(r"^kind\s*=\s*extension", text, re.M):
            continue
        replaces = re.search(r"^replaces\s*=\s*(\S+)", text, re.M).group(1)
        out.append((conf.parent.parent.name[2:4], replaces, conf.parent))
    return out


def answer_parts(chapters):
    """(chapter path, start line) of every chunk definition that is an answer."""
    uses, users, where = {}, {}, {}
    texts = {}
    for ch in chapters:
        lines, parts = parts_of(ch)
        texts[ch] = lines
        for name, a, b in parts:
            where.setdefault(name, []).append((ch, a, b))
            for line in lines[a:b]:
                for used in USE.findall(line):
                    uses.setdefault(name, set()).add(used)
                    users.setdefault(used, set()).add(name)
    hidden = {}
    for num, root, exdir in exercises():
        reach, todo = set(), [root]
        while todo:
            for used in uses.get(todo.pop(), ()):
                if used not in reach:
                    reach.add(used)
                    todo.append(used)
        # Only chapter NN's parts of a chunk are the answer; another chapter's parts of
        # the same chunk are that chapter's code and stay as they are.
        answers = {c for c in reach
                   if any(ch.name.startswith(num + "-") for ch, _, _ in where.get(c, ()))}
        changed = True
        while changed:
            changed = False
            for c in list(answers):
                if users.get(c, set()) - answers - {root}:
                    answers.discard(c)
                    changed = True
        for c in answers:
            for ch, a, b in where.get(c, ()):
                if ch.name.startswith(num + "-"):
                    hidden[(ch, a)] = (b, c, exdir, answers)
    return texts, hidden


def gap_note(definition, exdir):
    """A chunk's definition line, preceded by a note that its code is an exercise's."""
    title = re.search(r"^title\s*=\s*(.+)$", (exdir / "exercise.conf").read_text(), re.M)
    rel = exdir.relative_to(ROOT)
    return ["\n::: {.answer-gap}\n",
            f"**Yours to write:** the code of this chunk is the answer to the exercise "
            f"[*{title.group(1).strip()}*]({exdir.parent.name[2:]}.html#exercise-{exdir.name}) "
            f"(`{rel}/`). The text "
            f"says what it must do; the exercise states the contract in full.\n",
            ":::\n\n", definition]


def student_chapter(ch, lines, hidden):
    """The student edition of a chapter.  Its lines after a hidden part keep their
    numbers wherever the parts are long enough to pay for their notes (blank lines, which
    Markdown ignores, make up the difference): the `#line` directives of the code
    tangled from them, and so the objects compiled from it, are then the instructor's,
    and a compiler cache shared with the instructor's tree serves them."""
    gaps = {}                                   # first body line -> (end, new lines)
    for (c, i), (end, _, exdir, _) in hidden.items():
        if c == ch and end > i:                 # a part with a body to hide
            part = [f"/* Yours to write: the exercise {exdir.name}. */\n"] + \
                [line for line in lines[i:end] if USE.search(line)]  # the graph stays whole
            gaps[i] = (end, gap_note(lines[i - 1], exdir) + part)
    order = sorted(gaps)
    # How many lines each part adds (its note, less the definition line it replaces,
    # plus what stays of its body) or, if negative, frees.
    grows = ["".join(gaps[i][1]).count("\n") - 1 - (gaps[i][0] - i) for i in order]
    # The shift to leave after each part: none, or less than none where a later part
    # grows the text and only the lines before it can make room.
    after, want = [0] * len(order), 0
    for k in reversed(range(len(order))):
        after[k] = want
        want = min(0, want - grows[k])
    out, i, shift = [], 0, 0
    while i < len(lines):
        if i in gaps:
            k = order.index(i)
            end, new = gaps[i]
            pad = max(0, after[k] - shift - grows[k])
            shift += grows[k] + pad
            out[-1:] = ["\n"] * pad + new      # the note replaces the definition line
            i = end
            continue
        out.append(lines[i])
        i += 1
    return "".join(out)


# --- hidden tests -------------------------------------------------------------------------

def hidden_tests(exdir):
    """The tests of an exercise whose points line gives a visibility other than visible."""
    return {f[0] for f in (l.split() for l in (exdir / "tests" / "points").read_text()
                                               .splitlines() if not l.startswith("#"))
            if len(f) == 3 and f[2] != "visible"}


def public_only(exdir, name, data):
    points = (exdir / "tests" / "points").read_text().splitlines()
    hidden = hidden_tests(exdir)
    if name == "points":
        return "".join(l + "\n" for l in points
                       if not (l.split() and l.split()[0] in hidden)).encode()
    lines = data.decode().splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"START_TEST\((\w+)\)", lines[i])
        if m and m.group(1) in hidden:
            while out and (out[-1].startswith("/*") or out[-1].startswith(" *")):
                out.pop()                           # the test's comment goes with it
            while i < len(lines) and not lines[i].startswith("END_TEST"):
                i += 1
            i += 1
            if i < len(lines) and not lines[i].strip():
                i += 1
            continue
        m = re.match(r"\s*tcase_add_test\(\w+, (\w+)\);", lines[i])
        if not (m and m.group(1) in hidden):
            out.append(lines[i])
        i += 1
    return "".join(out).encode()


# --- the archive ----------------------------------------------------------------------------

def add(tar, name, data, mode=0o644):
    info = tarfile.TarInfo("hmm-workbook/" + name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), mode
    tar.addfile(info, io.BytesIO(data))


def reference_objects(tar):
    """reference/chNN/FILE.o for every prefix that has the file, and reference/tsan/FILE.o
    for the whole book's ThreadSanitizer build (make builds those before this runs)."""
    for num, root, exdir in exercises():
        stem = Path(root).stem
        objs = [(obj, obj.parent.parent.name)
                for obj in sorted((ROOT / "build").glob(f"ch*/obj/{stem}.o"))
                if obj.parent.parent.name[2:] >= num]
        objs.append((ROOT / "build" / "tsan" / "obj" / f"{stem}.o", "tsan"))
        for obj, where in objs:
            with tempfile.NamedTemporaryFile(suffix=".o") as tmp:
                subprocess.run(["objcopy", "--strip-debug", str(obj), tmp.name], check=True)
                add(tar, f"reference/{where}/{stem}.o", Path(tmp.name).read_bytes())


def student_code(tar, chapters_text):
    with tempfile.TemporaryDirectory() as d:
        for name, text in chapters_text.items():
            (Path(d) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(d) / name).write_text(text)
        excl = [a for _, r, _ in exercises() for a in ("--exclude", r)]
        names = sorted(chapters_text)
        subprocess.run([sys.executable, str(ROOT / "tools" / "tangle.py"), *excl,
                        str(Path(d) / "code"), *names], cwd=d, check=True)
        for f in sorted((Path(d) / "code").rglob("*")):
            if f.is_file():
                add(tar, "code/" + f.relative_to(Path(d) / "code").as_posix(), f.read_bytes())


def main(out):
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    chapters = sorted(ROOT.glob("chapters/[0-9][0-9]-*.nw"))
    texts, hidden = answer_parts(chapters)
    student = {f"chapters/{ch.name}": student_chapter(ch, texts[ch], hidden) for ch in chapters}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    kept = 0
    with tarfile.open(out, "w:gz") as tar:
        for name in names:
            if (not name or "/solution/" in name or name.startswith("tests/grading/") or
                    name.startswith("code/") or name in STAFF_FILES):
                continue
            path = ROOT / name
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            if name in student:
                data = student[name].encode()
            elif name in ("Makefile", "README.md"):
                data = student_text(data.decode()).encode()
            elif name.startswith("exercises/") and "/tests/" in name:
                exdir = ROOT / "/".join(name.split("/")[:3])
                data = public_only(exdir, Path(name).name, data)
            add(tar, name, data, path.stat().st_mode & 0o777)
            kept += 1
        student_code(tar, student)
        reference_objects(tar)
    print(f"handout: {out} ({kept} files, the student edition: {len(hidden)} answer chunks "
          f"hidden, reference objects for {len(exercises())} exercises, public tests only)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/handout.tar.gz"))
