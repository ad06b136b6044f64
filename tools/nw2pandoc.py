#!/usr/bin/env python3
"""nw2pandoc.py -- noweb back end that writes Pandoc Markdown.

Reads the pipeline stream of ALL chapters (after finduses and noidx) on
stdin:

    markup chapters/*.nw | nwdefs.py | finduses | noidx | nw2pandoc.py ...

--format html  (default) writes one Markdown file per chapter into --outdir
               (NN-slug.md, with YAML metadata for book/template.html), plus
               index.md (title page and contents), chunk-index.md and
               identifier-index.md.  Code chunks become raw HTML blocks with
               numbered headers, links between the parts of a chunk, "used
               in" links, C highlighting, and links from every chunk
               reference and identifier to its definition.
--format latex writes ONE Markdown document (--output, default book.md) with
               all chapters in order and both indexes at the end, for the
               PDF: code chunks are fenced ```c blocks, headers and cross
               references are text and internal links.

Files are only rewritten when their contents change, so make rebuilds only
the pages that changed.  Warnings (undefined or unused chunks, chapters
without a title) go to stderr; a `@fatal` line in the stream is reported
and makes the back end exit 1.

Conventions it relies on (see book/book.mk):
  * chapters are NN-slug.nw; NN is the chapter number (00 is the preface and
    is not numbered in the PDF); the first `# Heading` is the chapter title;
  * chunk numbers are N followed by letters: 2a, 2b, ... 2z, 2aa: the chunks of chapter N
    in order;
  * an image whose path contains `figures/` is shown from the book's
    figures/ directory: `../figures/x.svg` becomes `figures/x.svg`;
  * a paragraph `<!-- include: PATH -->` is replaced by the Markdown in PATH;
  * an appendix is A-slug.nw (B-, ...): Appendix A, sections A.1, figures A.1;
  * a chapter's level-2 section whose heading carries the class `.appendix-B` is
    woven into appendix B instead, as a section "Chapter N: title" with its chunks
    (numbered as the appendix's); the chapter keeps a one-line pointer to it.  The
    tangled code does not change: the section stays in its chapter's file, so each
    chapter's prefix still builds on its own.
"""

import argparse
import glob
import html
import json
import os
import re
import sys

# ---------------------------------------------------------------------------
# Data model


class Chapter:
    def __init__(self, path, index):
        self.path = path
        self.stem = os.path.splitext(os.path.basename(path))[0]
        m = re.match(r"(\d+)", self.stem)
        appendix = re.match(r"([A-Z])-", self.stem)
        # An appendix (A-slug.nw) is designated by its letter: Appendix A, A.1, Figure A.1.
        self.appendix = bool(appendix) and not m
        self.number = int(m.group(1)) if m else appendix.group(1) if appendix else index
        self.page = self.stem + ".html"
        self.index = index       # position in the book
        self.items = []          # ('docs', lines) | ('code', Chunk)
        self.title = None        # Markdown
        self.title_plain = None
        self.sections = []       # (level, number, markdown title, id)
        self.nchunks = 0

    @property
    def numbered(self):
        return self.appendix or self.number > 0

    @property
    def label(self):
        if self.appendix:
            return "Appendix %s" % self.number
        return "Chapter %d" % self.number if self.numbered else ""


class Chunk:
    def __init__(self, chapter):
        self.chapter = chapter
        self.name = None
        self.label = None        # noidx label of this part
        self.firstdef = None     # noidx label of the first part
        self.prevdef = None
        self.nextdef = None
        self.continued = []
        self.usedin = []
        self.notused = False
        self.defines = []        # identifiers defined in this part
        self.uses = []           # (identifier, [defining labels])
        self.lines = []          # list of lists of segments
        self.k = 0               # number within the chapter
        self.part = 0            # 1-based part index for this name
        self.anchor = None

    @property
    def number(self):
        # Chapter number and letters (2a, 2b, ... 2z, 2aa): a chunk's number cannot be
        # mistaken for a section's, which is N.k.
        k, letters = self.k, ""
        while k > 0:
            k, r = divmod(k - 1, 26)
            letters = chr(ord("a") + r) + letters
        return "%s%s" % (self.chapter.number, letters)

    @property
    def href(self):
        return "%s#%s" % (self.chapter.page, self.anchor)


class Book:
    def __init__(self):
        self.chapters = []
        self.chunks = []             # all parts in stream order
        self.by_label = {}
        self.chunk_list = []         # (name, label, [use labels], [defn labels])
        self.ident_index = []        # (ident, first label, [defs], [uses])
        self.fatal = None


# ---------------------------------------------------------------------------
# Parsing the pipeline

def parse(lines):
    book = Book()
    chapter = None
    kind = None                  # 'docs' | 'code' | None
    chunk = None
    doclines = None
    cur = []                     # segments of the current line
    quote = None                 # segments of the current quote (docs)
    header = False
    pend_label = pend_ref = None
    pend_ident = None            # (ident, ref)
    group = None                 # current @xref/@index list being read
    isused = []
    isdefined = []
    centry = None
    ientry = None

    def target():
        return quote if quote is not None else cur

    def add_text(s):
        nonlocal pend_ident
        segs = target()
        if pend_ident is not None:
            ident, ref = pend_ident
            pend_ident = None
            if s.startswith(ident):
                segs.append(("id", ident, ref))
                s = s[len(ident):]
        if s:
            segs.append(("t", s))

    for raw in lines:
        line = raw.rstrip("\n")
        if not line.startswith("@"):
            continue
        kw, _, rest = line[1:].partition(" ")
        if kw == "fatal":
            book.fatal = rest
            return book
        if kw == "file":
            chapter = Chapter(rest, len(book.chapters))
            book.chapters.append(chapter)
        elif kw == "begin":
            if chapter is None:
                chapter = Chapter("untitled.nw", 0)
                book.chapters.append(chapter)
            kind = rest.split()[0]
            cur = []
            quote = None
            if kind == "code":
                chunk = Chunk(chapter)
                chunk.label, chunk.firstdef = pend_label, pend_ref
                pend_label = pend_ref = None
                header = True
                chapter.items.append(("code", chunk))
                book.chunks.append(chunk)
            else:
                doclines = []
                chapter.items.append(("docs", doclines))
        elif kw == "end":
            if kind == "docs":
                if cur:
                    doclines.append(cur)
            elif kind == "code" and chunk is not None:
                if cur:
                    chunk.lines.append(cur)
            cur = []
            kind = None
            chunk = None
        elif kw == "defn" and kind == "code":
            if header and chunk.name is None:
                chunk.name = rest
                if pend_label:
                    chunk.label = pend_label
                if pend_ref:
                    chunk.firstdef = pend_ref
                pend_label = pend_ref = None
        elif kw == "nl":
            if kind == "code":
                if header:
                    header = False
                else:
                    chunk.lines.append(cur)
                cur = []
            elif kind == "docs":
                if quote is not None:
                    quote.append(("t", " "))
                else:
                    doclines.append(cur)
                    cur = []
        elif kw in ("text", "literal"):
            if kind is not None:
                add_text(rest if kw == "text" else rest)
        elif kw == "quote" and kind == "docs":
            quote = []
        elif kw == "endquote" and kind == "docs":
            cur.append(("q", quote or []))
            quote = None
        elif kw == "use":
            if kind is not None:
                target().append(("use", rest, pend_ref))
            pend_ref = None
        elif kw == "xref":
            sub, _, arg = rest.partition(" ")
            if sub == "label":
                pend_label = arg
            elif sub == "ref":
                pend_ref = arg
            elif sub == "prevdef" and chunk:
                chunk.prevdef = arg
            elif sub == "nextdef" and chunk:
                chunk.nextdef = arg
            elif sub in ("begindefs", "beginuses"):
                group = sub
            elif sub in ("enddefs", "enduses"):
                group = None
            elif sub == "defitem" and chunk and group == "begindefs":
                chunk.continued.append(arg)
            elif sub == "useitem" and chunk and group == "beginuses":
                chunk.usedin.append(arg)
            elif sub == "notused" and chunk:
                chunk.notused = True
            elif sub == "chunkbegin":
                label, _, name = arg.partition(" ")
                centry = (name, label, [], [])
                book.chunk_list.append(centry)
            elif sub == "chunkuse" and centry:
                centry[2].append(arg)
            elif sub == "chunkdefn" and centry:
                centry[3].append(arg)
            elif sub == "chunkend":
                centry = None
        elif kw == "index":
            sub, _, arg = rest.partition(" ")
            if sub == "use":
                pend_ident = (arg, pend_ref)
                pend_ref = None
            elif sub in ("defn", "localdefn"):
                pend_ref = None
                if kind == "code":
                    cur.append(("defn", arg))
            elif sub == "begindefs":
                group, isused = "idefs", []
            elif sub == "isused":
                isused.append(arg)
            elif sub == "defitem" and chunk and group == "idefs":
                chunk.defines.append(arg)
                isused = []
            elif sub == "beginuses":
                group, isdefined = "iuses", []
            elif sub == "isdefined":
                isdefined.append(arg)
            elif sub == "useitem" and chunk and group == "iuses":
                chunk.uses.append((arg, isdefined))
                isdefined = []
            elif sub in ("enddefs", "enduses"):
                group = None
            elif sub == "entrybegin":
                label, _, ident = arg.partition(" ")
                ientry = (ident, label, [], [])
                book.ident_index.append(ientry)
            elif sub == "entrydefn" and ientry:
                ientry[2].append(arg)
            elif sub == "entryuse" and ientry:
                ientry[3].append(arg)
            elif sub == "entryend":
                ientry = None
        # @line, @language, @header, @trailer and unknown keywords: ignored
    return book


