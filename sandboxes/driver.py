"""The in-sandbox driver: runs one Python program on many stdin inputs, one forked child per test.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout, until EOF.
  request: {"program", "inputs", "time_s", "memory_mb", "output_bytes", "budget_s", "stop_on_error"}
  reply:   {"ok": true, "results": [{"status", "stdout", "stderr", "exit_code", "wall_s", "peak_memory_kb"}]}
           {"ok": false, "error": "..."}  when the driver itself could not do its job

The program is compiled once per request; each test runs in a child forked from the driver, in its own
session, with rlimits, a wall deadline and an output cap, and everything it left behind is killed before
the next test. `--container` adds what only makes sense as root inside the runner container: each child
drops to uid/gid 65534 (the driver stays root with SETUID/SETGID/KILL only, so a test can neither write to
the driver's stdout through /proc nor kill it), a kill(-1) sweep as 65534 after every test, and /tmp,
/dev/shm, /dev/mqueue and SysV IPC emptied before every request. Without it (LocalSandbox) there is no
isolation: the program runs as the calling user. Standard library only; runs on the image's Python 3.11.
"""
import io
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
SCRATCH_DIRS = ("/tmp", "/dev/shm", "/dev/mqueue")
PR_SET_CHILD_SUBREAPER = 36
CONTAINER = "--container" in sys.argv


# Standard-library modules that judged programs (and graders' wrappers) import on every test. Importing
# them once here means each forked test inherits them instead of paying ~20-40 ms of imports; each test
# still gets its own copy-on-write copy, so nothing a test does to them reaches the next one.
WARM_MODULES = ("ast", "bisect", "collections", "copy", "datetime", "decimal", "fractions", "functools",
                "heapq", "itertools", "json", "math", "operator", "random", "re", "statistics", "string",
                "typing", "contextlib", "types")


def _warm_imports():
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def main():
    _become_subreaper()
    _warm_imports()
    for line in sys.stdin.buffer:
        try:
            reply = {"ok": True, "results": handle(json.loads(line))}
        except Exception:  # a driver failure is reported to the host, which treats it as infra error
            reply = {"ok": False, "error": traceback.format_exc(limit=5)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def handle(req):
    started = time.monotonic()
    inputs = req["inputs"]
    if CONTAINER:
        sweep()
        clean_scratch()
    try:
        code = compile(req["program"], "main.py", "exec")
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        msg = "".join(traceback.format_exception_only(type(exc), exc))
        return [result("compile_error", stderr=msg) for _ in inputs]
    results = []
    for stdin in inputs:
        left = None if req.get("budget_s") is None else req["budget_s"] - (time.monotonic() - started)
        stop = req.get("stop_on_error") and results and results[-1]["status"] != "ok"
        if stop or (left is not None and left <= 0):
            results.append(result("skipped"))
            continue
        time_s = req["time_s"] if left is None else min(req["time_s"], left)
        results.append(run_test(code, stdin, time_s, req))
    return results


def result(status, stdout="", stderr="", exit_code=None, wall_s=0.0, peak_memory_kb=None):
    return {"status": status, "stdout": stdout, "stderr": stderr, "exit_code": exit_code,
            "wall_s": wall_s, "peak_memory_kb": peak_memory_kb}


def run_test(code, stdin, time_s, req):
    fds = {"in": os.pipe(), "out": os.pipe(), "err": os.pipe(), "ready": os.pipe()}
    oom_before = _oom_kills() if CONTAINER else 0
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(code, fds, req)  # never returns
    for fd in (fds["in"][0], fds["out"][1], fds["err"][1], fds["ready"][1]):
        os.close(fd)
    try:
        outcome, out, err = _communicate(pid, fds, stdin.encode("utf-8", "surrogatepass"), t0 + time_s, req["output_bytes"])
    finally:
        _kill_group(pid)
    _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    _check_started(fds["ready"][0])
    sweep(pid)
    exit_code = os.waitstatus_to_exitcode(status)
    if outcome is None:
        outcome = _classify(exit_code, err, CONTAINER and _oom_kills() > oom_before)
    return result(outcome, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                  exit_code, round(wall, 6), usage.ru_maxrss)


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


def _communicate(pid, fds, data, deadline, cap):
    """Feed stdin and collect capped stdout/stderr until the child exits; returns (forced status, out, err)."""
    w_in, r_out, r_err = fds["in"][1], fds["out"][0], fds["err"][0]
    for fd in (w_in, r_out, r_err):
        os.set_blocking(fd, False)
    pidfd = os.pidfd_open(pid)
    bufs = {r_out: bytearray(), r_err: bytearray()}
    readers, writers, sent, exited = [r_out, r_err, pidfd], [w_in], 0, False
    try:
        while readers or writers:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout", bytes(bufs[r_out]), bytes(bufs[r_err])
            rl, wl, _ = select.select(readers, writers, [], left)
            if pidfd in rl:  # the child is gone: drain what its pipes hold now, ignore lingering writers
                readers.remove(pidfd)
                exited = True
            for fd in [fd for fd in rl if fd in bufs] + ([r_out, r_err] if exited else []):
                if fd in readers and not _drain(fd, bufs[fd], cap, readers):
                    return "output_limit", bytes(bufs[r_out][:cap]), bytes(bufs[r_err][:cap])
            if wl:
                sent = _feed(w_in, data, sent, writers)
            if exited:
                break
        return None, bytes(bufs[r_out]), bytes(bufs[r_err])
    finally:
        for fd in [r_out, r_err, pidfd] + writers:
            os.close(fd)


def _drain(fd, buf, cap, readers):
    """Read what is available; False when the cap is exceeded."""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            readers.remove(fd)
            return True
        buf += chunk
        if len(buf) > cap:
            return False


def _feed(fd, data, sent, writers):
    try:
        sent += os.write(fd, data[sent:sent + (1 << 16)])
    except BrokenPipeError:  # the program stopped reading: not an error
        sent = len(data)
    if sent >= len(data):  # all fed: close, so the program sees EOF
        writers.remove(fd)
        os.close(fd)
    return sent


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
    if CONTAINER:
        with open("/proc/self/oom_score_adj", "w") as f:  # the OOM killer takes the test, not the driver
            f.write("1000")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    if memory_mb:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    if CONTAINER:
        _drop_privileges()


def _drop_privileges():
    os.setgroups([])
    os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)


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


