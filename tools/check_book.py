#!/usr/bin/env python3
"""check_book.py -- checks the rendered HTML book.

Usage: check_book.py DIR        check every .html file under DIR
       check_book.py --self-test

For every page it reports, naming the file and the link:
  * an internal link (a relative file, #fragment or file#fragment) to a
    missing file or to an anchor (id, or name of <a>) the target lacks;
  * an image, stylesheet or script that does not exist, or that is loaded
    from another site (the book must work offline);
  * an id used twice in one page;
  * noweb syntax showing in the text: a chunk reference `<<Name>>` (`<<`
    directly followed by a letter, with `>>` later on the same line; C's
    `1UL << 63` is fine), `[[` or `]]` in prose (in code only a `[[...]]`
    pair on one line), or a line that is `@`, or starts with `@ ` or `@<<`;
  * a line of code (in a <pre>) longer than MAX_CODE_COLUMNS characters, the
    widest the PDF prints without wrapping it.

Prints `check-book: N pages, M links, P problems`; exits 1 if P > 0.
"""

import html
import html.parser
import os
import re
import sys
import tempfile
from urllib.parse import unquote, urlsplit

BLOCK = {"address", "article", "aside", "blockquote", "br", "dd", "details",
         "div", "dl", "dt", "figcaption", "figure", "footer", "form", "h1",
         "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
         "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr",
         "ul", "title"}