# ---------------------------------------------------------------------------
# Names, anchors, numbering

def slugify(text):
    text = text.replace("[[", "").replace("]]", "")
    text = re.sub(r"[^A-Za-z0-9]+", "-", text.lower()).strip("-")
    return text or "x"


def ident_id(ident):
    return "ident-" + re.sub(r"[^A-Za-z0-9_-]",
                             lambda m: ".%02X" % ord(m.group()), ident)


def is_file_name(name):
    return bool(re.match(r"^[\w.+-]+(/[\w.+-]+)*\.\w+$", name)) or "/" in name


APPENDIX_CLASS_RE = re.compile(r"\s*\.appendix-([A-Z])\b")


def heading_text(line):
    """The text a documentation line starts with (its first segment, if text)."""
    return line[0][1] if line and line[0][0] == "t" else ""


def split_at_sections(lines):
    """A docs item's lines, cut before each level-2 heading."""
    pieces, cur = [], []
    for segs in lines:
        if heading_text(segs).startswith("## ") and cur:
            pieces.append(cur)
            cur = []
        cur.append(segs)
    if cur:
        pieces.append(cur)
    return pieces


def moved_heading(ch, segs, appendix):
    """The section's heading in the appendix, and the pointer the chapter keeps."""
    text = APPENDIX_CLASS_RE.sub("", heading_text(segs))
    text = re.sub(r"\s*\{\s*\}\s*$", "", text)
    title = text[3:].strip()
    ident = "ch%02d-%s" % (ch.number, slugify(title))
    attrs = " {#%s}" % ident
    heading = [("t", "## Chapter %d: %s%s" % (ch.number, title, attrs))] + segs[1:]
    pointer = [[], [("t", "This chapter's section *%s* is in [Appendix %s](%s#%s)." %
                     (title, appendix.number, appendix.page, ident))], []]
    return heading, pointer


def move_to_appendices(book):
    """Weave the sections marked `.appendix-X` into appendix X (see the module notes)."""
    appendices = {ch.number: ch for ch in book.chapters if ch.appendix}
    for ch in book.chapters:
        if ch.appendix or not ch.numbered:
            continue
        kept, target = [], None
        for kind, item in ch.items:
            if kind == "code":
                if target is not None:
                    item.chapter = target
                (target.items if target is not None else kept).append((kind, item))
                continue
            for piece in split_at_sections(item):
                first = heading_text(piece[0])
                if first.startswith("## "):
                    m = APPENDIX_CLASS_RE.search(first)
                    target = appendices.get(m.group(1)) if m else None
                    if m and target is None:
                        raise SystemExit("nw2pandoc: %s: no appendix %s for %r"
                                         % (ch.path, m.group(1), first))
                    if target is not None:
                        heading, pointer = moved_heading(ch, piece[0], target)
                        piece = [[], heading] + piece[1:]
                        kept.append(("docs", pointer))
                (target.items if target is not None else kept).append(("docs", piece))
        ch.items = kept


def resolve(book):
    """Numbers, anchors, and identifier anchors."""
    slugs = {}
    parts = {}
    for ch in book.chapters:
        for kind, item in ch.items:
            if kind != "code":
                continue
            ch.nchunks += 1
            item.k = ch.nchunks
            parts[item.name] = parts.get(item.name, 0) + 1
            item.part = parts[item.name]
            base = slugify(item.name)
            owner = slugs.setdefault(base, item.name)
            if owner != item.name:
                n = 2
                while slugs.get("%s-%d" % (base, n), item.name) != item.name:
                    n += 1
                base = "%s-%d" % (base, n)
                slugs[base] = item.name
            item.anchor = "chunk-%s-%d" % (base, item.part)
            if item.label:
                book.by_label[item.label] = item
    book.first_part = {}
    for c in book.chunks:
        book.first_part.setdefault(c.name, c)
    book.parts_of = {}
    for c in book.chunks:
        book.parts_of.setdefault(c.name, []).append(c)
    # identifiers: the first defining chunk and the place in it
    book.ident_target = {}       # ident -> (chunk, anchor id or None)
    for ident, label, defs, uses in book.ident_index:
        chunk = book.by_label.get(label)
        if chunk is None:
            continue
        site = find_def_site(chunk, ident)
        if site is not None:
            li, si = site
            seg = chunk.lines[li][si]
            chunk.lines[li][si] = ("iddef",) + seg[1:]
            book.ident_target[ident] = (chunk, ident_id(ident))
        else:
            book.ident_target[ident] = (chunk, None)
    # struct, union and enum tags: `struct page` links, a variable `page` not
    book.tags = set()
    for ident, (chunk, anchor) in book.ident_target.items():
        for segs in chunk.lines:
            text = ""
            for seg in segs:
                if seg[0] == "iddef" and seg[1] == ident:
                    if TAG_BEFORE.search(text):
                        book.tags.add(ident)
                    break
                text += line_text([seg])
    book.tag_users = {}           # tag -> labels of chunks using `struct tag`
    if book.tags:
        pat = re.compile(r"\b(?:struct|union|enum)\s+([A-Za-z_]\w*)")
        for c in book.chunks:
            for segs in c.lines:
                for m in pat.finditer(line_text(segs)):
                    if m.group(1) in book.tags:
                        book.tag_users.setdefault(m.group(1), set()).add(c.label)


TAG_BEFORE = re.compile(r"\b(?:struct|union|enum)\s+$")


def line_text(segs):
    out = []
    for seg in segs:
        if seg[0] == "t":
            out.append(seg[1])
        elif seg[0] in ("id", "iddef"):
            out.append(seg[1])
        elif seg[0] == "use":
            out.append("\x00")
    return "".join(out)


def links_here(book, ident, before):
    """Whether a use of ident, after the text `before`, is a link."""
    if ident not in book.tags:
        return True
    return bool(TAG_BEFORE.search(before))


def find_def_site(chunk, ident):
    """(line, segment) of the identifier on its defining line, else first use."""
    first = None
    for li, segs in enumerate(chunk.lines):
        last = None
        for si, seg in enumerate(segs):
            if seg[0] == "id" and seg[1] == ident:
                last = (li, si)
                if first is None:
                    first = last
            elif seg[0] == "defn" and seg[1] == ident and last is not None:
                return last
    return first


