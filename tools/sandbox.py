"""Run a command in a bubblewrap sandbox, for the grader.

The sandbox sees /usr (the compiler, libc, Check) read-only, an empty /tmp, a minimal
/dev and /proc, and exactly the directories the caller binds under /grade.  It has no
network, no other process in sight (its own pid namespace, so that every process it
starts dies with it), another user id (nobody), a clean environment, and resource limits
(address space, CPU time, file size, open files, no core dumps).  A wall-clock timeout
kills the whole namespace.
"""

import os
import resource
import shutil
import signal
import subprocess
import threading

BWRAP = shutil.which("bwrap") or "/usr/bin/bwrap"


class Limits:
    def __init__(self, as_bytes=2 << 30, cpu_s=60, fsize=16 << 20, nofile=256):
        self.as_bytes, self.cpu_s, self.fsize, self.nofile = as_bytes, cpu_s, fsize, nofile

    def apply(self):
        """In the child, before exec: limits are inherited by everything it starts."""
        resource.setrlimit(resource.RLIMIT_AS, (self.as_bytes, self.as_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_s, self.cpu_s))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.fsize, self.fsize))
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.setsid()


def available():
    """None when sandboxes can be started here, else the reason they cannot (bwrap is
    missing, or the machine forbids the namespaces it needs, as some containers do)."""
    if not os.path.exists(BWRAP):
        return "bubblewrap (bwrap) is not installed: run 'make tools'"
    res = subprocess.run(command(["/bin/true"]), capture_output=True, text=True)
    if res.returncode != 0:
        return "the sandbox cannot start here: " + (res.stderr.strip() or "bwrap failed")
    return None


def command(argv, ro=(), rw=(), chdir="/grade"):
    """The bwrap command line that runs argv with the given binds (pairs host, inside)."""
    cmd = [BWRAP, "--unshare-all", "--die-with-parent", "--new-session",
           "--uid", "65534", "--gid", "65534",
           "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
           "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
           "--symlink", "usr/sbin", "/sbin",
           "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/grade"]
    for host, inside in ro:
        cmd += ["--ro-bind", str(host), inside]
    for host, inside in rw:
        cmd += ["--bind", str(host), inside]
    return cmd + ["--chdir", chdir, "--"] + [str(a) for a in argv]


def run(argv, ro=(), rw=(), env=None, timeout=60, limits=None, stdout=None,
        pass_fds=(), channel=None):
    """Run argv in a sandbox.  stdout/stderr go to the file `stdout` (or are captured and
    returned when it is None).  `channel`, a (read fd, write fd) pair, is read to its end
    by a thread while the sandbox runs, the write end passed in as its own number.
    Returns (exit status or None on timeout, captured output, channel text)."""
    limits = limits or Limits()
    base_env = {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "HOME": "/tmp"}
    base_env.update(env or {})
    got = []
    reader = None
    if channel:
        rfd, wfd = channel
        pass_fds = tuple(pass_fds) + (wfd,)

        def read_all():
            with os.fdopen(rfd, "rb") as f:
                got.append(f.read(1 << 20))      # a result report is far smaller
                while f.read(1 << 16):           # anything past that is drained, ignored
                    pass
        reader = threading.Thread(target=read_all, daemon=True)
        reader.start()
    out_f = open(stdout, "wb") if stdout else subprocess.PIPE
    try:
        proc = subprocess.Popen(command(argv, ro, rw), env=base_env, stdin=subprocess.DEVNULL,
                                stdout=out_f, stderr=subprocess.STDOUT,
                                preexec_fn=limits.apply, pass_fds=pass_fds)
    finally:
        if channel:
            os.close(channel[1])
    try:
        captured, _ = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        captured, _ = proc.communicate()
        status = None
    finally:
        if stdout:
            out_f.close()
    if reader:
        reader.join(timeout=60)   # the sandbox is gone: only a very busy machine waits
    text = got[0].decode(errors="replace") if got else ""
    return status, (captured or b"").decode(errors="replace"), text
