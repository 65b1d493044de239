"""The in-sandbox driver: runs one Python program on many stdin inputs, one forked child per test.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout, until EOF.
  request: {"program", "inputs", "time_s", "memory_mb", "output_bytes", "total_output_bytes", "budget_s",
            "stop_on_error", "session", "reply_within_s"}
  reply:   {"ok": true, "results": [{"status", "stdout", "stderr", "exit_code", "wall_s", "peak_memory_kb"}],
            "recycle": null | "why the container must not serve another request"}
           {"ok": false, "error": "..."}  when the driver itself could not do its job
  stdout/stderr travel base64-encoded, so a reply is at most 4/3 of the bytes kept (never JSON-escaped 6x).

Plain requests: each input is one test, in a child forked from the driver (own session, rlimits, wall
deadline `time_s` and output cap measured here, in the driver). Session requests (`session: true`): ONE
child serves all inputs in turn: the driver writes input k to its stdin, waits for exactly one line on its
stdout within `time_s`, records the time it measured, and only then writes input k+1; no line in time is
"timeout" and the child is killed, whatever the program does with signals. Either way, kept stdout+stderr
over the whole request is capped at `total_output_bytes` (stderr keeps only its last 64 KiB per test).

`--container` adds what only makes sense as root inside the runner container: each child drops to uid/gid
65534 with no capabilities and oom_score_adj 1000 (the driver asks for -1000 for itself); after every test
the driver SIGKILLs every process of uid 65534 with one kill(-1) of its own (no helper to fork, so a full
pid table cannot stop it; see _kill_sandbox_uid) and reaps them as their subreaper; at the end of every request, inside that request's own
deadline, it removes the request's SysV IPC objects and empties /tmp, /dev/shm and /dev/mqueue without
recursion. If that cleaning fails the verdicts still stand and the reply asks the host to recycle the
container. Without `--container` (LocalSandbox) there is no isolation. Standard library only; Python 3.11.
"""
import base64
import json
import os
import resource
import select
import signal
import sys
import time
import traceback

SANDBOX_UID = 65534
FILE_SIZE_LIMIT = 16 << 20
STDERR_TAIL = 64 << 10
SWEEP_S = 2.0          # most time spent killing and reaping after one test
CLEAN_RESERVE_S = 0.5  # kept before the reply deadline for the end-of-request cleaning
SCRATCH_DIRS = ("/tmp", "/dev/shm", "/dev/mqueue")
PR_SET_CHILD_SUBREAPER = 36
CONTAINER = "--container" in sys.argv
_unclean = []  # why this request leaves the container unfit for the next one (then the host recycles it)
_reply_by = [float("inf")]  # monotonic time by which the reply must be written (the host stops waiting after)


# Standard-library modules that judged programs (and graders' wrappers) import on every test. Importing
# them once here means each forked test inherits them instead of paying ~20-40 ms of imports; each test
# still gets its own copy-on-write copy, so nothing a test does to them reaches the next one.
WARM_MODULES = ("ast", "bisect", "collections", "copy", "datetime", "decimal", "fractions", "functools",
                "heapq", "itertools", "json", "math", "operator", "random", "re", "statistics", "string",
                "typing", "contextlib", "types")


