"""The zygote: the one process every test is forked from, and it never holds request data.

The driver (driver.py) reads each request, so its memory holds programs, inputs and the outputs it replied
with; a test forked from it could read them all (stack frames, the heap). The zygote is started before any
request (the tests container's main process, or forked by the driver first thing for LocalSandbox), imports
the modules programs use, and then only obeys the driver over one unix socket, never seeing a program, an
input or an output (they travel between the driver and the test over pipes the zygote only passes on):
    {"spawn": memory_mb} + fds (stdin, stdout, stderr, ready)     -> {"pid": pid}
    {"finish": pid, "within": seconds}  -> {"exit", "maxrss", "oom", "unclean"}
A test reads a length-prefixed marshalled code object on its stdin, then the rest is the program's stdin.

`--uid U` (the container): each test drops to uid/gid U with no capabilities and oom_score_adj 1000, under
a seccomp filter the zygote installed on itself before serving (so every test inherits it) that refuses
execve/execveat, prctl(PR_SET_DUMPABLE) and other syscall ABIs: a process that cannot become dumpable
cannot write its own /proc oom_score_adj, so the OOM killer takes a test before the zygote (0) whether or
not the engine grants CAP_SYS_RESOURCE. `finish` kills every process of uid U with one kill(-1), reaps them
as their subreaper, removes their SysV IPC objects, empties /tmp, /dev/shm and /dev/mqueue, and checks that
no memory stays charged to the tests' cgroup; "unclean" says why the container must not serve again.
Without --uid (LocalSandbox) there is no isolation and no cleaning. Standard library only; Python 3.11.
"""
import json
import marshal
import os
import resource
import socket
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves this directory out
from cleanup import charged_bytes, clean_scratch, oom_kills, sweep, unfreed_bytes  # noqa: E402

FILE_SIZE_LIMIT = 16 << 20
PR_SET_CHILD_SUBREAPER = 36
LEFTOVER_SLACK = 16 << 20  # charged memory above the zygote's own after cleaning: the container is recycled
# Standard-library modules that judged programs (and graders' wrappers) import: each forked test inherits
# them instead of paying ~20-40 ms of imports, in its own copy-on-write copy.
WARM_MODULES = ("ast", "bisect", "collections", "copy", "datetime", "decimal", "fractions", "functools",
                "heapq", "itertools", "json", "math", "operator", "random", "re", "statistics", "string",
                "typing", "contextlib", "types")


class Zygote:
    def __init__(self, uid):
        self.uid = uid  # None: LocalSandbox, no cgroup of its own to read or clean
        self.ooms = oom_kills() if uid is not None else 0
        self.baseline = unfreed_bytes() if uid is not None else 0

    def serve(self, conn):
        conn.send(json.dumps({"zygote_bytes": charged_bytes() if self.uid is not None else 0}).encode())
        while True:
            msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
            if not msg:
                return  # the driver is gone
            try:
                reply = self.command(json.loads(msg), fds)
            except Exception:  # reported to the driver, which fails the request as an infrastructure error
                reply = {"error": traceback.format_exc(limit=5)}
            finally:
                for fd in fds:
                    os.close(fd)
            conn.send(json.dumps(reply).encode())

    def command(self, cmd, fds):
        if "spawn" in cmd:
            pid = os.fork()
            if pid == 0:
                _child(fds, cmd["spawn"], self.uid)  # never returns
            return {"pid": pid}
        pid, unclean, oom = cmd["finish"], [], False
        status, usage = sweep(pid, self.uid, time.monotonic() + cmd["within"], unclean)
        if self.uid is not None:  # since the last finish only this test ran here: its OOM kills are its own
            ooms = oom_kills()
            oom, self.ooms = ooms > self.ooms, ooms
            if not unclean:
                unclean += clean_scratch(self.uid)
            left = unfreed_bytes() - self.baseline
            if not unclean and left > LEFTOVER_SLACK:
                unclean.append(f"{left >> 20} MiB still charged to the tests' cgroup after cleaning")
        return {"exit": None if status is None else os.waitstatus_to_exitcode(status),
                "maxrss": usage.ru_maxrss if usage else None, "oom": oom, "unclean": unclean[0] if unclean else None}


