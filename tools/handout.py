#!/usr/bin/env python3
"""Make the students' handout: tools/handout.py OUT.tar.gz

Only committed files go in (a student's own answers lying in the work tree never do),
without the exercises' solution/ folders, the grader's test submissions
(tests/grading/), or the tools that only staff run.  In the Makefile and the README,
the parts between a "staff-only" begin and end marker are left out, so that the
handout's `make help` and README list only what a student can run.
"""

import io
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAFF_FILES = {"tools/test_grader.py", "tools/autograder.py", "tools/test_autograder.py",
               "tools/handout.py"}
BEGIN = re.compile(r"(#|<!--) staff-only begin")
END = re.compile(r"(#|<!--) staff-only end")


def student_text(text):
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if BEGIN.search(line):
            skipping = True
        elif END.search(line):
            skipping = False
        elif not skipping:
            out.append(line)
    return "".join(out)


def main(out):
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    keep = [n for n in names if n and "/solution/" not in n and
            not n.startswith("tests/grading/") and n not in STAFF_FILES]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for name in keep:
            path = ROOT / name
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            if name in ("Makefile", "README.md"):
                data = student_text(data.decode()).encode()
            info = tarfile.TarInfo("hmm-workbook/" + name)
            info.size, info.mtime = len(data), int(time.time())
            info.mode = path.stat().st_mode & 0o777
            tar.addfile(info, io.BytesIO(data))
    print(f"handout: {out} ({len(keep)} files: committed, no solutions, no staff tools)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/handout.tar.gz"))
