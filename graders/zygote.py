"""The process grading workers fork from (`graders.pool`): a single-threaded Python that forks a worker on each
request, imports the grading modules, and warms itself between requests.

Built for a fresh process's first verdict (cold start, issue 21; multiprocessing's forkserver, which forks nothing
until its preload is done, made it wait 1.15 s against Math-Verify's 0.45 s):
- It starts as a fork (`os.fork`) of a single-threaded caller, closing every file of the caller but its socket;
  from a threaded caller (a fork could copy a lock another thread holds), as a fresh interpreter (`subprocess`,
  only its socket passed, the caller's `sys.path`), so no caller code or `__main__` runs in it. Not
  multiprocessing: its import and process machinery cost the caller ~10 ms.
- Its first worker forks at once and imports the grading modules itself: forked after the zygote's imports, it
  paid ~20 ms more on its first comparison, copying on write the pages it shares with the zygote. Its "ready"
  follows its imports, and the pool starts no deadline before it (an import is never a call's CPU).
- Imports run with the garbage collector off (what they allocate lives for good: collecting among it cost ~15%
  of SymPy's import), then are frozen (`gc.freeze`, as Python's docs advise before fork without exec), so a
  worker's collections never walk SymPy.
- The zygote's own import, then its warm-up (the ANTLR DFA and SymPy caches, `graders.math.warm`), run in the
  background once the pool has its first answer, one step at a time, each only after its workers have been idle
  for `_IDLE_S` (a verdict's CPU time is its own: `graders.pool` tells a costly response from a starved one by
  it); a fork asked for before that waits for the import. Workers forked after the warm-up (a later slot, a
  replacement after a deadline kill) start warm, and the pool replaces one forked cold once the zygote is warm.

Protocol on one socket pair (`Channel`): the pool asks for its first worker as it starts the zygote; "fork" is
answered with (pid, forked_warm, imports_itself), then the worker's end of a fresh socket pair as a passed file
descriptor; the pool sends "warm up" after its first answer; "warm" arrives once, unasked, when the warm-up is
done. Workers are children of the zygote, reaped by the kernel (SIGCHLD ignored), killed by pid. The zygote exits
when the pool's end closes; a worker exits when its socket closes.
"""
from __future__ import annotations

import atexit
import gc
import importlib
import os
import signal
import socket
import sys
import threading
import time

from graders.channel import Channel

_START_S = 120.0   # a cold start imports SymPy on a loaded host; only a hung start is an error
_DONE = object()
_BUSY_WAIT_S = 0.01
_IDLE_S = 0.05   # how long the workers must have been idle before a step of background work starts
# a fresh interpreter for a threaded caller: argv = [socket fd, the caller's sys.path, [preload, warm]]
_SPAWNED = ("import json, sys; sys.path[:] = json.loads(sys.argv[2]); from graders.zygote import _main; "
            "_main(int(sys.argv[1]), *json.loads(sys.argv[3]))")


class ZygoteDied(Exception):
    pass


class Zygote:
    def __init__(self, preload: tuple[str, ...], warm: str | None):
        ours, theirs = socket.socketpair()
        self._conn = Channel(ours)
        try:
            if threading.active_count() == 1:
                self._pid, self._spawned = _fork(theirs, preload, warm), None
            else:
                self._spawned = _spawn(theirs, preload, warm)
                self._pid = self._spawned.pid
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self._conn.send("fork")   # the first worker, forked at once (it imports by itself)
        atexit.register(self.close)   # not left importing or warming after the caller exits
        self._asked = True
        self._exit: int | None = None
        self._lock = threading.Lock()
        self.warm, self._warm_up_sent = warm is None, warm is None

    @property
    def how(self) -> str:
        return "spawn" if self._spawned else "fork"

    @property
    def pid(self) -> int:
        return self._pid

    def alive(self) -> bool:
        if self._exit is None:
            if self._spawned is not None:
                self._exit = self._spawned.poll()
            else:
                try:
                    pid, status = os.waitpid(self._pid, os.WNOHANG)
                except ChildProcessError:   # reaped by someone else's wait
                    pid, status = self._pid, -1
                if pid:
                    self._exit = status
        return self._exit is None

    def fork(self) -> tuple[int, Channel, bool, bool]:
        """(pid, channel, forked warm, imports by itself) of a new worker; raises ZygoteDied."""
        with self._lock:
            try:
                if not self._asked:
                    self._conn.send("fork")
                self._asked = False
                pid, forked_warm, importing = self._wait_for_fork()
                fd = self._conn.recv_fd()
            except (EOFError, OSError) as exc:
                raise ZygoteDied(f"the grading zygote died ({type(exc).__name__})") from None
        return pid, Channel(socket.socket(fileno=fd)), forked_warm, importing

    def start_warm_up(self) -> None:
        with self._lock:
            if not self._warm_up_sent:
                self._warm_up_sent = True
                try:
                    self._conn.send("warm up")
                except OSError:   # died: the next fork says so
                    pass

    def is_warm(self) -> bool:
        """Whether the warm-up is done (reads the zygote's notice without waiting)."""
        if not self.warm and self._lock.acquire(blocking=False):
            try:
                while not self._asked and self._conn.poll(0):
                    self._note(self._conn.recv())
            except (EOFError, OSError):
                pass
            finally:
                self._lock.release()
        return self.warm

    def _wait_for_fork(self) -> tuple[int, bool, bool]:
        while True:
            if not self._conn.poll(_START_S):
                raise ZygoteDied(f"the grading zygote did not answer within {_START_S:g} s")
            message = self._conn.recv()
            if isinstance(message, tuple):
                return message
            self._note(message)

    def _note(self, message) -> None:
        if message == "warm":
            self.warm = True

    def close(self) -> None:
        atexit.unregister(self.close)
        self._conn.close()
        if self.alive():
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if self._spawned is not None:
                self._spawned.wait()
            else:
                try:
                    os.waitpid(self._pid, 0)
                except ChildProcessError:   # the caller ignores SIGCHLD: the kernel reaped it
                    pass


