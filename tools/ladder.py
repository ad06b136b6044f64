#!/usr/bin/env python3
"""ladder.py -- draws a recorded trace as a ladder (sequence) diagram in SVG.

Usage: ladder.py TRACE.txt [-o OUT.svg]   (OUT defaults to TRACE with .svg;
                                            `-o -` writes to standard output)
       ladder.py --self-test [-o DIR]      (DIR keeps the rendered samples)

The trace is UTF-8 text, one record per line, in time order:

  # title: TEXT              optional: the diagram's title
  # actors: A B C            optional: the column order (otherwise the order
                             in which actors first appear)
  # verdict: TEXT            optional: a line under the diagram, red when it
                             starts with "FAIL", green when it starts with "OK"
  # role: A TEXT             optional: a subtitle under actor A's name
  ACTOR<TAB>-<TAB>LABEL      an event on ACTOR's lifeline (a box)
  ACTOR<TAB>TARGET<TAB>LABEL a message, an arrow from ACTOR to TARGET (an
                             arrow from an actor to itself is drawn as a loop)
  ACTOR<TAB>=<TAB>LABEL      a state annotation on ACTOR's lifeline (a dashed
                             pill, italic text)

Blank lines, and lines starting with "#" that are not one of the headers, are
ignored.  Actor names may not contain whitespace; a label may contain any
character (tabs are shown as spaces).  Every record takes one row, numbered
in the left margin, so that the text can refer to "step 7".

A malformed line is reported as `ladder: FILE:LINE: what is wrong` and the
program exits with status 1, writing nothing.

The SVG is plain SVG 1.1 (no CSS, no scripts, no external resources) and
uses the DejaVu fonts: it renders the same in a browser and in rsvg-convert.
Text widths are computed from DejaVu's metrics, so labels never overlap;
long labels wrap, and the columns adapt to what they hold so that the
diagram stays about 700 to 900 pixels wide.

Standard library only.
"""

import argparse
import functools
import os
import re
import sys
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

# ---------------------------------------------------------------------------
# The trace

HEADER_RE = re.compile(r"#\s*(title|actors|verdict|role)\s*:(.*)\Z", re.IGNORECASE)


class LadderError(Exception):
    """A problem with the input; `line` is 0 when it concerns the whole file."""

    def __init__(self, line, message):
        super().__init__(message)
        self.line = line
        self.message = message


class Record:
    __slots__ = ("line", "kind", "actor", "target", "label")

    def __init__(self, line, kind, actor, target, label):
        self.line = line      # line number in the trace, 1-based
        self.kind = kind      # "event", "state", "message" or "self"
        self.actor = actor
        self.target = target  # None for events and states
        self.label = label


class Trace:
    def __init__(self):
        self.title = None
        self.verdict = None
        self.actors = []     # column order
        self.roles = {}      # actor -> subtitle
        self.records = []


def _bad_whitespace(name):
    return any(ch.isspace() for ch in name)


def parse_trace(data):
    """Parses the bytes of a trace; raises LadderError."""
    trace = Trace()
    declared = None          # (line, [names]) from "# actors:"
    seen_header = {}         # header -> line it was first given on
    roles = []               # (line, actor, text)
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LadderError(number, "not valid UTF-8 (byte 0x%02x at column %d)"
                              % (raw[exc.start], exc.start + 1)) from None
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("#"):
            m = HEADER_RE.match(line)
            if not m:
                continue            # a comment
            key, value = m.group(1).lower(), m.group(2).strip()
            if key == "role":
                parts = value.split(None, 1)
                if not parts:
                    raise LadderError(number, "'# role:' needs an actor name and a text")
                roles.append((number, parts[0], parts[1] if len(parts) > 1 else ""))
                continue
            if key in seen_header:
                raise LadderError(number, "second '# %s:' header (the first is on line %d)"
                                  % (key, seen_header[key]))
            seen_header[key] = number
            if key == "title":
                trace.title = value or None
            elif key == "verdict":
                trace.verdict = value or None
            else:
                names = value.split()
                if not names:
                    raise LadderError(number, "'# actors:' lists no actor")
                for name in names:
                    if name in ("-", "="):
                        raise LadderError(number, "'%s' cannot be an actor name" % name)
                    if names.count(name) > 1:
                        raise LadderError(number, "actor '%s' is listed twice" % name)
                declared = (number, names)
            continue
        fields = line.split("\t", 2)
        if len(fields) < 3:
            if len(fields) == 1:
                raise LadderError(number, "expected ACTOR<TAB>TARGET<TAB>LABEL, but the line "
                                  "has no tab (fields are separated by tabs, not spaces)")
            raise LadderError(number, "expected ACTOR<TAB>TARGET<TAB>LABEL, but the line "
                              "has only 2 fields (use '-' as TARGET for an event)")
        actor, target, label = fields[0].strip(), fields[1].strip(), fields[2].strip()
        if not actor:
            raise LadderError(number, "empty actor name")
        if actor in ("-", "="):
            raise LadderError(number, "'%s' cannot be an actor name" % actor)
        if _bad_whitespace(actor):
            raise LadderError(number, "actor name %r contains whitespace" % actor)
        if not target:
            raise LadderError(number, "empty second field: use '-' for an event, '=' for "
                              "a state, or the name of the actor the message goes to")
        if _bad_whitespace(target):
            raise LadderError(number, "target name %r contains whitespace" % target)
        if target == "-":
            kind, target = "event", None
        elif target == "=":
            kind, target = "state", None
        elif target == actor:
            kind = "self"
        else:
            kind = "message"
        if kind in ("event", "state") and not label:
            raise LadderError(number, "empty label for %s %s" % ("an" if kind == "event" else "a",
                                                                 kind))
        trace.records.append(Record(number, kind, actor, target, label))

    if not trace.records:
        raise LadderError(0, "no records (expected lines of the form ACTOR<TAB>TARGET<TAB>LABEL)")
    if declared:
        trace.actors = list(declared[1])
        for rec in trace.records:
            for name in (rec.actor, rec.target):
                if name is not None and name not in trace.actors:
                    raise LadderError(rec.line, "actor '%s' is not in the '# actors:' list "
                                      "on line %d" % (name, declared[0]))
    else:
        for rec in trace.records:
            for name in (rec.actor, rec.target):
                if name is not None and name not in trace.actors:
                    trace.actors.append(name)
    for number, name, text in roles:
        if name not in trace.actors:
            raise LadderError(number, "'# role:' names actor '%s', which is not in the diagram"
                              % name)
        if name in trace.roles:
            raise LadderError(number, "second '# role:' for actor '%s'" % name)
        trace.roles[name] = text
    return trace


