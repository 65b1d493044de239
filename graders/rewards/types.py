"""The reward vocabulary: one reward call's result, shared by the pool, the adapters and the RL loop, and the
protocol of the backends a pool runs its calls on."""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

# Reasons that mean "could not decide": the sample is masked (score None), never scored 0 or 1.
MASKED_REASONS = ("timeout", "infra_error", "gold_unparseable", "bad_tests", "error")


@dataclass(frozen=True)
class RewardResult:
    score: float | None        # None = could not decide (timeout, sandbox down, unparseable reference): masked, never 0/1
    correct: bool | None
    reason: str                # the grader's reason: correct, wrong, no_answer, gold_unparseable, timeout, infra_error, ...
    extra: Mapping[str, Any] = field(default_factory=dict)  # detail, extracted answer, per-test verdicts, latency_s, ...
    # A grading deadline passed: masked ("timeout", the host starved the worker) or scored 0 (reason
    # "response_too_costly", the worker computed on the response all along); counted either way.
    timed_out: bool = False

    def __post_init__(self):
        if self.reason == "timeout":
            object.__setattr__(self, "timed_out", True)

    @property
    def masked(self) -> bool:
        return self.score is None


class RewardBackend(Protocol):
    """Where a `RewardPool` runs its calls (the pool has checked each call and counts each result):
    `graders.rewards.local_backend.LocalBackend`, threads in this process, or
    `graders.rewards.ray_backend.RayBackend`, Ray actors that each hold a LocalBackend of one worker."""

    def submit(self, kind: str, response: str, reference: Any, options: dict) -> Future:
        """The call's RewardResult, when it is done; an exception only for a caller mistake or a bug."""

    def close(self) -> None:
        """Stop: calls not yet started are dropped, a sandbox the backend made is closed."""
