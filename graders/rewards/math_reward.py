"""kind "math": the reference is the gold answer string, the grader `graders.math.grade`, in "reward" mode by
default (a box is required after `</think>`; different boxed answers are a hedge and score 0). Options:
mode ("reward" | "eval"), timeout_s, decimals, strict, allow_set_relation_comp (see `graders.math.grade`).
An unparseable gold, a deadline or a crashed worker is masked (score None), never scored."""
from __future__ import annotations

import numbers
from typing import Any, Mapping

from graders.rewards.types import RewardResult

EXTRA_CHARS = 300   # results travel to logs and per-sample lists: a 1 MB box is cut here
OPTIONS = frozenset({"mode", "timeout_s", "decimals", "strict", "allow_set_relation_comp"})


def check_options(options: Mapping) -> None:
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"unknown math reward options {sorted(unknown)}; known: {sorted(OPTIONS)}")
    if options.get("mode", "reward") not in ("reward", "eval"):
        raise ValueError(f"math reward mode must be 'reward' or 'eval', got {options['mode']!r}")


def gold_text(reference: Any) -> str:
    """Datasets store integer answers as numbers (AIME in parquet); anything else must already be text."""
    if isinstance(reference, str):
        return reference
    if isinstance(reference, numbers.Number) and not isinstance(reference, bool):
        return str(reference)
    raise TypeError(f"a math reference must be the gold answer as a str, got {type(reference).__name__}")


def warm() -> None:
    """One comparison that needs a worker: starts the forkserver and a worker before the first batch."""
    from graders.math import grade

    grade(gold="x+1", response="\\boxed{1+x}", mode="reward", timeout_s=60)


def math_reward(*, response: str, reference: Any, options: Mapping, timeout_s: float | None) -> RewardResult:
    from graders.math import DEFAULT_TIMEOUT_S, grade

    settings = {"mode": "reward", "timeout_s": timeout_s or DEFAULT_TIMEOUT_S, **options}
    verdict = grade(gold=gold_text(reference), response=response, **settings)
    score = verdict.score
    extracted = verdict.extracted if verdict.extracted is None else verdict.extracted[:EXTRA_CHARS]
    extra = {"extracted": extracted, "detail": verdict.detail[:EXTRA_CHARS], "mode": settings["mode"]}
    return RewardResult(score=score, correct=None if score is None else verdict.correct,
                        reason=verdict.reason, extra=extra)