# ---------------------------------------------------------------------------
# Text: cleaning, measuring, wrapping

def clean_text(text):
    """Makes a label printable and legal in XML: tabs become spaces, other
    control characters are shown as C escapes (\\x01)."""
    text = text.expandtabs(4)
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0:
            out.append("\\x%02x" % code)
        elif code in (0xFFFE, 0xFFFF) or 0xD800 <= code < 0xE000:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


# Advance widths of DejaVu Sans and DejaVu Sans Bold for the characters
# U+0020..U+007E, in font units (2048 to the em), from the fonts' hmtx tables.
_SANS_ASCII = (
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716,
    1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767,
    1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690,
    799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186,
    569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075,
    1303, 690, 1303, 1716)
_SANS_BOLD_ASCII = (
    713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748,
    1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716,
    1188, 2048, 1585, 1561, 1503, 1700, 1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038,
    1714, 1741, 1501, 1741, 1577, 1475, 1397, 1663, 1585, 2259, 1579, 1483, 1485, 936, 748,
    936, 1716, 1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702, 702, 1362,
    702, 2134, 1458, 1407, 1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192,
    1458, 748, 1458, 1716)
_MONO_ADVANCE = 1233 / 2048          # every DejaVu Sans Mono glyph


@functools.lru_cache(maxsize=4096)
def _cell(ch):
    """0 for a combining mark, 2 for a wide (East Asian) character, else 1."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text, font, size):
    """Width in pixels of `text` in `font` ("mono", "sans" or "bold")."""
    if font == "mono":
        cells = len(text) if text.isascii() else sum(_cell(ch) for ch in text)
        return cells * _MONO_ADVANCE * size
    table = _SANS_BOLD_ASCII if font == "bold" else _SANS_ASCII
    other = 1400 if font == "bold" else 1300
    units = 0
    for ch in text:
        code = ord(ch)
        if 0x20 <= code < 0x7F:
            units += table[code - 0x20]
        else:
            cells = _cell(ch)
            if cells:
                units += 2048 if cells == 2 else other
    return units / 2048 * size


_BREAK_AFTER = set(",;:)]}>/|._=&")


def _split_long(word, max_width, width):
    """Cuts a word that is too long into pieces that fit, preferring to cut
    after punctuation (so `driver->update` breaks after `->`)."""
    widths = [width(ch) for ch in word]
    pieces = []
    start = 0
    while start < len(word):
        total, end = 0.0, start
        while end < len(word) and total + widths[end] <= max_width:
            total += widths[end]
            end += 1
        end = max(end, start + 1)                 # at least one character
        while end < len(word) and widths[end] == 0:
            end += 1                              # keep combining marks attached
        cut = end
        if end < len(word):
            for k in range(end, start + max((end - start) // 2, 1) - 1, -1):
                if word[k - 1] in _BREAK_AFTER or word[k] in "(-":
                    if widths[k] != 0:
                        cut = k
                        break
        pieces.append(word[start:cut])
        start = cut
    return pieces


def wrap(text, max_width, font="mono", size=None):
    """Greedy word wrap of `text` to lines no wider than `max_width` pixels
    in `font` at `size` (default: the size of labels); runs of spaces inside
    a line are kept."""
    size = LABEL_FS if size is None else size

    def width(s):
        return text_width(s, font, size)

    if not text or width(text) <= max_width:
        return [text]
    lines = []
    indent = text[:len(text) - len(text.lstrip(" "))]
    current, current_w = indent, width(indent)
    pending = ""
    for tok in re.findall(r" +|[^ ]+", text[len(indent):]):
        if tok.startswith(" "):
            pending = tok
            continue
        tok_w = width(tok)
        if current.strip():
            cand, cand_w = current + pending + tok, current_w + width(pending) + tok_w
        else:
            cand, cand_w = current + tok, current_w + tok_w
        if cand_w <= max_width:
            current, current_w = cand, cand_w
        else:
            if current.strip():
                lines.append(current)
            if tok_w <= max_width:
                current, current_w = tok, tok_w
            else:
                pieces = _split_long(tok, max_width, width)
                lines.extend(pieces[:-1])
                current, current_w = pieces[-1], width(pieces[-1])
        pending = ""
    if current.strip() or not lines:
        lines.append(current)
    return lines


# ---------------------------------------------------------------------------
# Style

SANS = "DejaVu Sans, sans-serif"
MONO = "DejaVu Sans Mono, monospace"

INK = "#26241f"
MUTED = "#8c887c"
SHADE = "#f2efe7"
PAPER = "#fdfcf8"

# One muted accent colour per actor, in column order.
PALETTE = ("#3f6e9e", "#b0672a", "#4f8a55", "#855a9e", "#2f8282", "#a04c5c",
           "#7a7030", "#5e6470")

VERDICT_STYLE = {          # text colour, band fill
    "FAIL": ("#a4281f", "#f8e6e3"),
    "OK": ("#2b6e34", "#e5f1e5"),
    None: ("#3d3b35", "#efece4"),
}

TITLE_FS, TITLE_LH = 15.0, 20.0
ACTOR_FS, ROLE_FS = 13.0, 10.5
LABEL_FS, LABEL_LH = 12.0, 15.0
STEP_FS = 10.5
VERDICT_FS, VERDICT_LH = 13.0, 18.0

MARGIN = 14.0            # outer margin, right and top
GUTTER = 42.0            # left margin that holds the step numbers
HEAD_PADX = 14.0         # padding inside an actor's header box
HEAD_GAP = 18.0          # minimum space between two header boxes
BOX_PADX, BOX_PADY = 8.0, 5.0       # inside an event box
PILL_PADX, PILL_PADY = 11.0, 4.0    # inside a state pill
ROW_PAD = 6.0            # above and below the content of a row
MIN_ROW = 28.0
CLEAR = 12.0             # between a box and a neighbouring lifeline
LABEL_PAD = 12.0         # between a message label and the arrow's ends
MIN_ARROW = 60.0
LOOP_W, LOOP_H = 28.0, 16.0          # a message from an actor to itself

MIN_WIDTH = 700.0        # narrower diagrams are widened up to this...
MAX_GAP = 320.0          # ...as long as no two lifelines get further apart
MAX_WIDTH = 860.0        # labels wrap so that the diagram fits this
CHAR_W = _MONO_ADVANCE * LABEL_FS  # one character of a label
MIN_CAP = 10 * CHAR_W    # labels never wrap narrower than this


def _mix(colour, other, t):
    """`colour` moved a fraction t of the way to `other` (#rrggbb)."""
    a = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i:i + 2], 16) for i in (1, 3, 5)]
    return "#%02x%02x%02x" % tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def tint(colour, t=0.86):
    return _mix(colour, "#ffffff", t)