def _child(fds, memory_mb, uid):
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(4, 65536)  # the zygote's socket to the driver above all
        _limit(memory_mb, uid)
        if uid is not None:
            os.chdir("/tmp")
        code = marshal.loads(_read_exact(0, int.from_bytes(_read_exact(0, 8), "big")))
        sys.stdin = sys.__stdin__ = open(0, "r", encoding="utf-8", errors="surrogateescape", closefd=False)
        sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
        sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace",
                                           buffering=1, closefd=False)
        sys.argv = ["main.py"]
        os.write(3, b"R")
        os.close(3)
    except BaseException:
        os._exit(125)
    os._exit(_exec_program(code))


def _read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the driver closed the code pipe early")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _limit(memory_mb, uid):
    if uid is not None:  # raising needs no capability; the seccomp filter keeps the test from lowering it
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (1 << 16, 1 << 16))
    if memory_mb:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # all uids non-zero: every capability is gone, and the process not dumpable


def _exec_program(code):
    exit_code = 0
    try:
        exec(code, {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__})
    except SystemExit as exc:
        exit_code = _system_exit_code(exc)
    except BaseException as exc:
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)  # without the zygote's frame
        exit_code = 1
    try:  # what CPython does at exit: join non-daemon threads (the threaded-main idiom), atexit, flush
        threading = sys.modules.get("threading")
        if threading is not None:
            threading._shutdown()
        import atexit
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            if not getattr(stream, "closed", False):
                stream.flush()
    except BaseException:  # e.g. the program closed fd 1; like CPython, that is exit code 120
        exit_code = exit_code or 120
    return exit_code


def _system_exit_code(exc):
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


# ---- seccomp: what no test may do (a BPF program on struct seccomp_data: nr @0, arch @4, args[0] @16) ----
ARCHES = {"x86_64": (0xC000003E, {"execve": 59, "execveat": 322, "prctl": 157}, 0x40000000),
          "aarch64": (0xC00000B7, {"execve": 221, "execveat": 281, "prctl": 167}, None)}
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 4, 38, 22, 2


def seccomp_program():
    """Refuse (EPERM) execve, execveat, prctl(PR_SET_DUMPABLE, ...) and any other syscall ABI (i386, x32)."""
    import errno
    import struct

    machine = os.uname().machine
    if machine not in ARCHES:
        raise RuntimeError(f"no seccomp filter for {machine}: the sandbox supports x86_64 and aarch64")
    arch, nr, x32 = ARCHES[machine]
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, JMP|JEQ|K, JMP|JGE|K, RET|K
    deny, allow = 0x00050000 | errno.EPERM, 0x7FFF0000

    def op(code, k, jt=0, jf=0):
        return struct.pack("HBBI", code, jt, jf, k)
    prog = [op(ld, 4), op(jeq, arch, 1, 0), op(ret, deny), op(ld, 0)]
    if x32 is not None:
        prog += [op(jge, x32, 0, 1), op(ret, deny)]
    prog += [op(jeq, nr["execve"], 0, 1), op(ret, deny), op(jeq, nr["execveat"], 0, 1), op(ret, deny),
             op(jeq, nr["prctl"], 0, 3), op(ld, 16), op(jeq, PR_SET_DUMPABLE, 0, 1), op(ret, deny),
             op(ret, allow)]
    return b"".join(prog)


def install_seccomp():
    import ctypes

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    code = seccomp_program()
    buf = ctypes.create_string_buffer(code, len(code))
    libc = ctypes.CDLL(None, use_errno=True)
    program = Program(len(code) // 8, ctypes.addressof(buf))
    if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0):
        raise OSError(ctypes.get_errno(), "cannot install the tests' seccomp filter")


def prepare(uid):
    """Everything the zygote does before it may serve: subreaper, warm imports, (container) seccomp."""
    import ctypes
    import gc
    import importlib

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    if uid is not None:
        install_seccomp()
    gc.collect()


def main():
    """The tests container's main process: `zygote.py --uid U --listen NAME`; one driver connects, once."""
    uid, name = int(sys.argv[sys.argv.index("--uid") + 1]), sys.argv[sys.argv.index("--listen") + 1]
    prepare(uid)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind("\0" + name)
    listener.listen(1)
    conn, _ = listener.accept()
    listener.close()  # nobody else can connect: the driver connected before any test existed
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    if int.from_bytes(creds[4:8], sys.byteorder) != 0:
        raise SystemExit("the zygote's peer is not root")
    Zygote(uid).serve(conn)


if __name__ == "__main__":
    main()