def main():
    import importlib

    _become_subreaper()
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    if CONTAINER:
        _set_oom_score_adj(-1000)
    for line in sys.stdin.buffer:
        try:
            results = handle(json.loads(line))
            reply = {"ok": True, "results": results, "recycle": finish_request() if CONTAINER else None}
        except Exception:  # a driver failure is reported to the host, which treats it as infra error
            reply = {"ok": False, "error": traceback.format_exc(limit=5)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def handle(req):
    started, inputs = time.monotonic(), req["inputs"]
    _reply_by[0] = started + req["reply_within_s"]
    try:
        code = compile(req["program"], "main.py", "exec")
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        msg = "".join(traceback.format_exception_only(type(exc), exc)).encode()
        return [result("compile_error", err=msg) for _ in inputs]
    out_left = [req["total_output_bytes"]]
    if req.get("session"):
        return run_session(code, inputs, req, started, out_left)
    results = []
    for stdin in inputs:
        left = _budget_left(req, started)
        stop = req.get("stop_on_error") and results and results[-1]["status"] != "ok"
        if stop or left <= 0 or out_left[0] <= 0:
            results.append(result("skipped"))
            continue
        time_s = min(req["time_s"], left)
        results.append(run_test(code, stdin, time_s, req, out_left))
    return results


def _budget_left(req, started):
    """Seconds the next test may still take: the submission's budget, and the reply deadline less what a
    sweep and the cleaning may need (so a bomb in every test ends in skipped tests, not a host timeout)."""
    left = _reply_by[0] - time.monotonic() - SWEEP_S - CLEAN_RESERVE_S
    return left if req.get("budget_s") is None else min(left, req["budget_s"] - (time.monotonic() - started))


def result(status, out=b"", err=b"", exit_code=None, wall_s=0.0, peak_memory_kb=None):
    return {"status": status, "stdout": base64.b64encode(out).decode(), "stderr": base64.b64encode(err).decode(),
            "exit_code": exit_code, "wall_s": round(wall_s, 6), "peak_memory_kb": peak_memory_kb}


class Child:
    """One forked test process and its pipes: stdin fed in pieces, stdout kept, stderr's tail kept."""

    def __init__(self, code, req):
        fds = {"in": os.pipe(), "out": os.pipe(), "err": os.pipe(), "ready": os.pipe()}
        self.oom_before = _oom_kills() if CONTAINER else 0
        self.pid = os.fork()
        if self.pid == 0:
            _child(code, fds, req)  # never returns
        for fd in (fds["in"][0], fds["out"][1], fds["err"][1], fds["ready"][1]):
            os.close(fd)
        self.w_in, self.r_out, self.r_err, self.ready = fds["in"][1], fds["out"][0], fds["err"][0], fds["ready"][0]
        for fd in (self.w_in, self.r_out, self.r_err):
            os.set_blocking(fd, False)
        self.pidfd = os.pidfd_open(self.pid)
        self.out, self.err, self.data, self.exited, self.cap = bytearray(), bytearray(), b"", False, 0
        self.readers = [self.r_out, self.r_err, self.pidfd]

    def pump(self, deadline, cap, done):
        """Feed `self.data`, read until done() or the child exits; "timeout"/"output_limit" or None."""
        self.cap = cap
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            writers = [self.w_in] if self.data and self.w_in is not None else []
            rl, wl, _ = select.select(self.readers, writers, [], left)
            if self.pidfd in rl:  # gone: drain what its pipes hold now, ignore lingering writers
                self.readers.remove(self.pidfd)
                self.exited = True
            for fd in (self.r_out, self.r_err):
                if fd in self.readers and (fd in rl or self.exited):
                    self._drain(fd)
            if len(self.out) > cap:
                return "output_limit"
            if wl:
                self._feed()
            if self.exited:
                return None
        return None

    def _drain(self, fd):
        buf = self.out if fd == self.r_out else self.err
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            if not chunk:
                self.readers.remove(fd)
                return
            buf += chunk
            if fd == self.r_err and len(buf) > 2 * STDERR_TAIL:
                del buf[:-STDERR_TAIL]
            elif fd == self.r_out and len(buf) > self.cap:
                return  # over the cap: stop reading, the caller kills

    def _feed(self):
        try:
            sent = os.write(self.w_in, self.data[:1 << 16])
        except BrokenPipeError:  # the program stopped reading: not an error
            sent = len(self.data)
        self.data = self.data[sent:]  # a memoryview: no copy of what is left

    def close_stdin(self):
        if self.w_in is not None:
            os.close(self.w_in)
            self.w_in = None

    def finish(self):
        """Kill, reap and sweep; (exit code or None, rusage or None, oom-killed)."""
        _kill_group(self.pid)
        self.close_stdin()
        for fd in (self.r_out, self.r_err, self.pidfd):
            os.close(fd)
        _check_started(self.ready)
        status, usage = sweep(self.pid)
        oom = CONTAINER and _oom_kills() > self.oom_before
        return (None if status is None else os.waitstatus_to_exitcode(status)), usage, oom


def run_test(code, stdin, time_s, req, out_left):
    t0 = time.monotonic()
    child = Child(code, req)
    child.data = memoryview(stdin.encode("utf-8", "surrogatepass"))  # O(1) slices
    cap = min(req["output_bytes"], out_left[0])

    def fed():
        if not child.data:
            child.close_stdin()  # all fed: EOF for the program
        return False
    try:
        outcome = child.pump(t0 + time_s, cap, fed)
        wall = time.monotonic() - t0
    finally:
        exit_code, usage, oom = child.finish()
    out, err = bytes(child.out[:cap]), bytes(child.err[-STDERR_TAIL:])
    out_left[0] -= len(out) + len(err)
    if outcome is None:
        outcome = _classify(exit_code, err, oom)
    return result(outcome, out, err, exit_code, wall, usage.ru_maxrss if usage else None)


def run_session(code, inputs, req, started, out_left):
    """One child for all inputs: input k is written only after the line answering input k-1 arrived."""
    child, results, pos = Child(code, req), [], 0
    try:
        for stdin in inputs:
            left = _budget_left(req, started)
            if left <= 0:
                break
            t0 = time.monotonic()
            cap = min(req["output_bytes"], out_left[0])
            child.data = memoryview(stdin.encode("utf-8", "surrogatepass"))  # O(1) slices
            scan = [pos]  # where the newline search resumes: each byte is searched once

            def answered():
                end = child.out.find(b"\n", scan[0])
                scan[0] = len(child.out) if end < 0 else end
                return end >= 0
            outcome = child.pump(t0 + min(req["time_s"], left), pos + cap, answered)
            end = child.out.find(b"\n", scan[0])
            if outcome is None and end < 0:
                outcome = "exited"  # the child died without answering this input
            line = bytes(child.out[pos:end + 1] if end >= 0 else child.out[pos:pos + cap])
            out_left[0] -= len(line)
            results.append([outcome or "ok", line, time.monotonic() - t0])
            pos = end + 1
            if outcome:
                break
    finally:
        exit_code, usage, oom = child.finish()
    err = bytes(child.err[-STDERR_TAIL:])
    reply = [result(s, line, wall_s=w) for s, line, w in results]
    if results:  # the last step carries what the process left: its exit, stderr, peak memory
        status = results[-1][0]
        if status == "exited":
            status = _classify(exit_code, err, oom)
            status = "runtime_error" if status == "ok" else status
        reply[-1] = result(status, results[-1][1], err, exit_code, results[-1][2], usage.ru_maxrss if usage else None)
    return reply + [result("skipped") for _ in inputs[len(results):]]


def _check_started(ready_fd):
    """The child writes one byte after its set-up, before any program code runs: no byte, no verdict."""
    try:
        if os.read(ready_fd, 1) != b"R":
            raise RuntimeError("test child failed before the program started (set-up error)")
    finally:
        os.close(ready_fd)


def _classify(exit_code, err, oom_killed):
    if exit_code == 0:
        return "ok"
    if oom_killed or (exit_code != -signal.SIGKILL and b"MemoryError" in err[-512:]):
        return "memory"
    return "runtime_error"


def _child(code, fds, req):
    try:
        os.setsid()
        for fd, target in ((fds["in"][0], 0), (fds["out"][1], 1), (fds["err"][1], 2), (fds["ready"][1], 3)):
            os.dup2(fd, target)
        os.closerange(4, 65536)  # nothing of the driver's (its stdout above all) stays reachable
        _limit(req["memory_mb"])
        if CONTAINER:
            os.chdir("/tmp")
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


def _limit(memory_mb):
    if CONTAINER:  # the OOM killer takes the test, not the driver; with CAP_SYS_RESOURCE this also sets
        _set_oom_score_adj(1000)  # the floor to 1000, so the test (capless after the uid drop) cannot lower it
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (1 << 16, 1 << 16))
    if memory_mb:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    if CONTAINER:
        os.setgroups([])
        os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
        os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)  # all uids non-zero: every capability is gone