def shadow(colour, t=0.3):
    return _mix(colour, "#000000", t)


def verdict_kind(text):
    for key in ("FAIL", "OK"):
        if text.startswith(key) and not text[len(key):len(key) + 1].isalnum():
            return key
    return None


# ---------------------------------------------------------------------------
# Layout

def mono_measure(s):
    return text_width(s, "mono", LABEL_FS)


class Row:
    """One record placed on the page."""

    def __init__(self, step, rec, src, dst):
        self.step = step
        self.rec = rec
        self.src = src       # column of the actor
        self.dst = dst       # column of the target (messages), else None
        kind = rec.kind
        if kind == "message":
            self.group = ("message",) + tuple(sorted((src, dst)))
        else:
            self.group = ("mark" if kind in ("event", "state") else "loop", src)
        self.text = clean_text(rec.label)
        self.cap = float("inf")   # labels wrap at this width
        self.lines = []
        self.text_w = 0.0    # width of the widest line
        self.top = 0.0
        self.height = 0.0
        self.anchor = 0.0    # y of the arrow, or of the middle of a mark

    def wrap(self, cap=None):
        """Wraps the label to `cap` pixels (None: as it is)."""
        if cap is not None:
            self.cap = cap
        label = self.text
        self.lines = wrap(label, self.cap)
        self.text_w = max(mono_measure(line) for line in self.lines) if label else 0.0

    def balance(self):
        """Makes the lines of a wrapped label as even as possible: the
        narrowest width that still gives the same number of lines."""
        count = len(self.lines)
        if count < 2:
            return
        label = self.text
        lo, hi = int(self.text_w / count / CHAR_W), int(self.text_w / CHAR_W + 0.5)
        while lo < hi:
            mid = (lo + hi) // 2
            if len(wrap(label, mid * CHAR_W + 0.01)) <= count:
                hi = mid
            else:
                lo = mid + 1
        self.wrap(hi * CHAR_W + 0.01)

    def content_height(self):
        n = len(self.lines)
        kind = self.rec.kind
        if kind == "event":
            return n * LABEL_LH + 2 * BOX_PADY
        if kind == "state":
            return n * LABEL_LH + 2 * PILL_PADY
        if kind == "self":
            return max(LOOP_H + 8, n * LABEL_LH)
        return (n * LABEL_LH + 4 if self.text_w else 0) + 6    # label + arrow


