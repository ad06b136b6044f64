"""What a submitted file may be, include, define and call: the grader's policy.

Every check returns None when the submission passes it, or a one-line reason to reject
it; a rejected exercise scores 0 and the reason is shown to the student and the TA.

* Files: a submission is regular files only (no symlink, FIFO, device or directory),
  each at most MAX_BYTES, named as the starter's files are.
* Includes: before compiling, every #include must name a header of the chapter
  (`"hmmwb.h"`, `"page.h"`...), a standard header of ALLOWED_SYSTEM_HEADERS, or one the
  exercise's starter includes itself; after
  compiling, the compiler's own dependency list must hold nothing else.
* Object: its global definitions must be a subset of the reference file's (so no
  replacing libc, Check, or other parts of the library); it may have no constructors or
  destructors (.init_array, .fini_array, .ctors, .dtors, .preinit_array) and no IFUNC;
  it may call only the library's functions, ALLOWED_CALLS and what the replaced file
  calls itself; and its machine code may
  not contain system-call instructions.  In an exercise about page tables there is no
  reason to control processes, handle signals, read the environment, load code or touch
  files, and each of those is how a submission could reach the grader.
"""

import os
import re
import stat
import subprocess

MAX_BYTES = 256 * 1024

ALLOWED_SYSTEM_HEADERS = {
    "assert.h", "errno.h", "inttypes.h", "limits.h", "pthread.h", "stdalign.h",
    "stdatomic.h", "stdbool.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h",
    "string.h", "strings.h", "sys/mman.h", "sys/types.h", "time.h",
}

# Functions and data a submission may use besides the library's own.  Memory and
# strings, locks and condition variables, formatted output to stdout/stderr, and what
# the compiler itself calls.
ALLOWED_CALLS = {
    "memcpy", "memmove", "memset", "memcmp", "memchr", "strlen", "strnlen", "strcmp",
    "strncmp", "strcpy", "strncpy", "strchr", "strrchr", "strstr",
    "malloc", "calloc", "realloc", "free", "qsort", "bsearch", "abs", "labs",
    "pthread_mutex_init", "pthread_mutex_destroy", "pthread_mutex_lock",
    "pthread_mutex_trylock", "pthread_mutex_unlock", "pthread_cond_init",
    "pthread_cond_destroy", "pthread_cond_wait", "pthread_cond_signal",
    "pthread_cond_broadcast", "pthread_rwlock_rdlock", "pthread_rwlock_wrlock",
    "pthread_rwlock_unlock", "pthread_once", "sched_yield", "clock_gettime",
    "printf", "fprintf", "puts", "putchar", "fputs", "fputc", "fflush", "snprintf",
    "sprintf", "vsnprintf", "stdout", "stderr",
    "abort", "__assert_fail", "__stack_chk_fail", "__printf_chk", "__fprintf_chk",
    "__sprintf_chk", "__snprintf_chk", "__memcpy_chk", "__memset_chk",
    "__atomic_load", "__atomic_store", "__atomic_exchange", "__atomic_compare_exchange",
    "_GLOBAL_OFFSET_TABLE_",
}

