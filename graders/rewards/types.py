"""The reward vocabulary: one reward call's result, shared by the pool, the adapters and the RL loop."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

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
