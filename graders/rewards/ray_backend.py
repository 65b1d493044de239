"""RewardPool(backend="ray"): the same calls spread over Ray actors, for reward work on a cluster's CPU
nodes (MiMo ran its rewards on dedicated servers).

Each of the `workers` actors (1 CPU each) owns a local RewardPool of one grader worker and, for code, its own
sandbox (a Docker sandbox talks to the engine on the actor's node, or to DOCKER_HOST there). Calls go to the
actor with the fewest in flight. An actor that dies (killed, node lost, out of memory) is replaced by a new
one in its place as soon as one of its calls fails; the calls it held are not retried (that could run a
program twice) but come back as masked infra errors (reason "infra_error", score None), never lost and never
scored. (Ray's own max_restarts would also fail every call sent while the actor restarts.) Ray must be installed
(`pip install 'mimo-eval[ray]'`); connect first with `ray.init(address=...)`, else a local instance starts.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from graders.rewards.local_backend import LocalBackend
from graders.rewards.types import RewardResult


class _RewardActor:
    def __init__(self, timeout_s: float | None, sandbox: str, code_mode: str):
        self._backend = LocalBackend(1, timeout_s, sandbox, code_mode)

    def score(self, kind: str, response: str, reference: Any, options: dict) -> RewardResult:
        return self._backend.run(kind, response, reference, options)

    def pid(self) -> int:
        import os

        return os.getpid()


class RayBackend:
    def __init__(self, workers: int, timeout_s: float | None, sandbox, code_mode: str):
        try:
            import ray
        except ImportError:
            raise ImportError("backend='ray' needs Ray: pip install 'mimo-eval[ray]'") from None
        if not isinstance(sandbox, str):
            raise ValueError("backend='ray' builds a sandbox in each actor: pass sandbox='docker' or 'local', "
                             "not a Sandbox object")
        if not ray.is_initialized():
            ray.init()
        self._ray = ray
        self._remote = ray.remote(num_cpus=1, max_restarts=0)(_RewardActor)
        self._args = (timeout_s, sandbox, code_mode)
        self.actors = [self._remote.remote(*self._args) for _ in range(workers)]
        self.replaced = 0
        self._in_flight = [0] * workers
        self._lock = threading.Lock()

    def submit(self, kind: str, response: str, reference: Any, options: dict) -> Future:
        with self._lock:
            index = min(range(len(self.actors)), key=self._in_flight.__getitem__)
            self._in_flight[index] += 1
            actor = self.actors[index]
        out: Future = Future()
        ref = actor.score.remote(kind, response, reference, options)
        ref.future().add_done_callback(lambda done: self._finish(index, actor, done, out))
        return out

    def _finish(self, index: int, actor, done: Future, out: Future) -> None:
        exc = done.exception()
        died = isinstance(exc, (self._ray.exceptions.RayActorError, self._ray.exceptions.ObjectLostError))
        with self._lock:
            self._in_flight[index] -= 1
            if died and self.actors and self.actors[index] is actor:  # the first failed call replaces it
                self.actors[index] = self._remote.remote(*self._args)
                self.replaced += 1
        if exc is None:
            out.set_result(done.result())
        elif died:
            out.set_result(RewardResult(None, None, "infra_error",
                                        {"detail": f"reward actor {index} died: {type(exc).__name__}",
                                         "latency_s": 0.0}))
        else:  # the grader raised (a caller mistake such as strict without tiers): the caller sees it
            out.set_exception(exc)

    def close(self) -> None:
        with self._lock:
            actors, self.actors = self.actors, []
        for actor in actors:
            self._ray.kill(actor, no_restart=True)
