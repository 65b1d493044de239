"""The benchmark vocabulary: a Problem is what to ask and what is right."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Problem:
    id: str
    prompt: str                 # the user turn, instruction included
    reference: str | dict       # math: the gold answer string; code: tests + metadata
    grader: str                 # "math" or "code"
    metadata: dict = field(default_factory=dict)   # level, subject, difficulty, date, ...


@dataclass(frozen=True)
class Benchmark:
    name: str
    load: Callable[..., list[Problem]]   # takes the keyword options named in `options`
    default_n: int                       # samples per problem that reproduce MiMo's protocol
    prompt: str                          # the prompt template(s); text and hash go into every run record
    grader: str                          # "math" or "code"
    breakdown_keys: tuple[str, ...] = ()  # metadata keys to break pass@1 down by
    options: tuple[str, ...] = ()         # keyword options load() accepts