def _set_oom_score_adj(value):
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(value))
    except PermissionError:  # lowering needs CAP_SYS_RESOURCE, which some hosts cannot grant
        pass


def _exec_program(code):
    exit_code = 0
    try:
        exec(code, {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__})
    except SystemExit as exc:
        exit_code = _system_exit_code(exc)
    except BaseException as exc:
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)  # without the driver's frame
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


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def sweep(pid):
    """Kill and reap the test's process `pid` and everything it left behind (setsid daemons, fork bombs);
    returns pid's (wait status, rusage), None if it was not reaped. The driver is their subreaper, so once
    waitpid says there are no children, nothing of the test is left. Bounded by SWEEP_S and the reply
    deadline (dying processes need CPU to exit): past that the verdicts stand and the container is recycled."""
    end = min(time.monotonic() + SWEEP_S, _reply_by[0] - CLEAN_RESERVE_S)
    found = [None, None]
    _kill_group(pid)
    if _reap_all(time.monotonic() + 0.002, pid, found):
        return found
    while True:
        if CONTAINER:
            _kill_sandbox_uid()
        else:
            for child in _children():
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if _reap_all(min(end, time.monotonic() + 0.02), pid, found):
            return found
        if time.monotonic() >= end:
            _unclean.append("processes of a test outlived the kill sweep")
            return found