class Layout:
    """Positions of everything; `render` turns it into SVG."""

    def __init__(self, trace):
        self.trace = trace
        self.actors = trace.actors
        index = {name: i for i, name in enumerate(self.actors)}
        self.rows = []
        for step, rec in enumerate(trace.records, start=1):
            dst = index[rec.target] if rec.target is not None else None
            self.rows.append(Row(step, rec, index[rec.actor], dst))
        self.colour = [PALETTE[i % len(PALETTE)] for i in range(len(self.actors))]
        self.head_w = []
        for name in self.actors:
            w = text_width(clean_text(name), "bold", ACTOR_FS)
            role = trace.roles.get(name)
            if role:
                w = max(w, text_width(clean_text(role), "sans", ROLE_FS))
            self.head_w.append(max(w + 2 * HEAD_PADX, 72.0))
        self.has_roles = any(trace.roles.get(n) for n in self.actors)
        self.head_h = 44.0 if self.has_roles else 30.0

        self._fit()
        self._widen()
        self._vertical()

    # -- horizontal ---------------------------------------------------------

    def _fit(self):
        """Wraps labels until the diagram fits MAX_WIDTH.  Labels are grouped
        by the room they share (the events and states of one actor, the loops
        of one actor, the messages between two actors); each round narrows the
        widest group among those that set the total width, so that only the
        labels that have to wrap do."""
        groups = {}
        for row in self.rows:
            row.wrap()
            groups.setdefault(row.group, []).append(row)
        for _ in range(40 * len(groups) + 40):
            critical = {r.group for r in self._columns()}
            over = self.width - MAX_WIDTH
            if over <= 0:
                break
            widest = {g: max(r.text_w for r in groups[g]) for g in critical}
            shrinkable = [g for g in critical if widest[g] > MIN_CAP + CHAR_W / 2]
            if not shrinkable:
                break
            group = max(shrinkable, key=lambda g: (widest[g], str(g)))
            per_side = 2 if group[0] == "mark" else 1
            step = max(CHAR_W, min(per_side * over, 0.08 * widest[group]))
            cap = max(MIN_CAP, widest[group] - step)
            for row in groups[group]:
                if row.text_w > cap:
                    row.wrap(cap)
        for row in self.rows:
            row.balance()
        self._columns()

    def _columns(self):
        """Places the lifelines as close as the labels allow; returns the
        rows whose labels set the total width."""
        n = len(self.actors)
        left = [w / 2 for w in self.head_w]     # room needed left of each lifeline
        right = list(left)                      # and right of it
        left_by = [None] * n                    # the row that needs it
        right_by = [None] * n
        for row in self.rows:
            kind = row.rec.kind
            i = row.src
            if kind in ("event", "state"):
                half = row.text_w / 2 + (BOX_PADX if kind == "event" else PILL_PADX)
                if half > left[i]:
                    left[i], left_by[i] = half, row
                if half > right[i]:
                    right[i], right_by[i] = half, row
            elif kind == "self":
                need = LOOP_W + 8 + row.text_w
                if need > right[i]:
                    right[i], right_by[i] = need, row
        # need[(i, j)]: minimal distance from lifeline i to lifeline j > i,
        # and the rows that impose it.
        need = {}
        for i in range(n - 1):
            need[(i, i + 1)] = max(
                (self.head_w[i] / 2 + self.head_w[i + 1] / 2 + HEAD_GAP, []),
                (MIN_ARROW, []),
                (right[i] + CLEAR, [right_by[i]] if right_by[i] else []),
                (left[i + 1] + CLEAR, [left_by[i + 1]] if left_by[i + 1] else []),
                key=lambda c: c[0])
        for row in self.rows:
            if row.rec.kind == "message":
                i, j = sorted((row.src, row.dst))
                d = row.text_w + 2 * LABEL_PAD
                if d > need.get((i, j), (0.0,))[0]:
                    need[(i, j)] = (d, [row])
        xs = [GUTTER + left[0]]
        pred = [None]
        for j in range(1, n):
            best = max(((xs[i] + d, i, rows) for (i, jj), (d, rows) in need.items() if jj == j),
                       key=lambda c: c[0])
            xs.append(best[0])
            pred.append((best[1], best[2]))
        self.xs = xs
        self.left, self.right = left, right
        self.width = xs[-1] + right[-1] + MARGIN
        critical = [right_by[n - 1]]
        j = n - 1
        while j > 0:
            j, rows = pred[j]
            critical.extend(rows)
        critical.append(left_by[0])
        return [r for r in critical if r is not None]

    def _widen(self):
        """Spreads a narrow diagram towards MIN_WIDTH, keeping gaps sane."""
        n = len(self.xs)
        if n < 2 or self.width >= MIN_WIDTH:
            return
        gaps = [self.xs[i + 1] - self.xs[i] for i in range(n - 1)]
        extra = MIN_WIDTH - self.width
        # Raise the smallest gaps first (water filling), none beyond MAX_GAP.
        order = sorted(range(n - 1), key=lambda i: gaps[i])
        for _ in range(n):
            open_ = [i for i in order if gaps[i] < MAX_GAP]
            if not open_ or extra <= 0.01:
                break
            low = min(gaps[i] for i in open_)
            level_ids = [i for i in open_ if gaps[i] - low < 0.01]
            higher = [gaps[i] for i in open_ if gaps[i] - low >= 0.01]
            step = min([MAX_GAP - low] + [h - low for h in higher] +
                       [extra / len(level_ids)])
            for i in level_ids:
                gaps[i] += step
            extra -= step * len(level_ids)
        xs = [self.xs[0]]
        for g in gaps:
            xs.append(xs[-1] + g)
        self.xs = xs
        self.width = xs[-1] + self.right[-1] + MARGIN

    # -- vertical -----------------------------------------------------------

    def _vertical(self):
        text_right = self.width - MARGIN
        y = MARGIN
        self.title_lines = []
        if self.trace.title:
            self.title_lines = wrap(clean_text(self.trace.title), text_right - MARGIN,
                                    "bold", TITLE_FS)
            y += len(self.title_lines) * TITLE_LH + 8
        self.head_top = y
        y += self.head_h + 8
        for row in self.rows:
            row.top = y
            inner = row.content_height()
            row.height = max(inner + 2 * ROW_PAD, MIN_ROW)
            pad = (row.height - inner) / 2
            kind = row.rec.kind
            if kind == "message":
                row.anchor = row.top + pad + inner - 3
            elif kind == "self":
                row.anchor = row.top + row.height / 2
            else:
                row.anchor = row.top + row.height / 2
            y += row.height
        self.rows_bottom = y
        self.foot_top = y + 8
        y = self.foot_top + self.head_h
        self.verdict_lines = []
        if self.trace.verdict:
            y += 14
            self.verdict_top = y
            self.verdict_lines = wrap(clean_text(self.trace.verdict),
                                      text_right - MARGIN - 24, "bold", VERDICT_FS)
            y += len(self.verdict_lines) * VERDICT_LH + 14
        self.height = y + MARGIN

    # -- what the self-test checks -------------------------------------------

    def text_boxes(self):
        """(x0, y0, x1, y1, what) of every piece of text and every mark."""
        boxes = []
        for i, name in enumerate(self.actors):
            hw = self.head_w[i] / 2
            for top in (self.head_top, self.foot_top):
                boxes.append((self.xs[i] - hw, top, self.xs[i] + hw, top + self.head_h,
                              "header " + name))
        for row in self.rows:
            x = self.xs[row.src]
            n = len(row.lines)
            what = "step %d" % row.step
            if row.rec.kind in ("event", "state"):
                pad = BOX_PADX if row.rec.kind == "event" else PILL_PADX
                h = row.content_height()
                boxes.append((x - row.text_w / 2 - pad, row.anchor - h / 2,
                              x + row.text_w / 2 + pad, row.anchor + h / 2, what))
            elif row.rec.kind == "self":
                boxes.append((x, row.anchor - LOOP_H / 2, x + LOOP_W + 8 + row.text_w,
                              row.anchor + LOOP_H / 2, what))
            elif row.text_w:
                mid = (x + self.xs[row.dst]) / 2
                boxes.append((mid - row.text_w / 2, row.anchor - 4 - n * LABEL_LH,
                              mid + row.text_w / 2, row.anchor - 4, what))
        return boxes

    def problems(self):
        """Overlaps and overflows; an empty list when the layout is clean."""
        found = []
        boxes = self.text_boxes()
        for a in range(len(boxes)):
            x0, y0, x1, y1, what = boxes[a]
            if x0 < GUTTER - 0.5 or x1 > self.width - MARGIN + 0.5:
                found.append("%s sticks out of the diagram" % what)
            for b in range(a + 1, len(boxes)):
                u0, v0, u1, v1, other = boxes[b]
                if x0 < u1 and u0 < x1 and y0 < v1 and v0 < y1:
                    found.append("%s overlaps %s" % (what, other))
        for row in self.rows:
            kind = row.rec.kind
            x = self.xs[row.src]
            for j, xj in enumerate(self.xs):
                if j == row.src:
                    continue
                if kind in ("event", "state"):
                    pad = BOX_PADX if kind == "event" else PILL_PADX
                    if abs(xj - x) < row.text_w / 2 + pad + 1:
                        found.append("step %d crosses the lifeline of %s"
                                     % (row.step, self.actors[j]))
                elif kind == "self" and x < xj < x + LOOP_W + 8 + row.text_w + 1:
                    found.append("step %d crosses the lifeline of %s"
                                 % (row.step, self.actors[j]))
            if kind == "message":
                span = abs(self.xs[row.dst] - x)
                if row.text_w + 2 * LABEL_PAD > span + 0.01:
                    found.append("the label of step %d is wider than its arrow" % row.step)
        return found