def _fork(theirs: socket.socket, preload: tuple[str, ...], warm: str | None) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:   # the caller's files (a run's flock, its sockets) must not outlive it through us
        fd = theirs.fileno()
        os.closerange(3, fd)
        os.closerange(fd + 1, os.sysconf("SC_OPEN_MAX"))
        devnull = os.open(os.devnull, os.O_RDONLY)   # nor its stdin (as multiprocessing's children)
        os.dup2(devnull, 0)
        os.close(devnull)
        _main(fd, preload, warm)
    except Exception:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(1)


def _spawn(theirs: socket.socket, preload: tuple[str, ...], warm: str | None):
    import json
    import subprocess

    path = [p for p in sys.path if isinstance(p, str)]
    return subprocess.Popen([sys.executable, "-c", _SPAWNED, str(theirs.fileno()), json.dumps(path),
                             json.dumps([preload, warm])], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)


def _main(fd: int, preload: tuple[str, ...], warm: str | None) -> None:
    conn = Channel(socket.socket(fileno=fd))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # the kernel reaps the workers; the pool kills them by pid
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the caller's to handle (as in a forkserver)
    steps, imported, first, warming, workers, idle_since = None, False, True, False, set(), None
    while True:
        if warming and (not imported or steps is not None) and not conn.poll(0):
            if _busy(workers):   # a worker is computing a verdict: the background work must not take its CPU
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            if idle_since is None or time.monotonic() - idle_since < _IDLE_S:
                conn.poll(_BUSY_WAIT_S)
            elif not imported:
                steps, imported = _import(preload, warm), True
            elif next(steps, _DONE) is _DONE:
                steps = None
                gc.collect()   # the warm-up's garbage; what it built (parser DFA, SymPy caches) stays, frozen
                gc.freeze()
                conn.send("warm")
            continue
        try:
            message = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        if message == "warm up":
            warming = True
        elif first and not imported:   # the first worker imports by itself, at once
            first = False
            workers.add(_fork_worker(conn, preload, forked_warm=False))
        else:
            if not imported:   # a second worker before the background import: import now (the pool waits)
                steps, imported = _import(preload, warm), True
            workers.add(_fork_worker(conn, (), forked_warm=steps is None))


def _import(preload: tuple[str, ...], warm: str | None):
    """The grading modules, with the collector off (what they allocate lives for good: collecting among it is
    wasted time), then frozen; the warm-up's steps (None without one)."""
    gc.disable()
    for name in preload:
        importlib.import_module(name)
    steps = None
    if warm is not None:
        module, _, function = warm.partition(":")
        steps = getattr(importlib.import_module(module), function)()
    gc.freeze()
    gc.enable()
    return steps


def _busy(workers: set[int]) -> bool:
    """Whether one of the workers is running (state R in /proc/<pid>/stat); the dead are forgotten."""
    busy = False
    for pid in list(workers):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                busy = busy or f.read().rsplit(b")", 1)[1].split()[0] == b"R"
        except (OSError, IndexError):
            workers.discard(pid)
    return busy


def _fork_worker(conn: Channel, preload: tuple[str, ...], forked_warm: bool) -> int:
    """A worker; `preload`: the modules it imports by itself (the zygote has not yet)."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            conn.close()
            ours.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            from graders.pool import serve

            serve(Channel(theirs), preload)
        except Exception:   # an import that failed, say: the pool sees the worker die, the log says why
            import traceback

            traceback.print_exc()
        finally:
            os._exit(0)
    theirs.close()
    conn.send((pid, forked_warm, bool(preload)))
    conn.send_fd(ours.fileno())
    ours.close()
    return pid