def _kill_sandbox_uid():
    """kill(-1) by the driver itself, no helper to fork (a fork bomb may hold every pid): for that one call
    its uids are real 65533, effective 65534, saved 0, so it may signal exactly the processes of uid 65534
    (not root's: docker-init, sleep) while none of them may signal it (its real and saved uids are not
    65534); the saved 0 lets it return to root, and one syscall wins against a CPU-starving bomb."""
    os.setresuid(SANDBOX_UID - 1, SANDBOX_UID, -1)
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        os.setresuid(0, 0, 0)


def _reap_all(until, pid, found):
    """Reap children until none is left (True) or `until` (False); `pid`'s status and rusage go to found."""
    while True:
        try:
            reaped, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if reaped == pid:
            found[:] = [status, usage]
        if reaped == 0:
            if time.monotonic() >= until:
                return False
            time.sleep(0.0005)


def _children():
    me, found = str(os.getpid()), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if ppid == me:
                found.append(int(entry))
    return found


def finish_request():
    """End of a request, inside its deadline: release IPC objects, empty the scratch space. Returns None, or
    why the container must be recycled (the verdicts already made stand either way)."""
    if _unclean:
        reason = _unclean[0]
        _unclean.clear()
        return reason
    try:
        os.setresuid(-1, SANDBOX_UID, -1)  # effective uid only: the tests' files and IPC objects are theirs,
        try:                                # and with real uid 0 no test could signal the driver meanwhile
            _remove_sysv_ipc()
            for top in SCRATCH_DIRS:
                if os.path.isdir(top):
                    _empty(top)
        finally:
            os.chdir("/")
            os.setresuid(-1, 0, -1)
        left = [f"{d}/{n}" for d in SCRATCH_DIRS if os.path.isdir(d) for n in os.listdir(d)]
        return f"scratch not empty after cleaning: {left[:5]}" if left else None
    except OSError as exc:
        return f"cleaning failed: {exc!r}"


def _empty(top):
    """Remove everything under `top` with chdir and a stack of names: no recursion, no long paths, one fd."""
    os.chdir(top)
    stack = []
    while True:
        subdir = None
        for entry in list(os.scandir(".")):
            if entry.is_dir(follow_symlinks=False):
                subdir = entry.name
                break
            os.unlink(entry.name)
        if subdir is not None:
            os.chmod(subdir, 0o700)  # a test may leave a directory it made unreadable
            os.chdir(subdir)
            stack.append(subdir)
        elif stack:
            os.chdir("..")
            os.rmdir(stack.pop())
        else:
            return


def _remove_sysv_ipc():
    """SysV shared memory, message queues and semaphores outlive processes; remove the tests' ones."""
    kinds = {"shm": "shmctl", "msg": "msgctl", "sem": "semctl"}
    found = []
    for kind, fn in kinds.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                found += [(fn, int(line.split()[1])) for line in f.readlines()[1:] if line.strip()]
        except OSError:
            continue
    if found:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        for fn, ident in found:
            args = (ident, 0, 0) if fn == "semctl" else (ident, 0, None)  # IPC_RMID = 0
            getattr(libc, fn)(*args)


def _oom_kills():
    """The container's cgroup OOM-kill counter (v1 or v2); 0 where it cannot be read."""
    for path, key in (("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
                      ("/sys/fs/cgroup/memory.events", "oom_kill")):
        try:
            with open(path) as f:
                for line in f:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except OSError:
            continue
    return 0


def _become_subreaper():
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


if __name__ == "__main__":
    main()
