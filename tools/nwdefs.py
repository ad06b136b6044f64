#!/usr/bin/env python3
"""nwdefs.py -- a noweb filter that finds C definitions in code chunks.

Reads the noweb pipeline representation on stdin and writes it to stdout
unchanged, except that an `@index defn NAME` line is inserted (just before
the `@nl` that ends the defining line, where noweb's autodefs.c puts them)
for every C name defined at file scope:

  * function definitions      (`static inline uint32_t f(...) {`)
  * struct / union / enum tags (`struct page {`)
  * enumeration constants      (inside an enum body)
  * macros                     (`#define X`, `#define F(a)`)
  * typedef names              (`typedef uint64_t pte_t;`, `typedef int (*fn)(void);`)
  * file-scope variables       (`static unsigned long nr_pages = 0;`)
  * Check tests                (`START_TEST(name)`)

Chunks are fragments, so the scanner is lenient.  The context in which a
chunk starts (file scope, inside a struct, inside an enum, inside a function
body, inside an initializer) is taken from the place where the chunk is
used: roots start at file scope, and every chunk inherits the context of its
first use.  A chunk that is never used starts at file scope when its first
line starts in column 0 and inside a block otherwise.  Prototypes and
`extern` declarations are not definitions.  Explicit `@ %def` definitions
are left as they are (a name is never emitted twice for the same chunk).

Usage: markup *.nw | nwdefs.py | finduses | noidx | BACKEND
"""

import re
import sys

KEYWORDS = set("""
auto break case char const continue default do double else enum extern float
for goto if inline int long register restrict return short signed sizeof static
struct switch typedef union unsigned void volatile while _Bool _Complex
_Imaginary _Alignas _Alignof _Atomic _Generic _Noreturn _Static_assert
_Thread_local bool true false NULL alignas alignof noreturn static_assert
thread_local __attribute__ __attribute __typeof__ __typeof typeof asm __asm__
__asm __inline__ __inline __restrict__ __restrict __volatile__ __extension__
__declspec __thread __builtin_va_list
""".split())

ATTRIBUTE_WORDS = {"__attribute__", "__attribute", "__declspec", "_Alignas",
                   "alignas", "__typeof__", "__typeof", "typeof", "_Atomic",
                   "__asm__", "__asm", "asm"}