def chunk_by_ref(book, label):
    return book.by_label.get(label) if label else None


def ident_href(book, ident, fmt):
    t = book.ident_target.get(ident)
    if t is None:
        return None
    chunk, anchor = t
    if fmt == "latex":
        return "#" + chunk.anchor
    return "%s#%s" % (chunk.chapter.page, anchor or chunk.anchor)


# ---------------------------------------------------------------------------
# Escaping helpers

def esc(s):
    return html.escape(s, quote=False)


def attr(s):
    return html.escape(s, quote=True)


MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+!|$^~@&])")


def md_escape(s):
    return MD_SPECIAL.sub(r"\\\1", s)


def md_code(s):
    """An inline code span holding s."""
    runs = [len(r) for r in re.findall(r"`+", s)]
    fence = "`" * ((max(runs) if runs else 0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return fence + pad + s + pad + fence


def raw_inline_html(s):
    runs = [len(r) for r in re.findall(r"`+", s)]
    fence = "`" * ((max(runs) if runs else 0) + 1)
    return fence + s + fence + "{=html}"


def name_parts(name):
    """Split a chunk name into ('t', text) and ('q', code) parts."""
    out = []
    pos = 0
    for m in re.finditer(r"\[\[(.*?)\]\]", name):
        if m.start() > pos:
            out.append(("t", name[pos:m.start()]))
        out.append(("q", m.group(1)))
        pos = m.end()
    if pos < len(name):
        out.append(("t", name[pos:]))
    return out


def name_html(name):
    return "".join(esc(t) if k == "t" else "<code>%s</code>" % esc(t)
                   for k, t in name_parts(name))


def name_md(name):
    return "".join(md_escape(t) if k == "t" else md_code(t)
                   for k, t in name_parts(name))


def name_plain(name):
    return "".join(t for _, t in name_parts(name))


# ---------------------------------------------------------------------------
# C highlighting

C_KEYWORDS = set("""
auto break case const continue default do else enum extern for goto if inline
register restrict return sizeof static struct switch typedef union volatile
while _Alignas _Alignof _Atomic _Generic _Noreturn _Static_assert
_Thread_local alignas alignof static_assert thread_local noreturn
__attribute__ asm __asm__ typeof __typeof__ __inline__ __restrict__
__volatile__ __extension__ offsetof
""".split())

C_TYPES = set("""
void char short int long float double signed unsigned bool _Bool _Complex
size_t ssize_t ptrdiff_t intptr_t uintptr_t off_t va_list FILE
int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t
u8 u16 u32 u64 s8 s16 s32 s64 atomic_int atomic_long atomic_bool atomic_uint
atomic_ulong atomic_size_t
""".split())

C_CONSTANTS = {"NULL", "true", "false", "EOF"}

LEX = re.compile(r"""
    (?P<cm>//.*|/\*)
  | (?P<st>"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)
  | (?P<id>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<nu>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.'])*)
  | (?P<ws>[ \t]+)
  | (?P<ot>.)
""", re.VERBOSE)


def highlight(text, state):
    """Classes for the characters of one line: list of (start, end, cls).

    state: dict with 'comment' (inside /* */) carried between lines.
    """
    spans = []
    pos = 0
    n = len(text)
    if state.get("comment"):
        end = text.find("*/")
        if end < 0:
            return [(0, n, "cm")]
        spans.append((0, end + 2, "cm"))
        state["comment"] = False
        pos = end + 2
    stripped = text[pos:].lstrip()
    pp = pos == 0 and stripped.startswith("#")
    include = False
    if pp:
        m = re.match(r"(\s*#\s*[A-Za-z_]*)", text)
        spans.append((m.start(1), m.end(1), "pp"))
        include = m.group(1).replace(" ", "").replace("\t", "") in (
            "#include", "#include_next")
        pos = m.end(1)
        if include:
            m2 = re.match(r"(\s*)(<[^>\n]*>)", text[pos:])
            if m2:
                s = pos + len(m2.group(1))
                spans.append((s, s + len(m2.group(2)), "st"))
                pos = s + len(m2.group(2))
    while pos < n:
        m = LEX.match(text, pos)
        if not m:
            break
        kind = m.lastgroup
        s, e = m.start(), m.end()
        if kind == "cm":
            if m.group() == "/*":
                end = text.find("*/", e)
                if end < 0:
                    spans.append((s, n, "cm"))
                    state["comment"] = True
                    return spans
                e = end + 2
            spans.append((s, e, "cm"))
        elif kind == "st":
            spans.append((s, e, "st"))
        elif kind == "nu":
            spans.append((s, e, "nu"))
        elif kind == "id":
            w = m.group()
            if w in C_KEYWORDS:
                spans.append((s, e, "kw"))
            elif w in C_TYPES or (w.endswith("_t") and len(w) > 2):
                spans.append((s, e, "ty"))
            elif w in C_CONSTANTS:
                spans.append((s, e, "nu"))
            elif pp:
                spans.append((s, e, "pi"))
        pos = e
    return spans


# ---------------------------------------------------------------------------
# Code chunks

def expand_tabs(s, col):
    out = []
    for ch in s:
        if ch == "\t":
            w = 8 - col % 8
            out.append(" " * w)
            col += w
        else:
            out.append(ch)
            col += 1
    return "".join(out), col


def normalize_lines(lines):
    """Expand tabs, strip common indentation and blank lines at both ends.

    Returns a list of lines; each line is a list of segments
    ('t', text) | ('id', ident, ref, text) | ('use', name, ref) | ('defn', x).
    """
    out = []
    for segs in lines:
        col = 0
        line = []
        for seg in segs:
            if seg[0] == "t":
                t, col = expand_tabs(seg[1], col)
                line.append(("t", t))
            elif seg[0] in ("id", "iddef"):
                line.append((seg[0], seg[1], seg[2], seg[1]))
                col += len(seg[1])
            elif seg[0] == "use":
                line.append(seg)
                col += len(seg[1]) + 4
            else:
                line.append(seg)
        out.append(line)

    def visible(line):
        return any(s[0] in ("id", "iddef", "use") or (s[0] == "t" and s[1].strip())
                   for s in line)

    def indent(line):
        n = 0
        for s in line:
            if s[0] == "t":
                stripped = s[1].lstrip(" ")
                n += len(s[1]) - len(stripped)
                if stripped:
                    return n
            elif s[0] == "defn":
                continue
            else:
                return n
        return n

    indices = [i for i, l in enumerate(out) if visible(l)]
    if not indices:
        return []
    out = out[indices[0]:indices[-1] + 1]
    common = min(indent(l) for l in out if visible(l))
    result = []
    for line in out:
        if not visible(line):
            result.append([s for s in line if s[0] == "defn"])
            continue
        cut = common
        new = []
        for s in line:
            if cut > 0 and s[0] == "t":
                k = min(cut, len(s[1]) - len(s[1].lstrip(" ")))
                cut -= k
                s = ("t", s[1][k:])
                if not s[1]:
                    continue
            new.append(s)
        if new and new[-1][0] == "t":
            new[-1] = ("t", new[-1][1].rstrip())
        result.append(new)
    return result


def chunk_ref_html(book, name, ref, page):
    target = chunk_by_ref(book, ref) or book.first_part.get(name)
    label = '\u27e8<span class="chunk-name">%s</span>' % name_html(name)
    if target is None:
        return ('<span class="chunk-ref undefined" title="undefined chunk">'
                '%s\u27e9</span>' % label)
    parts = book.parts_of.get(target.name, [target])
    title = "Defined in " + ", ".join(p.number for p in parts)
    return ('<a class="chunk-ref" href="%s" title="%s">%s '
            '<span class="chunk-num">%s</span>\u27e9</a>'
            % (attr(href_from(page, target)), attr(title), label,
               target.number))


def href_from(page, chunk, anchor=None):
    anchor = anchor or chunk.anchor
    if chunk.chapter.page == page:
        return "#" + anchor
    return "%s#%s" % (chunk.chapter.page, anchor)


def render_code_html(book, chunk):
    page = chunk.chapter.page
    lines = normalize_lines(chunk.lines)
    state = {}
    out = []
    for line in lines:
        text = []
        for s in line:
            if s[0] == "t":
                text.append(s[1])
            elif s[0] in ("id", "iddef"):
                text.append(s[3])
            elif s[0] == "use":
                text.append("\x00")
        full = "".join(text)
        classes = [None] * len(full)
        for a, b, cls in highlight(full, state):
            for i in range(a, min(b, len(full))):
                classes[i] = cls
        pos = 0
        html_parts = []
        for s in line:
            if s[0] == "defn":
                continue
            if s[0] == "use":
                html_parts.append(chunk_ref_html(book, s[1], s[2], page))
                pos += 1
                continue
            t = s[1] if s[0] == "t" else s[3]
            cls = classes[pos:pos + len(t)]
            inner = classed(t, cls)
            pos += len(t)
            if s[0] in ("id", "iddef") and cls and cls[0] in ("st", "cm"):
                html_parts.append(inner)    # no links in strings and comments
            elif s[0] == "id" and not links_here(book, s[1],
                                                 full[:pos - len(t)]):
                html_parts.append(inner)    # `page`, a variable, not the tag
            elif s[0] in ("id", "iddef"):
                ident = s[1]
                target = book.ident_target.get(ident)
                if s[0] == "iddef" and target is not None:
                    html_parts.append(
                        '<a class="ident def" id="%s" href="identifier-index.html#%s"'
                        ' title="Definition of %s (see the index for uses)">%s</a>'
                        % (attr(target[1]), attr("ix-" + target[1]),
                           attr(ident), inner))
                elif target is not None:
                    tchunk = target[0]
                    html_parts.append(
                        '<a class="ident" href="%s" title="%s, defined in %s">%s</a>'
                        % (attr(href_from(page, tchunk, target[1])),
                           attr(ident), tchunk.number, inner))
                else:
                    html_parts.append(inner)
            else:
                html_parts.append(inner)
        out.append("".join(html_parts))
    return "\n".join(out)


def classed(text, classes):
    out = []
    i = 0
    n = len(text)
    while i < n:
        cls = classes[i] if i < len(classes) else None
        j = i + 1
        while j < n and (classes[j] if j < len(classes) else None) == cls:
            j += 1
        piece = esc(text[i:j])
        out.append('<span class="%s">%s</span>' % (cls, piece) if cls else piece)
        i = j
    return "".join(out)


def fence_for(text, ch="`"):
    runs = [len(r) for r in re.findall(re.escape(ch) + "+", text)]
    return ch * max(3, (max(runs) if runs else 0) + 1)


def landing_files(book, name, seen=None):
    """The files of code/ that a chunk's text ends up in: the file chunks reached by
    following "used in" upwards."""
    seen = set() if seen is None else seen
    if name in seen:
        return []
    seen.add(name)
    first = book.first_part.get(name)
    if first is None:
        return []
    if first.notused:
        return ["code/" + name] if is_file_name(name) else []
    files = []
    for lab in first.usedin:
        user = book.by_label.get(lab)
        for f in landing_files(book, user.name, seen) if user is not None else []:
            if f not in files:
                files.append(f)
    return files


def chunk_meta(book, chunk, fmt):
    """Metadata items of a chunk: list of (label, markup) pairs."""
    first = book.first_part.get(chunk.name, chunk)
    page = chunk.chapter.page
    items = []

    def code(path):
        return '<code>%s</code>' % esc(path) if fmt == "html" else md_code(path)

    def link(c):
        if fmt == "html":
            return '<a href="%s">%s</a>' % (attr(href_from(page, c)), c.number)
        return "[%s](#%s)" % (c.number, c.anchor)

    users = []
    for lab in first.usedin:
        c = book.by_label.get(lab)
        if c is not None and c not in users:
            users.append(c)
    if first.notused:
        if is_file_name(chunk.name):
            path = "code/" + chunk.name
            items.append(("File", '<code>%s</code>' % esc(path)
                          if fmt == "html" else md_code(path)))
        else:
            items.append(("Root chunk", "not used in any other chunk"))
    elif users:
        files = landing_files(book, chunk.name)
        if files:
            items.append(("In", ", ".join(code(f) for f in files)))
        items.append(("Used in", ", ".join(link(c) for c in users)))
    if chunk.defines:
        if fmt == "html":
            defs = ", ".join(
                '<a class="ident-name" href="identifier-index.html#%s">%s</a>'
                % (attr("ix-" + ident_id(d)), '<code>%s</code>' % esc(d))
                for d in chunk.defines)
        else:
            defs = ", ".join(md_code(d) for d in chunk.defines)
        items.append(("Defines", defs))
    if fmt == "latex" and chunk.uses:
        uses = []
        for ident, labels in chunk.uses:
            if ident in book.tags and \
                    chunk.label not in book.tag_users.get(ident, ()):
                continue
            c = book.by_label.get(labels[0]) if labels else None
            uses.append(md_code(ident) + (" " + link(c) if c else ""))
        items.append(("Uses", ", ".join(uses)))
    return items


def render_chunk_html(book, chunk):
    page = chunk.chapter.page
    code = render_code_html(book, chunk)
    op = "\u2261" if not chunk.prevdef else "+\u2261"   # first in noweb's order
    nav = []
    prev = book.by_label.get(chunk.prevdef) if chunk.prevdef else None
    nxt = book.by_label.get(chunk.nextdef) if chunk.nextdef else None
    if prev:
        nav.append('<a class="prev-part" href="%s" title="Previous part: %s">'
                   '\u25b2</a>' % (attr(href_from(page, prev)), prev.number))
    if nxt:
        nav.append('<a class="next-part" href="%s" title="Next part: %s">'
                   '\u25bc</a>' % (attr(href_from(page, nxt)), nxt.number))
    meta = chunk_meta(book, chunk, "html")
    h = []
    h.append('<div class="chunk%s" id="%s">' % (
        " chunk-file" if chunk.notused and is_file_name(chunk.name) else "",
        attr(chunk.anchor)))
    h.append('<div class="chunk-head"><a class="chunk-title" href="#%s">'
             '\u27e8<span class="chunk-name">%s</span> '
             '<span class="chunk-num">%s</span>\u27e9<span class="chunk-op">%s'
             '</span></a>%s</div>'
             % (attr(chunk.anchor), name_html(chunk.name),
                chunk.number, op,
                ('<span class="chunk-nav">%s</span>' % " ".join(nav))
                if nav else ""))
    if meta:
        h.append('<div class="chunk-meta">%s</div>' % " ".join(
            '<span class="meta-item"><span class="meta-label">%s</span> %s'
            '</span>' % (esc(k), v) for k, v in meta))
    if code.strip():
        h.append('<pre class="chunk-code"><code>%s</code></pre>' % code)
    else:
        h.append('<p class="chunk-empty">Empty in this chapter: a place left for later '
                 'chapters, which continue it.</p>')
    h.append('</div>')
    body = "\n".join(h)
    f = fence_for(body)
    return "\n%s{=html}\n%s\n%s\n\n" % (f, body, f)


def render_chunk_latex(book, chunk):
    lines = normalize_lines(chunk.lines)
    text = []
    for line in lines:
        parts = []
        for s in line:
            if s[0] == "t":
                parts.append(s[1])
            elif s[0] in ("id", "iddef"):
                parts.append(s[3])
            elif s[0] == "use":
                target = chunk_by_ref(book, s[2]) or book.first_part.get(s[1])
                parts.append("\u27e8%s%s\u27e9" % (
                    name_plain(s[1]), " " + target.number if target else ""))
        text.append("".join(parts))
    code = "\n".join(text)
    op = "\u2261" if not chunk.prevdef else "+\u2261"   # first in noweb's order
    head = "[\u27e8%s %s\u27e9%s]{#%s}" % (name_md(chunk.name), chunk.number,
                                         op, chunk.anchor)
    meta = chunk_meta(book, chunk, "latex")
    prev = book.by_label.get(chunk.prevdef) if chunk.prevdef else None
    nxt = book.by_label.get(chunk.nextdef) if chunk.nextdef else None
    if prev:
        meta.insert(0, ("Continues", "[%s](#%s)" % (prev.number, prev.anchor)))
    if nxt:
        meta.append(("Continued in", "[%s](#%s)" % (nxt.number, nxt.anchor)))
    out = ["", "`\\needspace{5\\baselineskip}`{=latex}", "",
           "**%s**" % head]
    if meta:
        out.append("`{\\footnotesize{}`{=latex}" + "; ".join(
            "%s %s" % (k, v) for k, v in meta) + ".`}`{=latex}")
    f = fence_for(code)
    out += ["", f + "c", code, f, ""]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# Documentation chunks

PH_OPEN, PH_CLOSE = "\ue000", "\ue001"
PH_RE = re.compile(PH_OPEN + r"(\d+)" + PH_CLOSE)


def quote_plain(segs):
    out = []
    for s in segs:
        if s[0] == "t":
            out.append(s[1])
        elif s[0] == "id":
            out.append(s[1])
        elif s[0] == "use":
            out.append("<<%s>>" % s[1])
    return "".join(out)


class DocRenderer:
    def __init__(self, book, chapter, fmt, warn):
        self.book = book
        self.chapter = chapter
        self.fmt = fmt
        self.warn = warn
        self.fence = None
        self.ids = set()
        self.sec = [0, 0]
        self.figures = 0
        self.title_seen = False
        self.prev_blank = True

    # -- quotes -------------------------------------------------------------
    def quote(self, segs, in_heading):
        book = self.book
        fmt = self.fmt
        idents = [s for s in segs if s[0] == "id"]
        uses = [s for s in segs if s[0] == "use"]
        plain = "".join(s[1] if s[0] in ("t", "id") else "" for s in segs)
        named = book.first_part.get(plain)
        if named is not None and not in_heading:
            # [[src/page.c]]: the quoted name of a chunk links to it
            href = (self.rel(named.href) if fmt == "html"
                    else "#" + named.anchor)
            return "[%s](%s)" % (md_code(plain), href)
        if uses:
            # [[<<chunk>>]]: show the chunk reference
            s = uses[0]
            target = chunk_by_ref(book, s[2]) or book.first_part.get(s[1])
            return self.chunk_ref_md(s[1], target)
        if fmt == "html" and idents and not in_heading:
            parts = []
            before = ""
            for s in segs:
                if s[0] == "t":
                    parts.append(esc(s[1]))
                    before += s[1]
                elif s[0] == "id":
                    href = ident_href(book, s[1], "html")
                    if not links_here(book, s[1], before):
                        href = None
                    before += s[1]
                    if href:
                        t = book.ident_target[s[1]][0]
                        parts.append(
                            '<a class="ident" href="%s" title="%s, defined in %s">%s</a>'
                            % (attr(self.rel(href)), attr(s[1]), t.number,
                               esc(s[1])))
                    else:
                        parts.append(esc(s[1]))
            return raw_inline_html('<code class="q">%s</code>' % "".join(parts))
        if fmt == "latex" and len(idents) == 1 and not in_heading:
            href = ident_href(book, idents[0][1], "latex")
            if href and links_here(book, idents[0][1],
                                   plain[:plain.find(idents[0][1])]):
                return "[%s](%s)" % (md_code(plain), href)
        return md_code(plain)

    def rel(self, href):
        page = self.chapter.page if self.chapter else None
        if page and href.startswith(page + "#"):
            return href[len(page):]
        return href

    def chunk_ref_md(self, name, target):
        label = "\u27e8" + name_md(name)
        if target is None:
            return label + "\u27e9"
        label += " " + target.number + "\u27e9"
        if self.fmt == "html":
            return "[%s](%s){.chunk-ref}" % (
                label, self.rel(target.href))
        return "[%s](#%s)" % (label, target.anchor)

    # -- lines --------------------------------------------------------------
    def line(self, segs):
        """Markdown text for one documentation line."""
        quotes = []
        text = []
        for s in segs:
            if s[0] == "q":
                quotes.append(s[1])
                text.append("%s%d%s" % (PH_OPEN, len(quotes) - 1, PH_CLOSE))
            elif s[0] == "t":
                text.append(s[1])
            elif s[0] == "id":
                text.append(s[1])
            elif s[0] == "use":
                text.append("<<%s>>" % s[1])
        line = "".join(text)
        stripped = line.lstrip()
        # fenced code blocks in the prose are copied as they are
        if self.fence:
            if stripped.startswith(self.fence) and \
                    stripped.strip(self.fence[0]).strip() == "":
                self.fence = None
            return self.restore(line, quotes, plain=True)
        m = re.match(r"(`{3,}|~{3,})", stripped)
        if m:
            self.fence = m.group(1)
            return self.restore(line, quotes, plain=True)
        m = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if m:
            return self.heading(len(m.group(1)), m.group(2), quotes)
        line = self.inline(line, quotes)
        return line

    def restore(self, line, quotes, plain=False, in_heading=False):
        def sub(m):
            segs = quotes[int(m.group(1))]
            if plain:
                return quote_plain(segs)
            return self.quote(segs, in_heading)
        return PH_RE.sub(sub, line)

    def inline(self, line, quotes, in_heading=False):
        """Chunk references, images and quotes in a line of prose."""
        pieces = split_code_spans(line)
        out = []
        for is_code, piece in pieces:
            if is_code:
                piece = self.restore(piece, quotes, plain=True)
                if not in_heading:
                    piece = self.link_code_span(piece)
                out.append(piece)
                continue
            piece = re.sub(r"<<([^\s<>](?:[^<>]*?[^\s<>])?)>>",
                           lambda m: self.named_ref(m.group(1), quotes),
                           piece)
            piece = self.images(piece)
            piece = self.links(piece)
            out.append(self.restore(piece, quotes, in_heading=in_heading))
        return "".join(out)

    def link_code_span(self, span):
        """`sim_warn`, `struct page`, `put_page()`: a link to the definition."""
        m = re.match(r"^(`+)\s?((?:(?:struct|union|enum)\s+)?([A-Za-z_]\w*)"
                     r"(?:\(\))?)\s?\1$", span)
        if not m:
            return span
        ident, code = m.group(3), m.group(2)
        if ident not in self.book.ident_target:
            return span
        if ident in self.book.tags and not TAG_BEFORE.search(
                code[:code.rfind(ident)]):
            return span
        href = ident_href(self.book, ident, self.fmt)
        if self.fmt == "html":
            href = self.rel(href)
        return "[%s](%s)" % (span, href)

    def named_ref(self, inner, quotes):
        name = PH_RE.sub(lambda m: "[[%s]]" % quote_plain(quotes[int(m.group(1))]),
                         inner)
        target = self.book.first_part.get(name)
        if target is None:
            self.warn("%s: prose mentions <<%s>>, which is not a chunk"
                      % (self.chapter.path, name))
        return self.chunk_ref_md(name, target)

    def images(self, piece):
        def fix(path):
            i = path.rfind("figures/")
            if i >= 0 and not re.match(r"^[a-z]+:", path):
                return "figures/" + path[i + len("figures/"):]
            return path

        def sub(m):
            return m.group(1) + fix(m.group(2))
        piece = re.sub(r"(!\[[^\]]*\]\()([^)\s]+)", sub, piece)
        piece = re.sub(r"""(<img\b[^>]*\bsrc=["'])([^"']+)""", sub, piece)
        return piece

    def links(self, piece):
        """In the single PDF document, links to pages become internal."""
        if self.fmt != "latex":
            return piece
        pages = {c.page: c for c in self.book.chapters}

        def sub(m):
            dest = m.group(2)
            mm = re.match(r"^([\w.-]+\.html)?(#[\w.:-]+)?$", dest)
            if not mm or not (mm.group(1) or mm.group(2)):
                return m.group(0)
            ch = pages.get(mm.group(1)) if mm.group(1) else self.chapter
            if ch is None:
                return m.group(0)
            frag = mm.group(2)
            if not frag:
                return m.group(1) + "#chapter-" + ch.stem
            frag = frag[1:]
            if frag.startswith(("chunk-", "ident-")):
                return m.group(1) + "#" + frag
            return m.group(1) + "#" + latex_section_id(ch, frag)
        return re.sub(r"(\]\()([^)\s]+)(?=[)\s])", sub, piece)

    def heading(self, level, content, quotes):
        attrs = ""
        m = re.match(r"^(.*?)\s*\{([^{}]*)\}$", content)
        if m:
            content, attrs = m.group(1), m.group(2)
        content = re.sub(r"\s+#+$", "", content)
        unnumbered = bool(re.search(r"(^|\s)(-|\.unnumbered)(\s|$)", attrs))
        idm = re.search(r"#([\w:.-]+)", attrs)
        plain = PH_RE.sub(lambda m: quote_plain(quotes[int(m.group(1))]),
                          content)
        title_md = self.inline(content, quotes, in_heading=True)
        if level == 1 and not self.title_seen:
            self.title_seen = True
            self.chapter.title = title_md
            self.chapter.title_plain = plain
            if self.fmt == "html":
                return None
            cls = "" if self.chapter.numbered else " .unnumbered"
            pre = post = ""
            if self.chapter.appendix:
                pre = ("`\\appendix\\setcounter{chapter}{%d}`{=latex}\n\n"
                       % (ord(self.chapter.number) - ord("A")))
            elif self.chapter.numbered:
                pre = ("`\\setcounter{chapter}{%d}`{=latex}\n\n"
                       % (self.chapter.number - 1))
            else:
                post = "\n\n" + latex_mark(plain)
            return "%s# %s {#chapter-%s%s}%s" % (pre, title_md,
                                                self.chapter.stem, cls, post)
        if idm:
            ident = idm.group(1)
        else:
            ident = slugify(plain)
            if ident.startswith(("chunk-", "ident-", "fig-", "chapter-",
                                 "ix-", "letter-")) or ident[0].isdigit():
                ident = "sec-" + ident
        base, n = ident, 1
        while ident in self.ids:
            ident = "%s-%d" % (base, n)
            n += 1
        self.ids.add(ident)
        number = ""
        if level in (2, 3) and self.chapter.numbered and not unnumbered:
            if level == 2:
                self.sec = [self.sec[0] + 1, 0]
                number = "%s.%d" % (self.chapter.number, self.sec[0])
            else:
                self.sec[1] += 1
                number = "%s.%d.%d" % (self.chapter.number, self.sec[0],
                                       self.sec[1])
        if level in (2, 3):
            self.chapter.sections.append((level, number, title_md, ident))
        other = re.sub(r"#[\w:.-]+", "", attrs).strip()
        if self.fmt == "latex":
            full_id = latex_section_id(self.chapter, ident)
            if not self.chapter.numbered and "-" not in other.split():
                other = (other + " -").strip()
            return "%s %s {#%s%s}" % ("#" * level, title_md, full_id,
                                      " " + other if other else "")
        shown = ("[%s]{.secnum} " % number if number else "") + title_md
        return "%s %s {#%s%s}" % ("#" * level, shown, ident,
                                  " " + other if other else "")

    def figure(self, line):
        """Number a figure (an image alone in its paragraph) in HTML."""
        if self.fmt != "html" or self.fence:
            return line
        m = re.match(r"^!\[(.*)\]\(([^)]*)\)(\{[^}]*\})?\s*$", line)
        if not m:
            return line
        self.figures += 1
        label = ("Figure %s.%d" % (self.chapter.number, self.figures)
                 if self.chapter.numbered else "Figure %d" % self.figures)
        attrs = m.group(3) or ""
        if "#" not in attrs:
            fid = "#fig-%s-%d" % (self.chapter.number, self.figures)
            attrs = "{%s %s}" % (fid, attrs[1:-1]) if attrs else "{%s}" % fid
        caption = m.group(1)
        return "![[%s]{.figlabel} %s](%s)%s" % (label, caption, m.group(2), attrs)

    def docs(self, lines):
        out = []
        for segs in lines:
            was_fence = self.fence
            text = self.line(segs)
            if text is None:
                continue
            m = INCLUDE_RE.match(text)
            if m and not was_fence:
                out.extend(included(m.group(1), self.chapter.path))
                self.prev_blank = False
                continue
            if not was_fence and self.prev_blank:
                text = self.figure(text)
            self.prev_blank = text.strip() == ""
            out.append(text)
        return out


# A paragraph `<!-- include: PATH -->` stands for the Markdown in PATH (from the
# repository root), written by the build: measurements, a program's real output.
INCLUDE_RE = re.compile(r"^<!-- include: (\S+) -->\s*$")


def included(path, chapter_path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().rstrip("\n").split("\n")
    except OSError as e:
        sys.exit("nw2pandoc: %s includes %s: %s (the book's make rules build it)"
                 % (chapter_path, path, e.strerror))


def latex_escape(s):
    return re.sub(r"([\\{}$&#^_%~])",
                  lambda m: {"\\": r"\textbackslash{}", "^": r"\^{}",
                             "~": r"\~{}"}.get(m.group(1), "\\" + m.group(1)),
                  s)


def latex_mark(title):
    """Running heads for an unnumbered chapter."""
    t = latex_escape(title)
    return ("`\\markboth{\\MakeUppercase{%s}}{\\MakeUppercase{%s}}`{=latex}"
            % (t, t))


def latex_section_id(chapter, ident):
    """Ids of sections in the single PDF document: unique across chapters."""
    return "c%s--%s" % (chapter.stem, ident)


def split_code_spans(line):
    """[(is_code, text)] for a line of Markdown (backtick code spans)."""
    out = []
    pos = 0
    i = 0
    n = len(line)
    while i < n:
        if line[i] == "\\" and i + 1 < n:
            i += 2
            continue
        if line[i] == "`":
            j = i
            while j < n and line[j] == "`":
                j += 1
            run = line[i:j]
            close = re.compile(r"(?<!`)" + run + r"(?!`)")
            m = close.search(line, j)
            if m:
                if i > pos:
                    out.append((False, line[pos:i]))
                out.append((True, line[i:m.end()]))
                pos = i = m.end()
                continue
            i = j
            continue
        i += 1
    if pos < n:
        out.append((False, line[pos:]))
    return out


# ---------------------------------------------------------------------------
# Output

def yaml_str(s):
    return json.dumps(s, ensure_ascii=False)


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


# ---------------------------------------------------------------------------
# Complete files as they stand after a chapter

def tangle(book, name, upto, out, active):
    """Append ('mark', part) and ('line', segments) items for chunk `name`,
    using only parts from chapters up to index `upto` (as notangle -L would:
    code keeps its source columns)."""
    if name in active:
        return
    active.add(name)
    for part in book.parts_of.get(name, []):
        if part.chapter.index > upto:
            continue
        out.append(("mark", part))
        for segs in part.lines:
            uses = [x for x in segs if x[0] == "use"]
            rest = "".join(x[1] for x in segs if x[0] == "t")
            if len(uses) == 1 and not rest.strip() and \
                    not any(x[0] in ("id", "iddef") for x in segs):
                if uses[0][1] in book.parts_of:
                    tangle(book, uses[0][1], upto, out, active)
                else:
                    out.append(("line", segs))
                continue
            out.append(("line", segs))
    active.discard(name)


def listing_html(book, chapter, root):
    items = []
    tangle(book, root, chapter.index, items, set())
    page = chapter.page
    state = {}
    lines = []
    count = 0
    for item in items:
        if item[0] == "mark":
            part = item[1]
            lines.append('<a class="listing-mark" href="%s">/* \u27e8%s %s\u27e9 */</a>'
                         % (attr(href_from(page, part)), name_html(part.name),
                            part.number))
            continue
        col = 0
        text = []
        for seg in item[1]:
            if seg[0] == "t":
                t, col = expand_tabs(seg[1], col)
                text.append(t)
            elif seg[0] in ("id", "iddef"):
                text.append(seg[1])
                col += len(seg[1])
            elif seg[0] == "use":
                # a reference inside a line: shown by name, not expanded
                text.append("\u27e8%s\u27e9" % name_plain(seg[1]))
        lines.append(esc_with_classes("".join(text).rstrip(), state))
        count += 1
    return count, "\n".join(lines)


def esc_with_classes(text, state):
    classes = [None] * len(text)
    for a, b, cls in highlight(text, state):
        for i in range(a, min(b, len(text))):
            classes[i] = cls
    return classed(text, classes)


def listings_html(book, chapter):
    """Collapsed listings of the files this chapter adds to."""
    roots = []
    for c in book.chunks:
        if c.part == 1 and c.notused and is_file_name(c.name):
            roots.append(c.name)
    touched = set()
    for kind, item in chapter.items:
        if kind == "code":
            touched.add(item.name)
    blocks = []
    for root in sorted(roots):
        items = []
        tangle(book, root, chapter.index, items, set())
        names = {it[1].name for it in items if it[0] == "mark"}
        if not names & touched:
            continue
        count, body = listing_html(book, chapter, root)
        path = "code/" + root
        blocks.append(
            '<details class="listing" id="listing-%s">\n<summary><code>%s</code> '
            '<span class="listing-size">%d lines</span></summary>\n'
            '<pre class="chunk-code listing-code"><code>%s</code></pre>\n</details>'
            % (attr(slugify(root)), esc(path), count, body))
    if not blocks:
        return ""
    body = ('<section class="listings" id="listings">\n'
            '<p class="listings-title">The files as they stand after this chapter'
            '</p>\n%s\n</section>' % "\n".join(blocks))
    f = fence_for(body)
    return "\n%s{=html}\n%s\n%s\n" % (f, body, f)


def render_chapters(book, fmt, warn):
    bodies = {}
    for ch in book.chapters:
        r = DocRenderer(book, ch, fmt, warn)
        out = []
        for kind, item in ch.items:
            if kind == "docs":
                out.extend(r.docs(item))
            elif fmt == "html":
                out.append(render_chunk_html(book, item))
                r.prev_blank = True
            else:
                out.append(render_chunk_latex(book, item))
                r.prev_blank = True
        out.append(exercises_md(ch))
        if fmt == "html":
            out.append(listings_html(book, ch))
        if ch.title is None:
            warn("%s: no '# Title' heading; using the file name" % ch.path)
            ch.title = md_escape(ch.stem)
            ch.title_plain = ch.stem
            if fmt == "latex":
                out.insert(0, "# %s {#chapter-%s%s}\n" % (
                    ch.title, ch.stem, "" if ch.numbered else " .unnumbered"))
        text = "\n".join(out)
        text = re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
        bodies[ch.stem] = text
    return bodies


EXERCISES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exercises")
DIFFICULTY_MARK = {"1": "\u2460", "2": "\u2461", "3": "\u2462"}


def exercise_conf(path):
    conf = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, sep, value = line.partition("=")
            if sep and not key.strip().startswith("#"):
                conf[key.strip()] = value.strip()
    return conf


def exercise_points(path):
    total = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2 and not fields[0].startswith("#") and fields[1].isdigit():
                total += int(fields[1])
    return total


def exercises_md(ch):
    """The statements of the chapter's exercises (exercises/chNN-slug/NAME/README.md),
    in order of difficulty, each with its mark, points and directory."""
    number = ch.stem.split("-", 1)[0]
    found = []
    for chdir in sorted(glob.glob(os.path.join(EXERCISES_DIR, "ch%s-*" % number))):
        for conf_path in sorted(glob.glob(os.path.join(chdir, "*", "exercise.conf"))):
            exdir = os.path.dirname(conf_path)
            conf = exercise_conf(conf_path)
            with open(os.path.join(exdir, "README.md"), encoding="utf-8") as f:
                statement = f.read().strip()
            points = exercise_points(os.path.join(exdir, "tests", "points"))
            rel = "exercises/%s/%s/" % (os.path.basename(chdir), os.path.basename(exdir))
            found.append((conf.get("difficulty", "9"), conf.get("title", rel), points,
                          rel, statement, os.path.basename(exdir),
                          conf.get("kind") == "extension"))
    if not found:
        return ""
    out = ["\n## Exercises {#exercises-%s .unnumbered}\n" % number,
           "Each exercise replaces one file of this chapter's code with yours; "
           "`make grade SUBMISSION=DIR` builds and scores it (see the README). "
           "Difficulty runs from \u2460 to \u2462." +
           (" An *extension* starts from the book's own file and asks for something "
            "the book does not implement." if any(f[-1] for f in found) else "") + "\n"]
    # Fill-in exercises first, by difficulty; then the extensions.
    found.sort(key=lambda f: (f[-1], f[0], f[1]))
    for i, (level, title, points, rel, statement, name, ext) in enumerate(found, 1):
        out.append("::: {.exercise #exercise-%s}" % name)
        out.append("**Exercise %s.%d %s %s**%s \u00b7 %d points \u00b7 `%s`\n"
                   % (ch.number, i, DIFFICULTY_MARK.get(level, ""),
                      md_escape(title), " \u00b7 *extension*" if ext else "", points, rel))
        out.append(statement)
        out.append(":::\n")
    return "\n".join(out) + "\n"


def chapter_list_meta(book, current):
    out = []
    for ch in book.chapters:
        out.append("  - href: %s\n    number: %s\n    title: %s%s" % (
            yaml_str(ch.page), yaml_str(str(ch.number) if ch.numbered else ""),
            yaml_str(ch.title), "\n    current: true" if ch is current else ""))
    return "\n".join(out)


def front_matter(book, fields, current=None):
    lines = ["---"]
    for k, v in fields:
        if v is None:
            continue
        if v is True:
            lines.append("%s: true" % k)
        else:
            lines.append("%s: %s" % (k, yaml_str(v)))
    lines.append("chapters:")
    lines.append(chapter_list_meta(book, current))
    lines.append("---")
    return "\n".join(lines) + "\n\n"


def letter_of(s):
    for c in s:
        if c.isalpha():
            return c.upper()
    return "#"


def sort_key(s):
    s = name_plain(s)
    return (re.sub(r"^[^A-Za-z0-9]+", "", s).lower(), s)


def az_bar(letters, fmt):
    if fmt != "html":
        return ""
    return "::: {.az-bar}\n%s\n:::\n\n" % " ".join(
        "[%s](#letter-%s)" % (md_escape(l), "sym" if l == "#" else l.lower())
        for l in letters)


def chunk_index_md(book, fmt):
    names = sorted(book.parts_of, key=sort_key)
    out = []
    letters = []
    groups = {}
    for name in names:
        l = letter_of(name_plain(name))
        if l not in groups:
            groups[l] = []
            letters.append(l)
        groups[l].append(name)
    out.append(az_bar(letters, fmt))
    for l in letters:
        lid = "sym" if l == "#" else l.lower()
        if fmt == "html":
            out.append("## %s {#letter-%s .unnumbered}\n" % (md_escape(l), lid))
        else:
            out.append("## %s {#chunk-index-%s .unnumbered .unlisted}\n"
                       % (md_escape(l), lid))
        out.append("::: {.index-list}")
        for name in groups[l]:
            parts = book.parts_of[name]
            first = parts[0]
            users = []
            for lab in first.usedin:
                c = book.by_label.get(lab)
                if c is not None and c not in users:
                    users.append(c)

            def ref(c):
                return "[%s](%s)" % (c.number, c.href if fmt == "html"
                                     else "#" + c.anchor)
            entry = "- [\u27e8%s\u27e9](%s){.chunk-ref}: %s" % (
                name_md(name),
                first.href if fmt == "html" else "#" + first.anchor,
                ", ".join(ref(c) for c in parts))
            if users:
                entry += "; used in " + ", ".join(ref(c) for c in users)
            elif first.notused and is_file_name(name):
                entry += "; the file " + md_code("code/" + name)
            out.append(entry)
        out.append(":::\n")
    return "\n".join(out)


def ident_index_md(book, fmt):
    entries = sorted(book.ident_index, key=lambda e: (e[0].lstrip("_").lower(),
                                                      e[0]))
    letters = []
    groups = {}
    for e in entries:
        l = letter_of(e[0].lstrip("_")) if e[0].lstrip("_") else "#"
        if not e[0][:1].isalpha() and not e[0].lstrip("_")[:1].isalpha():
            l = "#"
        if l not in groups:
            groups[l] = []
            letters.append(l)
        groups[l].append(e)
    out = [az_bar(letters, fmt)]
    for l in letters:
        lid = "sym" if l == "#" else l.lower()
        if fmt == "html":
            out.append("## %s {#letter-%s .unnumbered}\n" % (md_escape(l), lid))
        else:
            out.append("## %s {#ident-index-%s .unnumbered .unlisted}\n"
                       % (md_escape(l), lid))
        out.append("::: {.index-list}")
        for ident, label, defs, uses in groups[l]:
            def ref(lab):
                c = book.by_label.get(lab)
                if c is None:
                    return None
                return "[%s](%s)" % (c.number, c.href if fmt == "html"
                                     else "#" + c.anchor)
            dl = [r for r in (ref(x) for x in defs) if r]
            ul = []
            if ident in book.tags:
                users = book.tag_users.get(ident, set())
                uses = [x for x in uses if x in users]
            for x in uses:
                r = ref(x)
                if r and r not in ul:
                    ul.append(r)
            href = ident_href(book, ident, fmt) or ""
            if fmt == "html":
                entry = "- [%s](%s){#%s .ident}" % (
                    md_code(ident), href, "ix-" + ident_id(ident))
            else:
                entry = "- [%s](%s)" % (md_code(ident), href)
            entry += ": defined in " + (", ".join(dl) or "?")
            entry += "; used in " + ", ".join(ul) if ul else "; not used elsewhere"
            out.append(entry)
        out.append(":::\n")
    return "\n".join(out)


def contents_md(book):
    out = ['::: {.book-toc}']
    for ch in book.chapters:
        num = "[%s]{.tocnum} " % ch.number if ch.numbered else ""
        out.append("- %s[%s](%s){.toc-chapter}" % (num, ch.title, ch.page))
        for level, number, title, ident in ch.sections:
            indent = "    " * (level - 1)
            n = "[%s]{.tocnum} " % number if number else ""
            out.append("%s- %s[%s](%s#%s)" % (indent, n, title, ch.page, ident))
    out.append("- [Index of chunks](chunk-index.html){.toc-chapter}")
    out.append("- [Index of identifiers](identifier-index.html){.toc-chapter}")
    out.append(":::")
    return "\n".join(out) + "\n"


def write_html(book, bodies, outdir):
    os.makedirs(outdir, exist_ok=True)
    seq = ([("index", "index.html", "Contents")] +
           [(c.stem, c.page, c) for c in book.chapters] +
           [("chunk-index", "chunk-index.html", "Index of chunks"),
            ("identifier-index", "identifier-index.html",
             "Index of identifiers")])

    def title_of(entry):
        t = entry[2]
        if isinstance(t, Chapter):
            return ((t.label + ": ") if t.numbered else "") + t.title_plain
        return t

    written = []
    for i, entry in enumerate(seq):
        stem, page, obj = entry
        prev = seq[i - 1] if i > 0 else None
        nxt = seq[i + 1] if i + 1 < len(seq) else None
        fields = []
        current = None
        if isinstance(obj, Chapter):
            current = obj
            fields += [("title", obj.title),
                       ("pagetitle", title_of(entry)),
                       ("chapter-label", obj.label or None),
                       ("chapter-page", True)]
            body = bodies[stem]
        elif stem == "index":
            fields += [("titlepage", True), ("pagetitle", None)]
            body = contents_md(book)
        elif stem == "chunk-index":
            fields += [("title", "Index of Chunks"),
                       ("pagetitle", "Index of Chunks"), ("index-page", True)]
            body = ("Every chunk, with the numbers of its parts and of the "
                    "chunks that use it. Chunk Nx is the x-th chunk (a, b, ...) of "
                    "chapter N.\n\n" + chunk_index_md(book, "html"))
        else:
            fields += [("title", "Index of Identifiers"),
                       ("pagetitle", "Index of Identifiers"),
                       ("index-page", True)]
            body = ("Every C name defined in the book: the chunks that "
                    "define it and the chunks that use it.\n\n"
                    + ident_index_md(book, "html"))
        if prev:
            fields += [("prev-href", prev[1]), ("prev-title", title_of(prev))]
        if nxt:
            fields += [("next-href", nxt[1]), ("next-title", title_of(nxt))]
        fields.append(("page-name", page))
        text = front_matter(book, fields, current) + body
        path = os.path.join(outdir, stem + ".md")
        write_if_changed(path, text)
        written.append(path)
    # remove pages of chapters that no longer exist
    keep = {os.path.basename(p) for p in written}
    for f in os.listdir(outdir):
        if f.endswith(".md") and f not in keep:
            os.remove(os.path.join(outdir, f))


def write_latex(book, bodies, outdir, output):
    os.makedirs(outdir, exist_ok=True)
    out = []
    for ch in book.chapters:
        out.append(bodies[ch.stem])
    out.append("# Index of Chunks {#chunk-index .unnumbered}\n")
    out.append(latex_mark("Index of Chunks") + "\n")
    out.append(chunk_index_md(book, "latex"))
    out.append("# Index of Identifiers {#identifier-index .unnumbered}\n")
    out.append(latex_mark("Index of Identifiers") + "\n")
    out.append(ident_index_md(book, "latex"))
    text = "\n".join(out)
    write_if_changed(os.path.join(outdir, output), text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--format", choices=("html", "latex"), default="html")
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--output", default="book.md",
                    help="file name of the single document (latex format)")
    ap.add_argument("--strict", action="store_true",
                    help="treat warnings as errors")
    args = ap.parse_args(argv)
    stream = sys.stdin.read().splitlines()
    book = parse(stream)
    if book.fatal is not None:
        sys.stderr.write("nw2pandoc: fatal error from %s\n" % book.fatal)
        return 1
    if not book.chapters:
        sys.stderr.write("nw2pandoc: no chapters in the input\n")
        return 1
    warnings = []

    def warn(msg):
        if msg not in warnings:
            warnings.append(msg)
            sys.stderr.write("nw2pandoc: warning: %s\n" % msg)
    move_to_appendices(book)
    resolve(book)
    for c in book.chunks:
        for line in c.lines:
            for s in line:
                if s[0] == "use" and s[1] not in book.parts_of:
                    warn("%s: chunk %s uses undefined chunk <<%s>>"
                         % (c.chapter.path, c.number, s[1]))
        if c.part == 1 and c.notused and not is_file_name(c.name):
            warn("%s: chunk <<%s>> (%s) is never used"
                 % (c.chapter.path, c.name, c.number))
    bodies = render_chapters(book, args.format, warn)
    if args.format == "html":
        write_html(book, bodies, args.outdir)
    else:
        write_latex(book, bodies, args.outdir, args.output)
    if args.strict and warnings:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