# ---------------------------------------------------------------------------
# SVG

def _num(v):
    s = "%.1f" % v
    return s[:-2] if s.endswith(".0") else s


def _esc(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _attrs(**kw):
    out = []
    for key, value in kw.items():
        key = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = _num(value)
        out.append('%s="%s"' % (key, _esc(str(value))))
    return " ".join(out)


def _text(x, y, lines, lh, **kw):
    """A <text> with one <tspan> per line; y is the first baseline."""
    if len(lines) == 1:
        return '<text %s xml:space="preserve">%s</text>' % (
            _attrs(x=x, y=y, **kw), _esc(lines[0]))
    spans = "".join('<tspan %s>%s</tspan>' % (_attrs(x=x, y=y + k * lh), _esc(line))
                    for k, line in enumerate(lines))
    return '<text %s xml:space="preserve">%s</text>' % (_attrs(**kw), spans)


def render(layout):
    L = layout
    trace = L.trace
    W, H = L.width, L.height
    out = []
    add = out.append
    add('<?xml version="1.0" encoding="UTF-8"?>')
    add('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" %s>'
        % _attrs(width=float(round(W)), height=float(round(H)),
                 viewBox="0 0 %d %d" % (round(W), round(H)), font_family=SANS))
    add("<title>%s</title>" % _esc(clean_text(trace.title or "Ladder diagram")))
    desc = "Ladder diagram of %d steps between %s." % (len(L.rows), ", ".join(
        clean_text(a) for a in L.actors))
    if trace.verdict:
        desc += " " + clean_text(trace.verdict)
    add("<desc>%s</desc>" % _esc(desc))

    add("<defs>")
    for i, colour in enumerate(L.colour):
        add('<marker id="ladder-head-%d" viewBox="0 0 10 8" refX="10" refY="4" '
            'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="8" orient="auto">'
            '<path d="M0,0 L10,4 L0,8 Z" fill="%s"/></marker>' % (i, colour))
    add("</defs>")

    # Row shading and step numbers.
    add('<g class="rows">')
    for row in L.rows:
        if row.step % 2 == 0:
            add('<rect %s/>' % _attrs(x=6.0, y=row.top, width=W - 12, height=row.height,
                                      rx=3, fill=SHADE))
    for row in L.rows:
        add(_text(GUTTER - 12, row.top + row.height / 2 + STEP_FS * 0.36, [str(row.step)], 0,
                  font_size=STEP_FS, fill=MUTED, text_anchor="end"))
    add("</g>")

    # Title.
    if L.title_lines:
        add(_text(MARGIN, MARGIN + TITLE_FS, L.title_lines, TITLE_LH, class_="title",
                  font_size=TITLE_FS, font_weight="bold", fill=INK))

    # Lifelines and headers.
    add('<g class="lifelines">')
    for i, x in enumerate(L.xs):
        add('<line %s/>' % _attrs(x1=x, y1=L.head_top + L.head_h, x2=x, y2=L.foot_top,
                                  stroke=tint(L.colour[i], 0.35), stroke_width=1.5))
    add("</g>")
    for top in (L.head_top, L.foot_top):
        add('<g class="actors">')
        for i, name in enumerate(L.actors):
            x, hw, colour = L.xs[i], L.head_w[i], L.colour[i]
            add('<rect %s/>' % _attrs(x=x - hw / 2, y=top, width=hw, height=L.head_h, rx=5,
                                      fill=colour))
            role = trace.roles.get(name)
            if role:
                add(_text(x, top + 18, [clean_text(name)], 0, font_size=ACTOR_FS,
                          font_weight="bold", fill="#ffffff", text_anchor="middle"))
                add(_text(x, top + 34, [clean_text(role)], 0, font_size=ROLE_FS,
                          fill=tint(colour, 0.8), text_anchor="middle"))
            else:
                add(_text(x, top + L.head_h / 2 + ACTOR_FS * 0.36, [clean_text(name)], 0,
                          font_size=ACTOR_FS, font_weight="bold", fill="#ffffff",
                          text_anchor="middle"))
        add("</g>")

    # The records.
    for row in L.rows:
        kind = row.rec.kind
        x = L.xs[row.src]
        colour = L.colour[row.src]
        n = len(row.lines)
        ref = "step %d, line %d" % (row.step, row.rec.line)
        if kind in ("event", "state"):
            h = row.content_height()
            pad = BOX_PADX if kind == "event" else PILL_PADX
            w = row.text_w + 2 * pad
            first = row.anchor - n * LABEL_LH / 2 + LABEL_LH / 2 + LABEL_FS * 0.36
            if kind == "event":
                add('<g class="event"><title>%s</title>' % _esc(ref))
                add('<rect %s/>' % _attrs(x=x - w / 2, y=row.anchor - h / 2, width=w,
                                          height=h, rx=4, fill=tint(colour),
                                          stroke=colour, stroke_width=1.0))
                add(_text(x, first, row.lines, LABEL_LH, font_family=MONO,
                          font_size=LABEL_FS, fill=INK, text_anchor="middle"))
            else:
                add('<g class="state"><title>%s</title>' % _esc(ref))
                add('<rect %s/>' % _attrs(x=x - w / 2, y=row.anchor - h / 2, width=w,
                                          height=h, rx=min(h / 2, 11.0), fill="#ffffff",
                                          stroke=colour, stroke_width=1.2,
                                          stroke_dasharray="4 2.5"))
                add(_text(x, first, row.lines, LABEL_LH, font_family=MONO,
                          font_size=LABEL_FS, font_style="italic", fill=shadow(colour),
                          text_anchor="middle"))
            add("</g>")
        elif kind == "self":
            y0 = row.anchor - LOOP_H / 2
            y1 = row.anchor + LOOP_H / 2
            add('<g class="message"><title>%s</title>' % _esc(ref))
            add('<path %s/>' % _attrs(
                d="M%s,%s H%s V%s H%s" % (_num(x), _num(y0), _num(x + LOOP_W), _num(y1),
                                          _num(x + 1)),
                fill="none", stroke=colour, stroke_width=1.4, stroke_linejoin="round",
                marker_end="url(#ladder-head-%d)" % row.src))
            if row.text_w:
                first = row.anchor - n * LABEL_LH / 2 + LABEL_LH / 2 + LABEL_FS * 0.36
                add(_text(x + LOOP_W + 8, first, row.lines, LABEL_LH, font_family=MONO,
                          font_size=LABEL_FS, fill=INK))
            add("</g>")
        else:
            x2 = L.xs[row.dst]
            y = row.anchor
            direction = 1 if x2 > x else -1
            add('<g class="message"><title>%s</title>' % _esc(ref))
            if row.text_w:
                mid = (x + x2) / 2
                base = y - 4 - (n - 1) * LABEL_LH - LABEL_LH * 0.28
                if abs(row.dst - row.src) > 1:
                    # Hide the lifelines that the label passes over.
                    bg = SHADE if row.step % 2 == 0 else PAPER
                    add('<rect %s/>' % _attrs(x=mid - row.text_w / 2 - 3,
                                              y=y - 4 - n * LABEL_LH, width=row.text_w + 6,
                                              height=n * LABEL_LH + 1, fill=bg))
                add(_text(mid, base, row.lines, LABEL_LH, font_family=MONO,
                          font_size=LABEL_FS, fill=INK, text_anchor="middle"))
            add('<circle %s/>' % _attrs(cx=x, cy=y, r=2.6, fill=colour))
            add('<line %s/>' % _attrs(class_="arrow", x1=x + direction * 2, y1=y, x2=x2, y2=y,
                                      stroke=colour, stroke_width=1.4,
                                      marker_end="url(#ladder-head-%d)" % row.src))
            add("</g>")

    # Verdict.
    if L.verdict_lines:
        fg, bg = VERDICT_STYLE[verdict_kind(trace.verdict)]
        top = L.verdict_top
        h = len(L.verdict_lines) * VERDICT_LH + 12
        add('<g class="verdict">')
        add('<rect %s/>' % _attrs(x=MARGIN, y=top, width=W - 2 * MARGIN, height=h, rx=4,
                                  fill=bg))
        add('<rect %s/>' % _attrs(x=MARGIN, y=top, width=4.0, height=h, fill=fg))
        add(_text(MARGIN + 16, top + 6 + VERDICT_LH / 2 + VERDICT_FS * 0.36,
                  L.verdict_lines, VERDICT_LH, font_size=VERDICT_FS, font_weight="bold",
                  fill=fg))
        add("</g>")
    add("</svg>")
    return "\n".join(out) + "\n"


def render_trace(data):
    """Trace bytes -> (SVG text, Layout); raises LadderError."""
    layout = Layout(parse_trace(data))
    return render(layout), layout


# ---------------------------------------------------------------------------
# Command line

def _write(path, text):
    if path == "-":
        sys.stdout.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ladder-", suffix=".svg", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def convert(trace_path, out_path):
    try:
        with open(trace_path, "rb") as f:
            data = f.read()
    except OSError as exc:
        print("ladder: %s: cannot read: %s" % (trace_path, exc.strerror or exc), file=sys.stderr)
        return 1
    try:
        svg, _ = render_trace(data)
    except LadderError as exc:
        where = "%s:%d" % (trace_path, exc.line) if exc.line else trace_path
        print("ladder: %s: %s" % (where, exc.message), file=sys.stderr)
        return 1
    try:
        _write(out_path, svg)
    except OSError as exc:
        print("ladder: %s: cannot write: %s" % (out_path, exc.strerror or exc), file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------
# Self-test

SVG_NS = "{http://www.w3.org/2000/svg}"
SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "ladder"
EXPECT_RE = re.compile(r"^#\s*expect:\s*arrows=(\d+)\s+marks=(\d+)\s*$", re.MULTILINE)


def _count(svg_text):
    root = ET.fromstring(svg_text.encode("utf-8"))
    groups = [g.get("class") for g in root.iter(SVG_NS + "g")]
    arrows = groups.count("message")
    marks = groups.count("event") + groups.count("state")
    heads = sum(1 for e in root.iter() if e.get("marker-end"))
    return root, arrows, marks, heads


_ERROR_CASES = (
    ("A B hello\n", 1, "has no tab"),
    ("A\tB\n", 1, "only 2 fields"),
    ("# actors: A B\nA\t-\tx\nC\t-\ty\n", 3, "not in the '# actors:' list"),
    ("A\t-\t\n", 1, "empty label"),
    ("\tB\tx\n", 1, "empty actor name"),
    ("A\t\tx\n", 1, "empty second field"),
    ("A B\t-\tx\n", 1, "contains whitespace"),
    ("# title: a\n# title: b\nA\t-\tx\n", 2, "second '# title:'"),
    ("# actors: A A\nA\t-\tx\n", 1, "listed twice"),
    ("# just a comment\n\n", 0, "no records"),
    ("A\t-\tok\nA\t-\t\xff\xfe\n", 2, "not valid UTF-8"),
    ("# role: Z someone\nA\t-\tx\n", 1, "not in the diagram"),
    ("=\t-\tx\n", 1, "cannot be an actor name"),
)

_EDGE_TRACE = (
    "# title: <edge> & \"cases\" \u2014 escaping, wrapping, loops, wide text\n"
    "# verdict: neither OK nor FAIL\n"
    "# role: P a role with <markup> & ampersands\n"
    "P\t-\t<b>bold?</b> & 'quotes' \"double\" ]]> \x01\x7f tab\there\n"
    "P\tQ\t" + "a_very_long_identifier_without_any_spaces_at_all" * 3 + "\n"
    "Q\t=\t" + "state that goes on and on " * 8 + "\n"
    "Q\tQ\tself message to itself\n"
    "R\tP\t\u4e2d\u6587\u6807\u7b7e wide characters and e\u0301 combining\n"
    "P\tR\t\n"
    "R\t-\tx\n"
)


def self_test(keep_dir=None):
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: %s" % what)

    with tempfile.TemporaryDirectory(prefix="ladder-") as tmp:
        out_dir = Path(keep_dir) if keep_dir else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        samples = sorted(SAMPLES.glob("*.txt"))
        check(len(samples) >= 2, "samples in %s" % SAMPLES)
        for sample in samples:
            text = sample.read_text(encoding="utf-8")
            out = out_dir / (sample.stem + ".svg")
            rc = convert(str(sample), str(out))
            check(rc == 0, "%s renders" % sample.name)
            if rc:
                continue
            svg = out.read_text(encoding="utf-8")
            try:
                root, arrows, marks, heads = _count(svg)
            except ET.ParseError as exc:
                check(False, "%s: the SVG parses (%s)" % (out.name, exc))
                continue
            check(root.tag == SVG_NS + "svg", "%s: root is <svg>" % out.name)
            m = EXPECT_RE.search(text)
            check(m is not None, "%s has a '# expect: arrows=N marks=M' line" % sample.name)
            if m:
                want = (int(m.group(1)), int(m.group(2)))
                check((arrows, marks) == want, "%s: %d arrows and %d marks, expected %d and %d"
                      % (out.name, arrows, marks, want[0], want[1]))
                check(heads == want[0], "%s: every arrow has an arrowhead" % out.name)
            layout = Layout(parse_trace(sample.read_bytes()))
            width = float(root.get("width"))
            check(MIN_WIDTH - 1 <= width <= MAX_WIDTH, "%s: width %g is within %g..%g"
                  % (out.name, width, MIN_WIDTH, MAX_WIDTH))
            for problem in layout.problems():
                check(False, "%s: %s" % (out.name, problem))
            check(not re.search(r"var\(|foreignObject|<style|@import|href=\"http", svg),
                  "%s: plain SVG 1.1" % out.name)

        # Awkward labels: escaping, control characters, wrapping, loops.
        svg, layout = render_trace(_EDGE_TRACE.encode("utf-8"))
        try:
            root, arrows, marks, heads = _count(svg)
            check((arrows, marks, heads) == (4, 3, 4),
                  "edge trace: 4 arrows, 3 marks (got %d, %d)" % (arrows, marks))
            texts = "".join(root.itertext()).replace(" ", "")
            check("<b>bold?</b>&'quotes'\"double\"]]>" in texts,
                  "edge trace: the label comes back unchanged after escaping")
            check("\\x01\\x7f" in texts, "edge trace: control characters made visible")
        except ET.ParseError as exc:
            check(False, "edge trace: the SVG parses (%s)" % exc)
        check(layout.width <= MAX_WIDTH, "edge trace: width %g <= %g"
              % (layout.width, MAX_WIDTH))
        for problem in layout.problems():
            check(False, "edge trace: %s" % problem)
        if keep_dir:
            _write(str(out_dir / "edge-cases.svg"), svg)

        # Many actors with long labels still fit.
        many = "".join("A%d\tA%d\tsome fairly long message label number %d\n"
                       % (i, i + 1, i) for i in range(7))
        many += "".join("A%d\t-\tan event with a long label, long enough to wrap\n" % i
                        for i in range(8))
        _, layout = render_trace(many.encode())
        check(not layout.problems(), "eight actors: %s" % "; ".join(layout.problems()))

        # A single actor.
        svg, layout = render_trace(b"solo\t-\tonly event\n")
        check(_count(svg)[2] == 1 and not layout.problems(), "one actor, one event")

        # Malformed traces: message, line number, exit status, nothing written.
        for k, (text, line, fragment) in enumerate(_ERROR_CASES):
            bad = Path(tmp) / ("bad%d.txt" % k)
            bad.write_bytes(text.encode("latin-1"))
            out = Path(tmp) / ("bad%d.svg" % k)
            try:
                parse_trace(bad.read_bytes())
                check(False, "error case %d (%r) is rejected" % (k, fragment))
                continue
            except LadderError as exc:
                check(exc.line == line and fragment in exc.message,
                      "error case %d: expected line %d and %r, got line %d: %s"
                      % (k, line, fragment, exc.line, exc.message))
            saved = sys.stderr
            try:
                import io
                sys.stderr = io.StringIO()
                rc = convert(str(bad), str(out))
                message = sys.stderr.getvalue()
            finally:
                sys.stderr = saved
            where = "%s:%d: " % (bad, line) if line else "%s: " % bad
            check(rc == 1 and message.startswith("ladder: " + where) and not out.exists(),
                  "error case %d: exit 1 with 'ladder: FILE:LINE:' (got %d, %r)"
                  % (k, rc, message))

        # Wrapping keeps every character and respects the width.
        for text, cap in (("hmm_range_snapshot(&range) pfn 0x42 present", 100),
                          ("x" * 200, 90), ("  indented  text with  double spaces", 60)):
            lines = wrap(text, cap)
            check(all(mono_measure(l) <= cap for l in lines),
                  "wrap %r to %d px: %r" % (text[:20], cap, lines))
            check("".join(lines).replace(" ", "") == text.replace(" ", ""),
                  "wrap %r keeps every character" % text[:20])

    if keep_dir:
        print("ladder: rendered samples are in %s" % keep_dir)
    print("ladder self-test: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main(argv):
    parser = argparse.ArgumentParser(
        prog="ladder.py",
        description="Draw a recorded trace as a ladder (sequence) diagram in SVG.")
    parser.add_argument("trace", nargs="?", help="the trace (UTF-8 text)")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="the SVG to write (default: TRACE with .svg; '-' for stdout); "
                             "with --self-test, a directory that keeps the rendered samples")
    parser.add_argument("--self-test", action="store_true",
                        help="render the samples in tests/ladder/ and check the results")
    args = parser.parse_args(argv[1:])
    if args.self_test:
        if args.trace:
            parser.error("--self-test takes no trace")
        return self_test(args.output)
    if not args.trace:
        parser.error("a trace file is required")
    out = args.output or str(Path(args.trace).with_suffix(".svg"))
    if out != "-" and os.path.abspath(out) == os.path.abspath(args.trace):
        parser.error("the output would overwrite the trace")
    return convert(args.trace, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