HIDDEN = {"script", "style", "template"}
CODE = {"pre", "code"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = []
        self.links = []          # (kind, url, line)
        self.prose = []          # text chunks: (text, in_code)
        self.hidden = 0
        self.code = 0
        self.stack = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id",):
            if a.get(key):
                self.ids.append(a[key])
        if tag == "a" and a.get("name"):
            self.ids.append(a["name"])
        line = self.getpos()[0]
        if tag == "a" and a.get("href") is not None:
            self.links.append(("link", a["href"], line))
        elif tag == "img" and a.get("src") is not None:
            self.links.append(("image", a["src"], line))
        elif tag == "link" and a.get("href") is not None:
            self.links.append(("resource", a["href"], line))
        elif tag in ("script", "iframe", "source", "video", "audio") \
                and a.get("src"):
            self.links.append(("resource", a["src"], line))
        if tag in BLOCK:
            self.text("\n")
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag in HIDDEN:
            self.hidden += 1
        if tag in CODE:
            self.code += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID or tag not in self.stack:
            return
        while self.stack:
            t = self.stack.pop()
            if t in HIDDEN:
                self.hidden -= 1
            if t in CODE:
                self.code -= 1
            if t == tag:
                break
        if tag in BLOCK:
            self.text("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.text(data)

    def text(self, data):
        self.prose.append((data, self.code > 0))


def parse(path):
    p = Page()
    with open(path, encoding="utf-8", errors="replace") as f:
        p.feed(f.read())
    p.close()
    return p


CHUNK_REF = re.compile(r"<<[A-Za-z][^\n]*?>>")
QUOTE_PAIR = re.compile(r"\[\[[^\n]*?\]\]")


def leaks(page):
    """Problems with noweb syntax in the visible text of a page."""
    problems = []
    # split into lines, remembering which characters are code
    lines = [[]]
    for data, in_code in page.prose:
        parts = data.split("\n")
        for i, part in enumerate(parts):
            if i > 0:
                lines.append([])
            if part:
                lines[-1].append((part, in_code))
    for segs in lines:
        text = "".join(s for s, _ in segs)
        if not text.strip():
            continue
        stripped = text.strip()
        m = CHUNK_REF.search(text)
        if m:
            problems.append("noweb chunk reference in text: %r" % m.group())
        prose = "".join(s for s, c in segs if not c)
        code = "".join(s for s, c in segs if c)
        if "[[" in prose or "]]" in prose:
            problems.append("noweb [[ ]] in text: %r" % snippet(prose))
        elif QUOTE_PAIR.search(code):
            problems.append("noweb [[...]] in code: %r"
                            % QUOTE_PAIR.search(code).group())
        if stripped == "@" or stripped.startswith("@ ") \
                or stripped.startswith("@<<"):
            problems.append("noweb @ line in text: %r" % snippet(stripped))
    return problems


MAX_CODE_COLUMNS = 95
PRE_RE = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.S)
TAG_RE = re.compile(r"<[^>]+>")


def long_code_lines(path):
    """(line of the page, width) of each code line wider than the PDF's code column."""
    text = open(path, encoding="utf-8").read()
    found = []
    for m in PRE_RE.finditer(text):
        first = text.count("\n", 0, m.start(1)) + 1
        for k, line in enumerate(m.group(1).split("\n")):
            width = len(html.unescape(TAG_RE.sub("", line)).expandtabs(8))
            if width > MAX_CODE_COLUMNS:
                found.append((first + k, width))
    return found


def snippet(s, n=60):
    s = s.strip()
    return s if len(s) <= n else s[:n] + "..."


def check(root):
    root = os.path.abspath(root)
    pages = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith((".html", ".htm")):
                path = os.path.join(dirpath, f)
                pages[path] = parse(path)
    extra = {}

    def ids_of(path):
        if path in pages:
            return pages[path].ids
        if path not in extra:
            extra[path] = parse(path).ids if os.path.isfile(path) else []
        return extra[path]

    problems = []
    nlinks = 0
    for path, page in pages.items():
        rel = os.path.relpath(path, root)
        seen = set()
        for i in page.ids:
            if i in seen:
                problems.append("%s: duplicate id %r" % (rel, i))
            seen.add(i)
        for kind, url, line in page.links:
            nlinks += 1
            where = "%s:%d: %s %r" % (rel, line, kind, url)
            u = url.strip()
            parts = urlsplit(u)
            if parts.scheme or u.startswith("//"):
                if kind != "link" and parts.scheme not in ("data",):
                    problems.append(where + " is loaded from another site")
                continue
            if kind == "link" and u in ("", "#"):
                continue
            target = path
            if parts.path:
                target = os.path.normpath(os.path.join(os.path.dirname(path),
                                                       unquote(parts.path)))
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                if not os.path.exists(target):
                    problems.append(where + ": no such file")
                    continue
            if parts.fragment:
                frag = unquote(parts.fragment)
                if not target.endswith((".html", ".htm")):
                    continue
                if frag not in ids_of(target):
                    problems.append(where + ": no anchor #%s in %s"
                                    % (frag, os.path.relpath(target, root)))
        for p in leaks(page):
            problems.append("%s: %s" % (rel, p))
        for line, width in long_code_lines(path):
            problems.append("%s:%d: a code line of %d columns (the PDF prints %d)"
                            % (rel, line, width, MAX_CODE_COLUMNS))
    for p in problems:
        print("check-book: " + p)
    print("check-book: %d pages, %d links, %d problems"
          % (len(pages), nlinks, len(problems)))
    return problems, len(pages), nlinks


def self_test():
    good = """<!DOCTYPE html><html><head><title>t</title>
<link rel="stylesheet" href="style.css"></head><body>
<h1 id="top">Good</h1><p>See <a href="#top">top</a>, <a href="bad.html#x">x</a>,
<a href="sub/">sub</a> and <a href="https://kernel.org/">kernel.org</a>.</p>
<pre><code>x = 1UL &lt;&lt; 63;
y = a &lt;&lt; b &gt;&gt; c;
z = s-&gt;items[idx[i]];
<span>@</span>media is fine inside a line
/* exactly the widest line the PDF prints: ninety-five columns, tags not counted. */ x = 1234;;</code></pre>
<p>A shift <code>1 &lt;&lt; PAGE_SHIFT</code> is fine.</p>
<p>Email me @ home is fine.</p>
<img src="fig.svg" alt="f">
</body></html>"""
    bad = """<!DOCTYPE html><html><head><title>b</title>
<link rel="stylesheet" href="https://cdn.example.com/x.css"></head><body>
<p id="x">Broken <a href="missing.html">file</a>, <a href="good.html#nope">anchor</a>,
<a href="#gone">here</a>.</p>
<img src="figures/none.svg" alt="none">
<p>Leaked &lt;&lt;Walk the page table&gt;&gt; here.</p>
<p>Leaked [[addr]] quote.</p>
<pre><code>  &lt;&lt;Push v onto s&gt;&gt;
</code></pre>
<pre><code><span>static</span> int f(void) { return 0; } /* a comment that runs on past the column the PDF has, so far */
</code></pre>
<p>
@ a stray chunk end
</p>
<p id="x">dup</p>
</body></html>"""
    with tempfile.TemporaryDirectory() as d:
        for name, text in (("good.html", good), ("bad.html", bad),
                           ("style.css", "body{}"), ("fig.svg", "<svg/>")):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        os.mkdir(os.path.join(d, "sub"))
        with open(os.path.join(d, "sub", "index.html"), "w") as f:
            f.write("<html><body><p>sub</p></body></html>")
        problems, npages, nlinks = check(d)
    good_problems = [p for p in problems if p.startswith("good.html")]
    expected = [
        ("bad.html", "missing.html", "no such file"),
        ("bad.html", "good.html#nope", "no anchor #nope"),
        ("bad.html", "#gone", "no anchor #gone"),
        ("bad.html", "figures/none.svg", "no such file"),
        ("bad.html", "cdn.example.com", "another site"),
        ("bad.html", "<<Walk the page table>>", "chunk reference"),
        ("bad.html", "<<Push v onto s>>", "chunk reference"),
        ("bad.html", "[[addr]]", "[[ ]]"),
        ("bad.html", "@ a stray", "@ line"),
        ("bad.html", "'x'", "duplicate id"),
        ("bad.html", "of 97 columns", "code line"),
    ]
    failures = []
    for page, needle, what in expected:
        if not any(p.startswith(page) and needle in p and what in p
                   for p in problems):
            failures.append("not flagged: %s %s (%s)" % (page, needle, what))
    if good_problems:
        failures.append("false alarms: %s" % good_problems)
    if npages != 3:
        failures.append("expected 3 pages, parsed %d" % npages)
    for f in failures:
        print("self-test: FAIL: " + f)
    nchecks = len(expected) + 2
    print("link-check self-test: %d passed, %d failed" % (nchecks - len(failures), len(failures)))
    return 1 if failures else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: check_book.py DIR | --self-test\n")
        return 2
    if not os.path.isdir(argv[1]):
        sys.stderr.write("check-book: %s is not a directory\n" % argv[1])
        return 2
    problems, npages, _ = check(argv[1])
    if npages == 0:
        print("check-book: no pages found in %s" % argv[1])
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
