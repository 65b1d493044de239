"""The benchmark vocabulary: a Problem is what to ask and what is right."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    id: str
    prompt: str                 # the user turn, instruction included
    reference: str | dict       # math: the gold answer string; code: tests + metadata
    grader: str                 # "math" or "code"
    metadata: dict = field(default_factory=dict)   # level, subject, difficulty, date, ...
