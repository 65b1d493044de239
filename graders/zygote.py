"""The process grading workers fork from (`graders.pool`): a spawned, single-threaded Python that imports the grading
modules, forks a worker on each request, and warms itself between requests.

Why not multiprocessing's forkserver: it forks nothing until its preload has finished, so warming it (the ANTLR
DFA and SymPy caches, `graders.math.warm`) made a fresh process's first verdict wait for the whole warm-up
(1.15 s against Math-Verify's 0.45 s, issue 21). Here the first worker forks as soon as the imports are done, and
the warm-up starts only once the pool has its first answer (so it does not compete for a CPU with it), then runs
one step at a time while no fork request waits; every worker forked after it (a later slot, a replacement after a
deadline kill) starts warm, and the pool replaces a worker forked cold once the zygote is warm. While one of its
workers is computing (running in /proc), the zygote waits instead of warming: a verdict's CPU time is its own
(`graders.pool` tells a costly response from a starved one by it).

Protocol on one socket pair: the zygote sends "ready" after its imports; the pool sends "fork", the zygote answers
(pid, forked_warm) and then the worker's end of a fresh socket pair as a passed file descriptor; the pool sends
"warm up" after its first answer; "warm" arrives once, unasked, when the warm-up is done. Workers are children of the zygote, reaped by the kernel (SIGCHLD
ignored), killed by pid. The zygote exits when the pool's end closes; a worker exits when its socket closes.
"""
from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import socket
import threading
from multiprocessing import reduction
from multiprocessing.connection import Connection

_START_S = 120.0   # a cold start imports SymPy on a loaded host; only a hung start is an error
_DONE = object()
_BUSY_WAIT_S = 0.01


class ZygoteDied(Exception):
    pass


class Zygote:
    def __init__(self, preload: tuple[str, ...], warm: str | None, hide_main):
        # Forked from a single-threaded caller (a script's first verdict: no second interpreter to start, the grading
        # modules already imported), keeping no file of the caller's open; spawned from a threaded one, where a
        # fork could copy a lock some other thread holds.
        forked = threading.active_count() == 1
        ctx = multiprocessing.get_context("fork" if forked else "spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_main, args=(child, preload, warm, forked), daemon=True,
                                 name="mimo-grading-zygote")
        with hide_main():
            self._proc.start()
        child.close()
        self._lock = threading.Lock()
        self._ready, self.warm, self._warm_up_sent = False, warm is None, warm is None

    def alive(self) -> bool:
        return self._proc.is_alive()

    def fork(self) -> tuple[int, Connection, bool]:
        """(pid, connection, forked warm) of a new worker; raises ZygoteDied."""
        with self._lock:
            try:
                if not self._ready:
                    self._wait_for("ready")
                    self._ready = True
                self._conn.send("fork")
                pid, forked_warm = self._wait_for(tuple)
                fd = reduction.recv_handle(self._conn)
            except (EOFError, OSError) as exc:
                raise ZygoteDied(f"the grading zygote died ({type(exc).__name__})") from None
        return pid, Connection(fd), forked_warm

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
                while self._ready and self._conn.poll(0):
                    self._note(self._conn.recv())
            except (EOFError, OSError):
                pass
            finally:
                self._lock.release()
        return self.warm

    def _wait_for(self, expected):
        while True:
            if not self._conn.poll(_START_S):
                raise ZygoteDied(f"the grading zygote did not answer within {_START_S:g} s")
            message = self._conn.recv()
            if message == expected or expected is tuple and isinstance(message, tuple):
                return message
            self._note(message)

    def _note(self, message) -> None:
        if message == "warm":
            self.warm = True

    def close(self) -> None:
        self._conn.close()
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=1)


def _main(conn: Connection, preload: tuple[str, ...], warm: str | None, forked: bool = False) -> None:
    if forked:   # the caller's files (a run's flock, its sockets) must not outlive it through us
        os.closerange(3, conn.fileno())
        os.closerange(conn.fileno() + 1, os.sysconf("SC_OPEN_MAX"))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # the kernel reaps the workers; the pool kills them by pid
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the caller's to handle (as in a forkserver)
    for name in preload:
        importlib.import_module(name)
    steps = None
    if warm is not None:
        module, _, function = warm.partition(":")
        steps = getattr(importlib.import_module(module), function)()
    conn.send("ready")
    warming, workers = False, set()   # not until the pool has its first answer: that verdict never waits for it
    while True:
        if steps is not None and warming and not conn.poll(0):
            if _busy(workers):   # a worker is computing a verdict: the warm-up must not take its CPU
                conn.poll(_BUSY_WAIT_S)
            elif next(steps, _DONE) is _DONE:
                steps = None
                conn.send("warm")
            continue
        try:
            message = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        if message == "warm up":
            warming = True
        else:
            workers.add(_fork_worker(conn, forked_warm=steps is None))


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


def _fork_worker(conn: Connection, forked_warm: bool) -> int:
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            conn.close()
            ours.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            from graders.pool import serve

            serve(Connection(theirs.detach()), ())
        finally:
            os._exit(0)
    theirs.close()
    conn.send((pid, forked_warm))
    reduction.send_handle(conn, ours.fileno(), os.getppid())
    ours.close()
    return pid