def sweep(pgid=None, limit_s=2.0):
    """Kill and reap everything a test left behind (daemons, fork bombs); the driver is their subreaper,
    so once waitpid says there are no children, nothing of the test is left."""
    end = time.monotonic() + limit_s
    if pgid:
        _kill_group(pgid)
        if _reap_all(time.monotonic() + 0.002):
            return
    while time.monotonic() < end:
        if pgid:
            _kill_group(pgid)
        if CONTAINER:
            _as_sandbox_user(lambda: os.kill(-1, signal.SIGKILL))
        else:
            for child in _children():
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if _reap_all(min(end, time.monotonic() + 0.05)):
            return
    raise RuntimeError("processes of the last test survived the kill sweep")


def _reap_all(until):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
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


def _as_sandbox_user(action):
    """Run `action` in a child at the sandbox uid, so it can touch only what tests own."""
    for _ in range(100):
        try:
            pid = os.fork()
            break
        except BlockingIOError:  # pids limit still full of a fork bomb's processes
            time.sleep(0.005)
    else:
        raise RuntimeError("cannot fork the sweep helper")
    if pid == 0:
        code = 0
        try:
            _drop_privileges()
            action()
        except ProcessLookupError:
            pass
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"sandbox-user helper failed ({status})")


def clean_scratch():
    _as_sandbox_user(_remove_scratch)
    left = [f"{d}/{n}" for d in SCRATCH_DIRS if os.path.isdir(d) for n in os.listdir(d)]
    if left:
        raise RuntimeError(f"scratch not empty after cleaning: {left[:5]}")


def _remove_scratch():
    for d in SCRATCH_DIRS:
        if os.path.isdir(d):
            for entry in os.scandir(d):
                _remove(entry.path)
    _remove_sysv_ipc()


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        os.chmod(path, 0o700)  # a test may leave a dir it made unreadable
        for entry in os.scandir(path):
            _remove(entry.path)
        os.rmdir(path)
    else:
        os.unlink(path)


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