FORBIDDEN_SECTIONS = (".init_array", ".fini_array", ".ctors", ".dtors", ".preinit_array")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]*)[>"]', re.M)
SYSCALL_RE = re.compile(r"\t(syscall|sysenter|int\s+\$0x80)\b")


def check_file(path, name):
    """A submitted file: a regular file of sane size, read without following links."""
    try:
        st = os.lstat(path)
    except OSError as e:
        return f"{name}: cannot be read ({e.strerror})"
    if not stat.S_ISREG(st.st_mode):
        return f"{name}: not a regular file (links, FIFOs and devices are not accepted)"
    if st.st_size > MAX_BYTES:
        return f"{name}: larger than {MAX_BYTES // 1024} KiB"
    return None


def read_source(path):
    """The file's bytes, opened without following a link and without blocking."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        return f.read(MAX_BYTES + 1)


def system_includes(text):
    """The standard headers a source includes (a starter's own are allowed)."""
    return {m.group(2) for m in INCLUDE_RE.finditer(text) if m.group(1) == "<"}


def check_includes(text, name, chapter_headers, also_allowed=()):
    """Every #include names a chapter header, an allowed system header, or one the
    exercise's starter includes itself."""
    for m in INCLUDE_RE.finditer(text):
        kind, header = m.group(1), m.group(2)
        if kind == '"' and header in chapter_headers:
            continue
        if kind == "<" and (header in ALLOWED_SYSTEM_HEADERS or header in also_allowed):
            continue
        close = ">" if kind == "<" else '"'
        return f"{name}: #include {kind}{header}{close} is not allowed"
    return None


def check_dependencies(dep_text, name, allowed_dirs):
    """The compiler's -MD list: every file it read lies in an allowed directory."""
    deps = dep_text.replace("\\\n", " ").split(":", 1)[-1].split()
    for dep in deps:
        real = os.path.normpath(dep)
        if not any(real == d or real.startswith(d.rstrip("/") + "/") for d in allowed_dirs):
            return f"{name}: reads {dep}, outside the allowed headers"
    return None


# Symbols are read with readelf, not nm: nm loads the linker plugins it finds
# (/usr/lib/bfd-plugins), and on a machine with LLVM's that costs 20 ms a call.
EXTERNAL_BINDS = {"GLOBAL", "WEAK", "UNIQUE"}


def symbol_tables(objs):
    """{object: [(name, type, bind, section)]} from the objects' symbol tables, read with
    one readelf for all of them."""
    res = subprocess.run(["readelf", "-sW", *map(str, objs)], capture_output=True, text=True)
    tables = {o: [] for o in objs}
    by_name = {str(o): o for o in objs}
    current = objs[0] if len(objs) == 1 else None
    for line in res.stdout.splitlines():
        if line.startswith("File: "):
            current = by_name.get(line[len("File: "):].strip())
            continue
        fields = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if current is None or len(fields) < 8 or not fields[0].endswith(":"):
            continue
        if not fields[0][:-1].isdigit():
            continue
        tables[current].append((fields[7], fields[3], fields[4], fields[6]))
    return tables


def defined_symbols(obj):
    """{name: type} of the global (and weak) symbols the object defines."""
    return {name: kind for name, kind, bind, ndx in symbol_tables([obj])[obj]
            if bind in EXTERNAL_BINDS and ndx != "UND"}


def undefined_symbols(obj):
    """The symbols the object uses and does not define."""
    return {name for name, _, _, ndx in symbol_tables([obj])[obj] if ndx == "UND" and name}


def defined_symbols_of(objs):
    """{object: the global symbols it defines}, read with one readelf for all of them."""
    return {o: {name for name, _, bind, ndx in table if bind in EXTERNAL_BINDS and ndx != "UND"}
            for o, table in symbol_tables(list(objs)).items()}


def check_object(obj, name, reference_defs, library_defs, reference_calls=()):
    """The compiled submission: what it defines, what it calls, what it contains.  It may
    call what the file it replaces calls (the book's page allocator maps its RAM with
    mmap; an exercise that extends that file may too)."""
    defined = defined_symbols(obj)
    extra = sorted(s for s in defined if s not in reference_defs)
    if extra:
        return f"{name}: defines {', '.join(extra[:5])}, which the exercise does not ask for"
    if any(t == "IFUNC" for t in defined.values()):
        return f"{name}: defines an indirect function (IFUNC)"
    undefined = undefined_symbols(obj)
    calls = sorted(s for s in undefined
                   if s not in library_defs and s not in ALLOWED_CALLS and s not in defined
                   and s not in reference_calls)
    if calls:
        return f"{name}: calls {', '.join(calls[:5])}, which exercises may not use"
    sections = subprocess.run(["objdump", "-h", str(obj)], capture_output=True,
                              text=True).stdout
    for sec in FORBIDDEN_SECTIONS:
        if re.search(r"\s" + re.escape(sec) + r"(\.|\s)", sections):
            return f"{name}: has constructors or destructors ({sec})"
    code = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(obj)],
                          capture_output=True, text=True).stdout
    if SYSCALL_RE.search(code):
        return f"{name}: contains a system-call instruction"
    return None
