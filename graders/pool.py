"""Worker processes with hard deadlines, safe to call from any thread or from asyncio.

Why not `signal.alarm` (Math-Verify's approach): it only works in the main thread, has one-second
granularity, and cannot interrupt work that SymPy or GMP does in C. Here each call runs in a
worker process; when the deadline passes the worker is killed (SIGKILL) and replaced on next use.
Workers fork from a zygote (`graders.zygote`) that has imported, and then warmed, the grading modules, so a
replacement costs milliseconds, and forking never happens from the (possibly multi-threaded) caller. The zygote
starts on first use; its first worker forks at once and imports by itself (a fresh process's first verdict waits
for nothing else), and is replaced by a warm fork once the zygote is warm.

A deadline passes for one of two reasons, and the caller may need to tell them apart (a grader must
not let a costly response mask its own 0, nor score a sample 0 because the host was busy): the worker
computed for most of it, or it waited for a CPU. `DeadlineExceeded.cpu_bound` says which, from the
worker's CPU time during the call (utime + stime in /proc/<pid>/stat, Linux; 10 ms granularity).
"""
from __future__ import annotations

import gc
import importlib
import os
import queue
import resource
import signal
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:   # imported when the zygote starts: `import graders.math` stays light
    from graders.channel import Channel
    from graders.zygote import Zygote

_MEMORY_LIMIT = 4 << 30   # a worker that tries to build a gigantic integer dies instead of the host swapping
CACHE_SIZE = 1 << 16      # answers kept per pool for call(cache=True)
# A killed call that had used at least this share of its deadline in CPU time was computing, not starved.
# A quarter, not all: on a host with four runnable processes per core a computing worker still gets it,
# and the slowest real answers measured take milliseconds (docs/grading.md), far below a quarter of a second.
CPU_BOUND_FRACTION = 0.25
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_START_S = 120.0   # a cold start imports SymPy on a loaded host; only a hung start is an error


class DeadlineExceeded(Exception):
    """`cpu_s`: the worker's CPU seconds during the call (None where /proc could not be read)."""

    def __init__(self, message: str, cpu_s: float | None = None, timeout_s: float | None = None):
        super().__init__(message)
        self.cpu_s, self.timeout_s = cpu_s, timeout_s

    @property
    def cpu_bound(self) -> bool:
        """True when the call itself was costly; False when unknown or when the worker mostly waited (load)."""
        return self.cpu_s is not None and self.timeout_s is not None and self.cpu_s >= CPU_BOUND_FRACTION * self.timeout_s


class WorkerCrashed(Exception):
    pass


def serve(conn: Channel, preload: tuple[str, ...] = ()) -> None:
    """A worker's loop: (fn, args) in, ("ok", value) or ("error", message) out. `preload`: modules to import
    first (a worker forked before its zygote imported them), then "ready" is sent: the caller starts no deadline
    before it, so an import is never timed nor counted as a call's CPU."""
    if preload:
        gc.disable()   # what the imports allocate lives for good (graders.zygote)
        for name in preload:
            importlib.import_module(name)
        gc.freeze()
        gc.enable()
        try:
            conn.send("ready")
        except OSError:
            return
    try:   # after the imports, as in a worker forked from an imported zygote
        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    except (ValueError, OSError):
        pass
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):   # the caller is gone (killed, or done): exit quietly, no traceback in its log
            return
        try:
            reply = ("ok", fn(*args))
        except MemoryError:
            reply = ("error", "MemoryError")
        except Exception as exc:  # reported to the caller as an error verdict, never swallowed
            reply = ("error", f"{type(exc).__name__}: {exc}"[:500])
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


