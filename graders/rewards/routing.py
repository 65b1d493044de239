"""Which grader a data source needs: a small explicit table, extendable in one line.

The names mirror verl's `verl.utils.reward_score.default_compute_score` (math: MATH, MATH-500, GSM8K,
DAPO-Math, AIME, the Numina splits; code: codecontests, apps, codeforces, taco) plus LiveCodeBench and this
project's benchmark names. Patterns use `fnmatch` ("aime*"). The user's own sources:

    from graders.rewards.routing import register
    register("my_org/olympiad-*", "math")
"""
from __future__ import annotations

import fnmatch
import threading

KINDS = ("math", "code")

_table: dict[str, str] = {
    "lighteval/MATH": "math",
    "DigitalLearningGmbH/MATH-lighteval": "math",
    "HuggingFaceH4/MATH-500": "math",
    "openai/gsm8k": "math",
    "math_dapo": "math",
    "BytedTsinghua-SIA/DAPO-Math-17k": "math",
    "aime*": "math",
    "math500": "math",
    "numina_*": "math",
    "codecontests": "code",
    "apps": "code",
    "codeforces": "code",
    "taco": "code",
    "livecodebench*": "code",
    "livecodebench/*": "code",
}
_lock = threading.Lock()


def kind_for(data_source: str) -> str:
    """"math" or "code"; an exact name wins over a pattern, and later registrations over earlier ones."""
    if not isinstance(data_source, str):
        raise TypeError(f"data_source must be a str, got {type(data_source).__name__}")
    with _lock:
        table = dict(_table)
    if data_source in table:
        return table[data_source]
    for pattern in reversed(list(table)):
        if fnmatch.fnmatchcase(data_source, pattern):
            return table[pattern]
    raise ValueError(f"unknown data_source {data_source!r}; known: {', '.join(sorted(table))}. "
                     "Add yours with graders.rewards.routing.register(name_or_pattern, 'math' | 'code')")


def register(data_source: str, kind: str) -> None:
    """Route `data_source` (an exact name or an fnmatch pattern like "aime*") to `kind`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(data_source, str) or not data_source:
        raise ValueError(f"data_source must be a non-empty str, got {data_source!r}")
    with _lock:
        _table.pop(data_source, None)  # re-registering moves it last, so it wins among patterns
        _table[data_source] = kind


def known_sources() -> dict[str, str]:
    with _lock:
        return dict(_table)
