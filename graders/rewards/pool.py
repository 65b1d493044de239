"""The reward pool: reward calls from any thread or event loop, each with a hard deadline, counted.

    from graders.rewards.pool import RewardPool
    with RewardPool(workers=2) as pool:
        results = pool.score_many([("math", response, "\\frac{1}{2}", None), ...])   # order kept

The pool checks each call in the caller's thread, hands it to its backend (`graders.rewards.types.RewardBackend`)
and counts what comes back. backend="local" (`graders.rewards.local_backend`): math runs `graders.math.grade` on
`workers` threads; the SymPy work inside it runs in the shared zygote-forked deadline pool of `graders/pool.py`
(grown here to `workers`), which kills and respawns a worker past the deadline, so no call outlives `timeout_s`
(+ the linear-time extraction). Code runs `graders.code.grade` on its own `workers` threads feeding a sandbox with
`workers` workers (Docker by default; "local" only when asked, with a warning; DOCKER_HOST picks a remote engine,
as for every Docker client). backend="ray" spreads the same calls over Ray actors (`graders.rewards.ray_backend`).
A result whose score is None is masked: the caller must leave it out, never count it as 0 or 1.
"""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Future
from typing import Any, Iterable, Mapping

from graders.rewards import code_reward, math_reward
from graders.rewards.local_backend import LocalBackend
from graders.rewards.routing import KINDS
from graders.rewards.types import RewardBackend, RewardResult

BACKENDS = ("local", "ray")
SANDBOXES = ("docker", "local")


def check_call(kind: str, response: Any, reference: Any, options: Mapping | None, code_mode: str) -> dict:
    """Caller mistakes fail here, in the caller's thread, with the fix in the message."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r} (graders.rewards.routing.kind_for "
                         "maps a data_source to its kind)")
    if not isinstance(response, str):
        raise TypeError(f"response must be the model's text as a str, got {type(response).__name__}")
    options = dict(options or {})
    if kind == "math":
        math_reward.check_options(options)
        math_reward.gold_text(reference)
    else:
        code_reward.check_options(options, code_mode)
    return options


class _Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.calls = self.timeouts = self.errors = self.masked = 0
        self.latency_sum = self.latency_max = 0.0

    def record(self, future: Future) -> None:
        if future.cancelled():  # close() dropped it before it ran: not a call
            return
        self.add(None if future.exception() is not None else future.result())

    def add(self, result: RewardResult | None) -> None:
        """One finished call; None: it raised."""
        latency = float(result.extra.get("latency_s", 0.0)) if result is not None else 0.0
        with self._lock:
            self.calls += 1
            if result is None or result.reason in ("error", "infra_error"):
                self.errors += 1
            if result is None or result.score is None:
                self.masked += 1
            self.timeouts += result is not None and result.timed_out
            self.latency_sum += latency
            self.latency_max = max(self.latency_max, latency)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {"calls": self.calls, "timeouts": self.timeouts, "errors": self.errors, "masked": self.masked,
                    "latency_mean_s": self.latency_sum / self.calls if self.calls else 0.0,
                    "latency_max_s": self.latency_max}


class RewardPool:
    def __init__(self, workers: int = 2, *, timeout_s: float | None = None, backend: str = "local",
                 sandbox: str = "docker", code_mode: str = "binary"):
        """timeout_s: the math deadline per call (None: `graders.math.DEFAULT_TIMEOUT_S`); a code call is bounded
        by its options' budget_s (`code_reward.DEFAULT_BUDGET_S`). sandbox: "docker" | "local" | a Sandbox object.
        code_mode: the default code reward, "binary" | "strict" | "soft" (a call's options may override)."""
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        if timeout_s is not None and not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0 (or None for the defaults), got {timeout_s!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if isinstance(sandbox, str) and sandbox not in SANDBOXES:
            raise ValueError(f"sandbox must be one of {SANDBOXES} or a Sandbox object, got {sandbox!r}")
        code_reward.check_options({}, code_mode)
        self.code_mode, self.closed = code_mode, False
        self._stats = _Stats()
        self._backend: RewardBackend
        if backend == "ray":
            from graders.rewards.ray_backend import RayBackend

            self._backend = RayBackend(workers, timeout_s, sandbox, code_mode)
        else:
            self._backend = LocalBackend(workers, timeout_s, sandbox, code_mode)

    def submit(self, kind: str, response: str, reference: Any, options: Mapping | None = None) -> Future:
        options = check_call(kind, response, reference, options, self.code_mode)
        future = self._backend.submit(kind, response, reference, options)
        future.add_done_callback(self._stats.record)
        return future

    def score(self, kind: str, response: str, reference: Any, options: Mapping | None = None) -> RewardResult:
        """One call in the calling thread, no hand-off to a pool thread: for serial callers (verl's naive
        manager). The same deadlines hold (math's are in the worker pool, code's in the sandbox)."""
        if not isinstance(self._backend, LocalBackend):
            return self.submit(kind, response, reference, options).result()
        options = check_call(kind, response, reference, options, self.code_mode)
        done: Future = Future()
        try:
            done.set_result(self._backend.run(kind, response, reference, options))
        except BaseException as exc:  # counted as an error, then raised to the caller as it is
            done.set_exception(exc)
        self._stats.record(done)
        return done.result()

    def score_many(self, calls: Iterable[tuple[str, str, Any, Mapping | None]]) -> list[RewardResult]:
        """Results in the order of `calls`; the first call that raised (a caller mistake, or a bug) raises."""
        if not isinstance(self._backend, LocalBackend):
            futures = [self.submit(*call) for call in calls]
            return [f.result() for f in futures]
        checked = [(kind, response, reference, check_call(kind, response, reference, options, self.code_mode))
                   for kind, response, reference, options in calls]
        results = self._backend.run_many(checked, self._stats.add)
        for result in results:
            if isinstance(result, Exception):
                raise result
            if result is None:
                raise RuntimeError("the reward pool was closed while score_many ran: its calls were not all made")
        return results

    async def ascore(self, kind: str, response: str, reference: Any, options: Mapping | None = None) -> RewardResult:
        return await asyncio.wrap_future(self.submit(kind, response, reference, options))

    def stats(self) -> dict[str, float]:
        """Counters since creation: calls, timeouts (every grading deadline: masked when the host starved the
        worker, a 0 when the response was costly), errors (worker/sandbox failures and calls that raised),
        masked (score None), latency_mean_s, latency_max_s (per call, while it ran)."""
        return self._stats.snapshot()

    def close(self) -> None:
        self.closed = True
        self._backend.close()

    def __enter__(self) -> "RewardPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_pools_lock = threading.Lock()
_pools: dict[tuple, RewardPool] = {}


def get_pool(workers: int = 2, *, timeout_s: float | None = None, backend: str = "local",
             sandbox: str = "docker", code_mode: str = "binary") -> RewardPool:
    """The process-wide pool with these settings (the adapters' pool), rebuilt in a forked child."""
    key = (os.getpid(), workers, timeout_s, backend, sandbox, code_mode)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None or pool.closed:
            pool = _pools[key] = RewardPool(workers, timeout_s=timeout_s, backend=backend, sandbox=sandbox,
                                            code_mode=code_mode)
        return pool