class _Slot:
    def __init__(self, zygote: Callable[[], Zygote]):
        self._zygote = zygote
        self.pid: int | None = None
        self.conn: Channel | None = None
        self.forked_warm = False

    def ensure_started(self) -> None:
        if self.pid is not None and not self.forked_warm and self._zygote().is_warm():
            self.kill()   # forked before the zygote's warm-up: a warm replacement costs a fork
        if self.pid is not None and _alive(self.pid):
            return
        self.kill()
        from graders.zygote import ZygoteDied

        try:
            self.pid, self.conn, self.forked_warm, importing = self._zygote().fork()
        except ZygoteDied as exc:
            raise WorkerCrashed(str(exc)) from None
        if importing:   # no deadline before it has imported (graders.pool.serve)
            if not self.conn.poll(_START_S):
                self.kill()
                raise WorkerCrashed(f"grading worker did not start within {_START_S:g} s")
            self.conn.recv()

    def cpu_s(self) -> float | None:
        """The worker's user + system CPU seconds so far; None if it is gone or /proc is unreadable."""
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()   # the command name may hold spaces and ')'
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S

    def kill(self) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.conn is not None:
            self.conn.close()
        self.pid, self.conn = None, None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class DeadlinePool:
    """A fixed set of worker processes; `call` blocks the calling thread until a worker is free. `preload`: modules
    the zygote imports; `warm`: "module:function" giving an iterator of warm-up steps it runs between forks."""

    def __init__(self, workers: int, preload: tuple[str, ...] = (), warm: str | None = None):
        self._preload, self._warm = tuple(preload), warm
        self._zygote: Zygote | None = None
        self._zygote_lock = threading.Lock()
        self.workers = 0
        # last in, first out: a caller grading one answer at a time keeps reusing the same (warmest) worker, and
        # the other slots start only when calls overlap
        self._idle: queue.LifoQueue[_Slot] = queue.LifoQueue()
        self.grow(workers)
        self.pid = os.getpid()
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._cache_lock = threading.Lock()

    def grow(self, workers: int) -> None:
        for _ in range(workers - self.workers):
            self._idle.put(_Slot(self._zygote_now))
        self.workers = max(self.workers, workers)

    def _zygote_now(self) -> Zygote:
        """Started on first use (a pool that is never called starts no process), restarted if it died."""
        with self._zygote_lock:
            if self._zygote is None or not self._zygote.alive():
                from graders.zygote import Zygote

                if self._zygote is not None:
                    self._zygote.close()
                self._zygote = Zygote(self._preload, self._warm)
            return self._zygote

    def call(self, fn: Callable, args: tuple, timeout_s: float, *, cache: bool = False) -> Any:
        """cache=True: `fn` is pure and `args` small and hashable. A returned answer is kept (LRU, CACHE_SIZE)
        and reused, so an RL group's repeated answers cost one worker round trip; a deadline or a crash
        raises and is never kept (the next call tries again)."""
        key = (fn, args) if cache else None
        if key is not None:
            with self._cache_lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
        value = self._call(fn, args, timeout_s)
        if key is not None:
            with self._cache_lock:
                self._cache[key] = value
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return value

    def _call(self, fn: Callable, args: tuple, timeout_s: float) -> Any:
        slot = self._idle.get()
        try:
            slot.ensure_started()
            cpu_before = slot.cpu_s()
            slot.conn.send((fn, args))
            if not slot.conn.poll(timeout_s):
                cpu_after = slot.cpu_s()
                slot.kill()
                used = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
                spent = "" if used is None else f" ({used:.2f} s of CPU)"
                raise DeadlineExceeded(f"no answer within {timeout_s:g} s{spent}", used, timeout_s)
            status, value = slot.conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as exc:
            slot.kill()
            raise WorkerCrashed(f"grading worker died: {type(exc).__name__}") from None
        finally:
            self._idle.put(slot)
            if self._zygote is not None and not self._zygote.warm:
                self._zygote.start_warm_up()   # after the first answer: it never competes with it for a CPU
        if status != "ok":
            raise WorkerCrashed(value)
        return value

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break
        with self._zygote_lock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None


_lock = threading.Lock()
_pools: dict[str, DeadlinePool] = {}


def shared_pool(name: str, workers: int, preload: tuple[str, ...] = (), warm: str | None = None) -> DeadlinePool:
    """The process-wide pool `name`, rebuilt after a fork and grown to at least `workers`."""
    with _lock:
        pool = _pools.get(name)
        if pool is None or pool.pid != os.getpid():
            pool = _pools[name] = DeadlinePool(workers, preload, warm)
        pool.grow(workers)
        return pool
