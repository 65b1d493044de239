"""RewardPool(backend="local"): reward calls on threads in this process (`graders.rewards.pool` is the interface).

Math runs `graders.math.grade` on `workers` threads; the SymPy work inside it runs in the shared zygote-forked
deadline pool of `graders/pool.py` (grown here to `workers`), which kills and respawns a worker past the deadline.
Code runs `graders.code.grade` on its own `workers` threads feeding one sandbox with `workers` workers. The Ray
backend (`graders.rewards.ray_backend`) runs one of these, with one worker, inside each of its actors.
"""
from __future__ import annotations

import threading
import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Mapping

from graders.rewards import code_reward, math_reward
from graders.rewards.types import RewardResult


def score_call(kind: str, response: str, reference: Any, options: Mapping, *, timeout_s: float | None,
               sandbox, code_mode: str, in_process_only: bool = False) -> RewardResult | None:
    """One reward, in the calling thread; in_process_only: None for math that needs a worker, and for code."""
    start = time.perf_counter()
    if kind == "math":
        result = math_reward.math_reward(response=response, reference=reference, options=options,
                                         timeout_s=timeout_s, in_process_only=in_process_only)
    elif in_process_only:
        return None
    else:
        result = code_reward.code_reward(response=response, reference=reference, options=options,
                                         sandbox=sandbox(), default_scheme=code_mode)
    if result is None:
        return None
    return replace(result, extra={**result.extra, "latency_s": time.perf_counter() - start})


class LocalBackend:
    """Threads in this process; math's SymPy work in the shared deadline pool, code in one sandbox."""

    def __init__(self, workers: int, timeout_s: float | None, sandbox, code_mode: str):
        from graders.math import _PRELOAD, _WARM
        from graders.pool import shared_pool

        self.workers, self.timeout_s, self.code_mode, self.closed = workers, timeout_s, code_mode, False
        self._sandbox_spec, self._sandbox, self._owns_sandbox = sandbox, None, isinstance(sandbox, str)
        self._lock = threading.Lock()
        self._math = ThreadPoolExecutor(workers, thread_name_prefix="mimo-reward-math")
        self._code = ThreadPoolExecutor(workers, thread_name_prefix="mimo-reward-code")
        shared_pool("math", workers, _PRELOAD, _WARM)
        for index in range(workers):  # start the workers now (seconds), queued ahead of the first real calls
            self._math.submit(math_reward.warm, index)

    def sandbox(self):
        with self._lock:
            if self._sandbox is None:
                self._sandbox = _make_sandbox(self._sandbox_spec, self.workers)
            return self._sandbox

    def run(self, kind: str, response: str, reference: Any, options: dict, in_process_only: bool = False):
        return score_call(kind, response, reference, options, timeout_s=self.timeout_s, sandbox=self.sandbox,
                          code_mode=self.code_mode, in_process_only=in_process_only)

    def submit(self, kind: str, response: str, reference: Any, options: dict) -> Future:
        return (self._math if kind == "math" else self._code).submit(self.run, kind, response, reference, options)

    def run_many(self, calls: list[tuple], record) -> list:
        """Math decided in-process is graded here, in the calling thread (most RL answers: ~0.1 ms each, less
        than a hand-off to another thread costs); the rest of each kind is drained in order by that kind's
        `workers` threads. A call that raised is its exception in the list; `record` sees each result (None
        for one that raised)."""
        out: list = [None] * len(calls)
        rest = []
        for i, call in enumerate(calls):
            if not self._attempt(out, i, lambda: self.run(*call, in_process_only=True), record, keep_none=True):
                rest.append(i)
        drains = []
        for kind, executor in (("math", self._math), ("code", self._code)):
            todo = iter([i for i in rest if calls[i][0] == kind])
            lock = threading.Lock()
            drains += [executor.submit(self._drain, calls, todo, lock, out, record) for _ in range(self.workers)]
        for drain in drains:
            drain.result()
        return out

    def _drain(self, calls: list[tuple], todo, lock: threading.Lock, out: list, record) -> None:
        while not self.closed:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            self._attempt(out, i, lambda: self.run(*calls[i]), record)

    @staticmethod
    def _attempt(out: list, i: int, call, record, keep_none: bool = False) -> bool:
        """out[i] = call(), recorded; False (nothing recorded) when keep_none and the call returned None."""
        try:
            out[i] = call()
        except Exception as exc:  # counted as an error, raised to score_many's caller
            out[i] = exc
            record(None)
            return True
        if out[i] is None and keep_none:
            return False
        record(out[i])
        return True

    def close(self) -> None:
        self.closed = True
        self._math.shutdown(wait=True, cancel_futures=True)
        self._code.shutdown(wait=True, cancel_futures=True)
        if self._sandbox is not None and self._owns_sandbox:
            self._sandbox.close()


def _make_sandbox(spec, workers: int):
    if not isinstance(spec, str):
        return spec  # a Sandbox object the caller built (and closes)
    from graders.code import judge_sandbox

    if spec == "local":
        warnings.warn("RewardPool(sandbox='local'): judged programs run on this host WITHOUT isolation; "
                      "use sandbox='docker' for anything a policy wrote", stacklevel=3)
    return judge_sandbox(spec, workers)
