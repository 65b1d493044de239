"""The grader vocabulary: verdicts. Every grader returns one of these and never raises on model output."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MathReason = Literal["correct", "wrong", "no_answer", "gold_unparseable", "timeout", "error"]


@dataclass(frozen=True)
class MathVerdict:
    correct: bool
    reason: MathReason
    extracted: str | None = None      # the answer string found in the response
    parsed_gold: str | None = None    # canonical forms, for debugging
    parsed_response: str | None = None
    timed_out: bool = False
    detail: str = ""                  # a short human note (e.g. which comparison decided)

    @property
    def score(self) -> float | None:
        """RL reward: None (= mask) when the grader could not decide."""
        if self.reason in ("timeout", "error", "gold_unparseable"):
            return None
        return 1.0 if self.correct else 0.0
