"""What the zygote does after every test process (zygote.py): kill and reap everything of the test, release
its SysV IPC objects, empty the scratch space, and read the tests' memory cgroup. Runs as root in the tests'
container (LocalSandbox: only the kill sweep, by parent pid). Standard library only; Python 3.11.
"""
import os
import signal
import time

SCRATCH_DIRS = ("/tmp", "/dev/shm", "/dev/mqueue")


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def sweep(pid, uid, end, unclean):
    """Kill and reap the test `pid` and everything it left (setsid daemons, fork bombs); returns pid's
    (wait status, rusage), None if not reaped. The zygote is their subreaper, so once waitpid says there are
    no children, nothing of the test is left. Bounded by `end` (dying processes need CPU to exit)."""
    found = [None, None]
    _kill_group(pid)
    if _reap_all(time.monotonic() + 0.002, pid, found):
        return found
    while True:
        if uid is not None:
            _kill_uid(uid)
        else:
            for child in _children():
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if _reap_all(min(end, time.monotonic() + 0.02), pid, found):
            return found
        if time.monotonic() >= end:
            unclean.append("processes of a test outlived the kill sweep")
            return found


def _kill_uid(uid):
    """kill(-1) by the zygote itself, no helper to fork (a fork bomb may hold every pid): for that one call
    its uids are real uid-1, effective uid, saved 0, so it may signal exactly the processes of the tests' uid
    (nothing of root's) while none of them may signal it; one syscall wins against a CPU-starving bomb."""
    os.setresuid(uid - 1, uid, -1)
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


def clean_scratch(uid):
    """After every test process: release its SysV IPC objects, empty the scratch space. [] or why not."""
    try:
        os.setresuid(-1, uid, -1)  # effective uid only: the files and IPC objects are the test's, and with
        try:                       # real uid 0 no test could signal the zygote meanwhile
            _remove_sysv_ipc()
            for top in SCRATCH_DIRS:
                if os.path.isdir(top):
                    _empty(top)
        finally:
            os.chdir("/")
            os.setresuid(-1, 0, -1)
        left = [f"{d}/{n}" for d in SCRATCH_DIRS if os.path.isdir(d) for n in os.listdir(d)]
        return [f"scratch not empty after cleaning: {left[:5]}"] if left else []
    except OSError as exc:
        return [f"cleaning failed: {exc!r}"]


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
    found = []
    for kind, fn in (("shm", "shmctl"), ("msg", "msgctl"), ("sem", "semctl")):
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


def _first_readable(*paths):
    """The text of the first of `paths` (the cgroup v1 file, then the v2 one) that can be read; "" if none."""
    for path in paths:
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            continue
    return ""


def _memory_stat():
    text = _first_readable("/sys/fs/cgroup/memory/memory.stat", "/sys/fs/cgroup/memory.stat")
    return {k: int(v) for k, v in (line.split() for line in text.splitlines())}


def charged_bytes():
    """All that is charged to the tests' cgroup but the page cache of files (which the kernel drops when it
    needs to): what the zygote itself costs, measured once it is ready."""
    usage = _first_readable("/sys/fs/cgroup/memory/memory.usage_in_bytes", "/sys/fs/cgroup/memory.current")
    stat = _memory_stat()
    cache = stat.get("cache", stat.get("file", 0)) - stat.get("shmem", 0)
    return max(0, int(usage or 0) - cache)


def unfreed_bytes():
    """Memory of the cgroup that no process frees by dying: anonymous memory and shared memory / tmpfs."""
    stat = _memory_stat()
    return stat.get("rss", stat.get("anon", 0)) + stat.get("shmem", 0)


def oom_kills():
    """The cgroup's OOM-kill counter (v1 or v2); 0 where it cannot be read."""
    text = _first_readable("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("oom_kill ")), 0)
