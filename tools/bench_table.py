#!/usr/bin/env python3
"""The book's table of `make bench` measurements: tools/bench_table.py DIR > TABLE.md

DIR holds what `make bench-record` keeps of a run: bench_hmm.dat ("row size value
baseline" lines), bench_migrate.dat ("MiB memcpy-x2 to-device to-system" lines, ns per
page) and machine.txt (one line: where and when it was measured).  The output is
Markdown: the machine, then one table row per measurement with its ratio and the goal
the row is held to (None for rows that are reported, not judged).
"""

import sys
from pathlib import Path

# What each row measures, its baseline, its unit, and the goal for its ratio.
ROWS = {
    "snapshot": ("`hmm_range_fault` snapshot of populated memory",
                 "a flat loop from a PTE array to a pfn array", "ns/page", 2.0),
    "fault-in": ("`hmm_range_fault` faulting fresh memory in for writing",
                 "`memset` of as many 4 KiB pages", "ns/page", 1.5),
    "invalidate": ("a one-page invalidation among N notifiers", "the same with 10",
                   "ns", 3.0),
    "insert": ("an interval notifier inserted and removed among N", "the same with 10",
               "ns", 3.0),
    "dmirror-snap": ("mirror SNAPSHOT among N notifiers", "the same with 10",
                     "ns", 3.0),
    "dmirror-read": ("mirror READ of mapped memory", "`memcpy` of the same bytes",
                     "ns/page", 1.5),
    "migrate": ("migration to the device and back", "two `memcpy`s of the same bytes",
                "ns/page", 2.0),
    "overhead": ("the host memory a mapped page costs beyond its own 4 KiB (page tables "
                 "and bookkeeping), from the resident size before and after mapping "
                 "256 MiB", "the page's 4 KiB", "bytes", None),
    "descriptor": ("one `struct page`, allocated for every frame of RAM at boot",
                   "the page's 4 KiB", "bytes", None),
    "given-back": ("the host memory per page that the process's resident size drops by "
                   "when the simulated process that mapped 256 MiB exits",
                   "the page's 4 KiB", "bytes", None),
}


def measurements(d):
    out = []
    for line in (d / "bench_hmm.dat").read_text().splitlines():
        f = line.split()
        if len(f) == 4 and f[0] in ROWS:
            out.append((f[0], f[1], float(f[2]), float(f[3])))
    for line in (d / "bench_migrate.dat").read_text().splitlines():
        f = line.split()
        if len(f) == 4:
            out.append(("migrate", f[0] + "MiB", float(f[2]) + float(f[3]), float(f[1])))
    return out


def size_label(size):
    if size.endswith("MiB"):
        return size[:-3] + " MiB"
    if size.isdigit():
        return f"{int(size):,}"
    return ""


def table(d):
    machine = (d / "machine.txt").read_text().strip()
    speed = ["| row | size (or N) | unit | simulation | baseline | ratio | goal |",
             "|---|---|---|--:|--:|--:|--:|"]
    memory = ["| row | simulation | share of the page's 4 KiB |", "|---|--:|--:|"]
    shown, missed = [], set()
    for row, size, value, base in measurements(d):
        what, baseline, unit, goal = ROWS[row]
        if row not in shown:
            shown.append(row)
        if goal is None:
            memory.append(f"| {row} | {value:,.1f} {unit} | {100 * value / base:.1f} % |")
            continue
        ratio = value / base
        shown_ratio = f"{ratio:.2f}×" if ratio <= goal else f"**{ratio:.2f}×**"
        if ratio > goal:
            missed.add(row)
        speed.append(f"| {row} | {size_label(size)} | {unit} | {value:,.1f} | "
                     f"{base:,.1f} | {shown_ratio} | ≤ {goal:g}× |")
    judged = [r for r in shown if ROWS[r][3] is not None]
    rows = [f"- **{r}**: {ROWS[r][0]}, against {ROWS[r][1]}."
            for r in sorted(shown, key=lambda r: ROWS[r][3] is None)]
    return "\n".join(
        [f"Measured {machine}. The rows:", ""] + rows + [""] + speed +
        ["", f"Table: Speed, each row against its baseline measured in the same run; "
             f"a ratio in bold misses its goal; {len(missed)} of the {len(judged)} rows miss "
             f"it at some size.", ""] +
        memory + ["", "Table: Host memory per simulated page."]) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tools/bench_table.py DIR")
    try:
        sys.stdout.write(table(Path(sys.argv[1])))
    except (OSError, ValueError) as e:
        sys.exit(f"bench_table: {e}")
