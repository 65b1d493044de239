"""kind "math": the reference is the gold answer string, the grader `graders.math.grade`, in "reward" mode by
default (a box is required after `</think>`; different boxed answers are a hedge and score 0). Options:
mode ("reward" | "eval"), timeout_s, decimals, strict, allow_set_relation_comp, thinking_opened (see
`graders.math.grade`: the prompt ended inside an open thinking block, so a response without `</think>` is
unfinished thinking and scores 0), on_timeout ("mask" | "zero"). An unparseable gold, a deadline the worker spent starved by host load, or a
crashed worker is masked (score None), never scored. A deadline spent computing on the response (10,000
nested braces) is `response_too_costly` and scores 0 already (`graders.math`), so a policy cannot mask its
wrong answers by making them slow to grade; on_timeout="zero" also scores the starved timeouts 0 (still
reason "timeout"), for runs whose `timeouts` counter starts to climb."""
from __future__ import annotations

import numbers
from typing import Any, Mapping

from graders.rewards.types import RewardResult

EXTRA_CHARS = 300   # results travel to logs and per-sample lists: a 1 MB box is cut here
OPTIONS = frozenset({"mode", "timeout_s", "decimals", "strict", "allow_set_relation_comp", "thinking_opened",
                     "on_timeout"})


def check_options(options: Mapping) -> None:
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"unknown math reward options {sorted(unknown)}; known: {sorted(OPTIONS)}")
    if options.get("on_timeout", "mask") not in ("mask", "zero"):
        raise ValueError(f"on_timeout must be 'mask' or 'zero', got {options['on_timeout']!r}")
    if options.get("mode", "reward") not in ("reward", "eval"):
        raise ValueError(f"math reward mode must be 'reward' or 'eval', got {options['mode']!r}")
    if not isinstance(options.get("thinking_opened", False), bool):
        raise TypeError(f"thinking_opened must be a bool (did the prompt end inside an open <think> block?), "
                        f"got {options['thinking_opened']!r}")


def gold_text(reference: Any) -> str:
    """Datasets store integer answers as numbers (AIME in parquet); anything else must already be text."""
    if isinstance(reference, str):
        return reference
    if isinstance(reference, numbers.Number) and not isinstance(reference, bool):
        return str(reference)
    raise TypeError(f"a math reference must be the gold answer as a str, got {type(reference).__name__}")


def warm(index: int) -> None:
    """A comparison that needs a worker (distinct per index: a repeated one is answered from the cache),
    so the zygote and the workers start before the first batch."""
    from graders.math import grade

    grade(gold=f"x+{index + 1}", response=f"\\boxed{{{index + 1}+x}}", mode="reward", timeout_s=60)


def math_reward(*, response: str, reference: Any, options: Mapping, timeout_s: float | None,
                in_process_only: bool = False) -> RewardResult | None:
    """in_process_only: None instead of handing the comparison to a worker (`graders.math.grade_in_process`)."""
    from graders.math import DEFAULT_TIMEOUT_S, grade, grade_in_process

    settings = {"mode": "reward", "timeout_s": timeout_s or DEFAULT_TIMEOUT_S, **options}
    on_timeout = settings.pop("on_timeout", "mask")
    if in_process_only:
        settings.pop("timeout_s")
        verdict = grade_in_process(gold=gold_text(reference), response=response, **settings)
        if verdict is None:
            return None
    else:
        verdict = grade(gold=gold_text(reference), response=response, **settings)
    score = 0.0 if verdict.timed_out and on_timeout == "zero" else verdict.score
    extracted = verdict.extracted if verdict.extracted is None else verdict.extracted[:EXTRA_CHARS]
    extra = {"extracted": extracted, "detail": verdict.detail[:EXTRA_CHARS], "mode": settings["mode"]}
    return RewardResult(score=score, correct=None if score is None else verdict.correct,
                        reason=verdict.reason, extra=extra, timed_out=verdict.timed_out)