NOT_STATEMENT_START = {"return", "if", "else", "for", "while", "do", "switch",
                       "case", "default", "goto", "break", "continue",
                       "sizeof"}

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<lcomment>//.*)
  | (?P<bcomment>/\*)
  | (?P<string>"(?:[^"\\]|\\.)*"?)
  | (?P<char>'(?:[^'\\]|\\.)*'?)
  | (?P<ident>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
  | (?P<punct>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>=?:;,.(){}\[\]#\\])
  | (?P<other>.)
""", re.VERBOSE)

# Names that are defined but never indexed.  The kernel's `struct range` (chapter 7)
# shares its name with the book's most common variable, `range`; indexing it would turn
# every notifier range in every chapter into a link to a pfn range.
NOT_INDEXED = {"range"}

DEFINE_RE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z_0-9]*)")


class Context:
    """One level of the brace stack."""
    __slots__ = ("kind", "stmt", "depth", "expect")

    def __init__(self, kind):
        self.kind = kind      # 'top', 'agg', 'enum', 'block', 'init'
        self.stmt = []        # tokens of the current declaration (top/agg)
        self.depth = 0        # () and [] nesting inside the statement
        self.expect = kind == "enum"   # enum: next identifier is a constant


class Scanner:
    """Scans the lines of one chunk part; reports definitions and use contexts."""

    def __init__(self, kind):
        self.stack = [Context(kind)]
        self.in_comment = False
        self.pp_cont = False
        self.defs = []        # (line index, name)
        self.uses = []        # (use index, context kind)

    # -- definitions ------------------------------------------------------
    def define(self, lineno, name):
        if name and name not in KEYWORDS and len(name) > 1:
            self.defs.append((lineno, name))

    # -- lines ------------------------------------------------------------
    def line(self, lineno, pieces):
        """pieces: list of str and ('use', index) for chunk references."""
        text = "".join(p for p in pieces if isinstance(p, str))
        if self.pp_cont:
            self.pp_cont = text.rstrip().endswith("\\")
            return
        if not self.in_comment and text.lstrip().startswith("#"):
            m = DEFINE_RE.match(text)
            if m:
                self.define(lineno, m.group(1))
            self.pp_cont = text.rstrip().endswith("\\")
            # a block comment may open on a directive line
            rest = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
            rest = re.sub(r"/\*.*?\*/", " ", rest)
            rest = re.sub(r"//.*", "", rest)
            if "/*" in rest:
                self.in_comment = True
            return
        for piece in pieces:
            if isinstance(piece, tuple):        # ('use', index)
                self.use(piece[1])
            else:
                self.tokens(lineno, piece)

    def tokens(self, lineno, text):
        pos = 0
        n = len(text)
        while pos < n:
            if self.in_comment:
                end = text.find("*/", pos)
                if end < 0:
                    return
                self.in_comment = False
                pos = end + 2
                continue
            m = TOKEN_RE.match(text, pos)
            if not m:
                return
            pos = m.end()
            kind = m.lastgroup
            if kind in ("ws", "lcomment"):
                continue
            if kind == "bcomment":
                self.in_comment = True
                continue
            if kind in ("string", "char", "number", "other"):
                self.token((kind, m.group()), lineno)
            elif kind == "ident":
                self.token(("ident", m.group()), lineno)
            else:
                self.token(("punct", m.group()), lineno)

    # -- chunk uses -------------------------------------------------------
    def use(self, index):
        ctx = self.stack[-1]
        kind = ctx.kind
        if kind in ("top", "agg") and ctx.stmt:
            # a reference in the middle of a declaration: inside an expression
            kind = "init" if ctx.depth == 0 else "block"
            ctx.stmt.append(("use", "<<>>", -1))
        if kind == "enum":
            kind = "enum" if ctx.expect else "init"
        self.uses.append((index, kind))

    # -- tokens -----------------------------------------------------------
    def token(self, tok, lineno):
        kind, val = tok
        ctx = self.stack[-1]
        if ctx.kind in ("block", "init"):
            if val == "{" and kind == "punct":
                self.stack.append(Context(ctx.kind))
            elif val == "}" and kind == "punct":
                self.close()
            return
        if ctx.kind == "enum":
            self.enum_token(ctx, kind, val, lineno)
            return
        # declaration context: 'top' or 'agg'
        if kind == "punct" and val in "([":
            ctx.depth += 1
            ctx.stmt.append((kind, val, lineno))
        elif kind == "punct" and val in ")]":
            ctx.depth = max(0, ctx.depth - 1)
            ctx.stmt.append((kind, val, lineno))
        elif kind == "punct" and val == "{":
            self.open_brace(ctx)
        elif kind == "punct" and val == "}":
            self.close()
        elif kind == "punct" and val == ";" and ctx.depth == 0:
            if ctx.kind == "top":
                self.declaration(ctx.stmt)
            ctx.stmt = []
        else:
            ctx.stmt.append((kind, val, lineno))

    def enum_token(self, ctx, kind, val, lineno):
        if kind == "punct" and val in "([{":
            ctx.depth += 1
        elif kind == "punct" and val in ")]":
            ctx.depth = max(0, ctx.depth - 1)
        elif kind == "punct" and val == "}":
            if ctx.depth > 0:
                ctx.depth -= 1
            else:
                self.close()
        elif ctx.depth == 0 and kind == "punct" and val == ",":
            ctx.expect = True
        elif ctx.depth == 0 and kind == "ident" and ctx.expect:
            self.define(lineno, val)
            ctx.expect = False
        elif kind != "ident":
            ctx.expect = False

    def close(self):
        if len(self.stack) > 1:
            self.stack.pop()
            parent = self.stack[-1]
            if parent.kind in ("top", "agg") and parent.stmt \
                    and parent.stmt[-1][0] == "fnbody":
                parent.stmt = []        # a function body ends its statement
        else:
            # unbalanced closing brace: the chunk ends something it did not
            # open; start over in the same context
            self.stack[0].stmt = []
            self.stack[0].depth = 0

    def open_brace(self, ctx):
        stmt = ctx.stmt
        if ctx.depth > 0:
            self.stack.append(Context("init"))
            return
        vals = [t[1] for t in stmt if t[0] != "use"]
        if "=" in vals:
            stmt.append(("initbody", "{}", -1))
            self.stack.append(Context("init"))
            return
        tagkw = None
        rest = strip_attributes(stmt)
        if rest and rest[-1][0] == "ident" and rest[-1][1] in TAG_WORDS:
            tagkw = len(rest) - 1
        elif len(rest) >= 2 and rest[-2][0] == "ident" \
                and rest[-2][1] in TAG_WORDS:
            tagkw = len(rest) - 2
        if tagkw is not None:
            stmt = rest
            kw = stmt[tagkw][1]
            if tagkw + 1 < len(stmt) and stmt[tagkw + 1][0] == "ident" \
                    and stmt[tagkw + 1][1] not in KEYWORDS:
                self.define(stmt[tagkw + 1][2], stmt[tagkw + 1][1])
            ctx.stmt.append(("body", "{}", -1))
            self.stack.append(Context("enum" if kw == "enum" else "agg"))
            return
        if ctx.kind == "top":
            self.function(stmt)
        stmt.append(("fnbody", "{}", -1))
        self.stack.append(Context("block"))

    # -- analysis of complete statements ------------------------------------
    def function(self, stmt):
        """A `{` at file scope after a statement with parentheses."""
        if not stmt or stmt[0][1] in NOT_STATEMENT_START:
            return
        depth = 0
        for i, t in enumerate(stmt):
            if t[0] == "punct" and t[1] in "([":
                if depth == 0 and t[1] == "(" and i > 0:
                    prev = stmt[i - 1]
                    if prev[0] == "ident" and prev[1] not in ATTRIBUTE_WORDS:
                        if prev[1] == "START_TEST":
                            if i + 1 < len(stmt) and stmt[i + 1][0] == "ident":
                                self.define(stmt[i + 1][2], stmt[i + 1][1])
                            return
                        if prev[1] in KEYWORDS:
                            return
                        if i - 1 >= 1:      # there is a return type
                            self.define(prev[2], prev[1])
                        return
                depth += 1
            elif t[0] == "punct" and t[1] in ")]":
                depth -= 1

    def declaration(self, stmt):
        """A `;` at file scope: typedefs and variables are definitions."""
        if not stmt:
            return
        first = stmt[0][1]
        if first in NOT_STATEMENT_START or first == "extern":
            return
        if first in ("_Static_assert", "static_assert"):
            return
        typedef = first == "typedef"
        body = None
        for i, t in enumerate(stmt):
            if t[0] == "body":
                body = i
        if body is not None:
            segments = split_commas(stmt[body + 1:])
            for seg in segments:
                name = declarator_name(seg)
                if name:
                    self.define(name[1], name[0])
            return
        segments = split_commas(stmt)
        if not segments:
            return
        head = segments[0]
        # a prototype or a macro call: `name(` at depth 0 that is not `(*`
        if not typedef and is_prototype(head):
            return
        if len([t for t in cut_initializer(head)
                if t[0] == "ident" or t[1] == "*"]) < 2:
            return      # `x;` or `x = 1;`: not a declaration we can read
        for seg in segments:
            name = declarator_name(seg)
            if name:
                self.define(name[1], name[0])


TAG_WORDS = ("struct", "union", "enum")


def strip_attributes(stmt):
    """The statement without trailing `__attribute__((...))` groups."""
    out = list(stmt)
    while len(out) >= 2 and out[-1][1] == ")":
        depth = 0
        for i in range(len(out) - 1, -1, -1):
            if out[i][1] == ")":
                depth += 1
            elif out[i][1] == "(":
                depth -= 1
                if depth == 0:
                    break
        if i > 0 and out[i - 1][1] in ATTRIBUTE_WORDS:
            out = out[:i - 1]
        else:
            break
    return out


def split_commas(tokens):
    segs, cur, depth = [], [], 0
    for t in tokens:
        if t[0] == "punct" and t[1] in "([":
            depth += 1
        elif t[0] == "punct" and t[1] in ")]":
            depth -= 1
        if depth == 0 and t[0] == "punct" and t[1] == ",":
            segs.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        segs.append(cur)
    return segs


def cut_initializer(seg):
    depth = 0
    for i, t in enumerate(seg):
        if t[0] == "punct" and t[1] in "([":
            depth += 1
        elif t[0] == "punct" and t[1] in ")]":
            depth -= 1
        elif depth == 0 and t[0] == "punct" and t[1] == "=":
            return seg[:i]
    return seg


def is_prototype(seg):
    seg = cut_initializer(seg)
    for i, t in enumerate(seg):
        if t[0] == "punct" and t[1] == "(":
            prev = seg[i - 1] if i > 0 else None
            nxt = seg[i + 1] if i + 1 < len(seg) else None
            if prev and prev[0] == "ident" and prev[1] in ATTRIBUTE_WORDS:
                return False
            if nxt and nxt[0] == "punct" and nxt[1] == "*":
                return False        # function pointer variable
            return True
    return False


def declarator_name(seg):
    """Name and line of the identifier a declarator declares."""
    seg = cut_initializer(seg)
    # function pointer: ( * [qualifiers] name )
    for i, t in enumerate(seg):
        if t[0] == "punct" and t[1] == "(" and i + 1 < len(seg) \
                and seg[i + 1][1] == "*":
            for u in seg[i + 2:]:
                if u[0] == "ident" and u[1] not in KEYWORDS:
                    return (u[1], u[2])
                if u[1] == ")":
                    break
            return None
    depth = 0
    name = None
    prev = None
    for t in seg:
        if t[0] == "punct" and t[1] in "([":
            if depth == 0 and t[1] == "(" and prev is not None \
                    and prev[0] == "ident" and prev[1] in ATTRIBUTE_WORDS:
                pass
            elif depth == 0 and name is not None:
                break       # array or function declarator follows the name
            depth += 1
        elif t[0] == "punct" and t[1] in ")]":
            depth -= 1
        elif depth == 0 and t[0] == "ident" and t[1] not in KEYWORDS \
                and not (prev and prev[1] in ("struct", "union", "enum")):
            name = t
        prev = t
    if name is None:
        return None
    return (name[1], name[2])


# ---------------------------------------------------------------------------
# The pipeline stream

class Part:
    """One code chunk (one definition part of a named chunk)."""

    def __init__(self, name):
        self.name = name
        self.lines = []         # list of (pieces, insert-before stream index)
        self.existing = set()   # names already given by @index defn
        self.end_index = None   # stream index of `@end code`


def parse(stream):
    parts = []
    part = None
    header = False
    pieces = []
    use_count = 0
    uses = []                   # (use index, used name, part)
    for i, line in enumerate(stream):
        if line.startswith("@begin code"):
            part = Part(None)
            header = True
            pieces = []
        elif part is None:
            continue
        elif line.startswith("@defn ") and part.name is None:
            part.name = line[6:].rstrip("\n")
        elif line.startswith("@nl"):
            if header:
                header = False
            else:
                part.lines.append((pieces, i))
            pieces = []
        elif line.startswith("@text "):
            pieces.append(line[6:].rstrip("\n"))
        elif line.startswith("@use "):
            name = line[5:].rstrip("\n")
            uses.append((use_count, name, part))
            pieces.append(("use", use_count))
            use_count += 1
        elif line.startswith("@index defn "):
            part.existing.add(line[12:].strip())
        elif line.startswith("@end code"):
            if pieces:
                part.lines.append((pieces, i))
            part.end_index = i
            parts.append(part)
            part = None
    return parts, uses


def first_column_kind(part):
    for pieces, _ in part.lines:
        text = "".join(p for p in pieces if isinstance(p, str))
        if text.strip() or any(not isinstance(p, str) for p in pieces):
            if text[:1] in (" ", "\t") or (not text and pieces
                                           and not isinstance(pieces[0], str)):
                return "block"
            return "top"
    return "top"


def scan(part, kind):
    sc = Scanner(kind)
    for lineno, (pieces, _) in enumerate(part.lines):
        sc.line(lineno, pieces)
    return sc


def contexts(parts, uses):
    """Starting context for each chunk name, from where it is used."""
    by_name = {}
    for p in parts:
        by_name.setdefault(p.name, []).append(p)
    used_names = {u[1] for u in uses}
    use_name = {u[0]: u[1] for u in uses}
    ctx = {}
    queue = []
    for name in by_name:
        if name not in used_names:
            ctx[name] = first_column_kind(by_name[name][0])
            queue.append(name)
    while queue:
        name = queue.pop(0)
        for p in by_name[name]:
            sc = scan(p, ctx[name])
            for index, kind in sc.uses:
                child = use_name[index]
                if child not in ctx and child in by_name:
                    ctx[child] = kind
                    queue.append(child)
    for name, ps in by_name.items():
        if name not in ctx:
            ctx[name] = first_column_kind(ps[0])
    return ctx


def main():
    stream = sys.stdin.readlines()
    for line in stream:
        if line.startswith("@fatal"):
            sys.stdout.writelines(stream)
            sys.stderr.write("nwdefs: upstream failure: " + line)
            return 1
    parts, uses = parse(stream)
    ctx = contexts(parts, uses)
    inserts = {}                # stream index -> list of names
    for p in parts:
        sc = scan(p, ctx.get(p.name, "top"))
        seen = set(p.existing)
        for lineno, name in sc.defs:
            if name in seen or name in NOT_INDEXED:
                continue
            seen.add(name)
            at = p.lines[lineno][1] if lineno >= 0 else p.end_index
            inserts.setdefault(at, []).append(name)
    out = sys.stdout
    for i, line in enumerate(stream):
        for name in inserts.get(i, ()):
            out.write("@index defn %s\n" % name)
        out.write(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
