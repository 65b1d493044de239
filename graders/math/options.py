"""The comparison's options, apart from `graders.math.compare` so that the grading caller imports no comparison code
(it runs in the worker processes)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CompareOptions:
    """Opt-in departures from the default policy; the last two mirror Math-Verify's `verify` flags.

    decimals: numbers match once both are rounded to this many places (problems asking for a rounded answer).
    strict: False renames the response's letters that the gold does not use to the gold's own (`f(y)` for
        `f(x)`, one renaming for the whole answer) and lets a `()` pair equal a set. Not for multiple-choice
        data: a lone letter then matches any other letter, as in Math-Verify.
    allow_set_relation_comp: True also lets an interval gold accept an inequality (`[-2,7]` vs
        `-2 \\le x \\le 7`). The other direction is always allowed; this one is off by default because
        a model that echoes the problem's inequality has not solved it.
    sides_must_agree: not an option but reward mode's rule (`graders.math.sides`): `x = 5+5+1 = 7 = 11` is not
        11 there, while eval mode reads a chain's last value as Math-Verify does (its own suite asserts it).
    """

    decimals: int | None = None
    strict: bool = True
    allow_set_relation_comp: bool = False
    sides_must_agree: bool = False   # set by reward mode (graders.math.sides); eval reads a chain's last value
