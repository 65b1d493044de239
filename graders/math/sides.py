"""In reward mode an answer that states two sides (`419 = 420`, `x = 5 + 5 + 1 = 11`, `\\frac13 \\approx 0.333`) is
credited by one side only when its sides agree (issue 21): otherwise a box could hold the right value beside a wrong
one and be paid for the right one. Eval mode reads a chain's last value and an approximation's exact side, as
Math-Verify does (its own test suite asserts `x = 5+5+1 = 7 = 11` is 11 and `x = 1/3 \\approx 1.3` is 1/3), and the
approximate side too once the sides agree. Used by `graders.math.compare`:
- "=": every side that is a value (no variable) equals the last side, exactly (`10 \\times 6 \\times 7 = 420` yes,
  `419 = 420` and `x = 419 = 420` no); an approximation is written with `\\approx`;
- "\\approx": the sides differ by less than one unit in the last place the approximate side states
  (`419.9992 \\approx 420` and `\\pi \\approx 3.14` yes, `420 \\approx 419` no); either side may then be the answer.
"""
from __future__ import annotations

import re
from fractions import Fraction

from graders.math.parse import literal_value, sympy_of

_APPROX = re.compile(r"\\approx(?![a-zA-Z])")


def approx_sides(item: str) -> tuple[str, str] | None:
    """(exact side, approximate side) of `A \\approx B` at top level, else None."""
    depth = 0
    for i, c in enumerate(item):
        depth += (c in "([{") - (c in ")]}")
        if depth == 0 and c == "\\" and _APPROX.match(item, i):
            head, tail = item[:i].strip(), item[i + len("\\approx"):].strip()
            return (head, tail) if head and tail else None
    return None


def approx_agree(head: str, tail: str) -> bool:
    """`head \\approx tail` holds to the precision `tail` states (1% when it states none, `\\frac{22}{7}`)."""
    h, t = _value(head), _value(tail)
    if h is None or t is None:
        return False
    stated = literal_value(tail)
    if stated is not None and re.fullmatch(r"-?[\d.]+", tail.replace(" ", "")):
        return abs(h - t) < 10.0 ** -(stated[1] or 0)
    return abs(h - t) <= 0.01 * max(abs(h), abs(t))


def _value(item: str) -> float | None:
    """A real number, or None (a variable, a complex value, something unparseable)."""
    literal = literal_value(item)
    if literal is not None:
        return float(Fraction(literal[0]))
    import sympy

    try:   # SideError and TooLarge are ValueErrors: then the sides cannot be shown to agree
        value = sympy.N(sympy_of(item, "response"), 30)
        return float(value) if isinstance(value, sympy.Expr) and value.is_real and value.is_number else None
    except (ValueError, TypeError, ArithmeticError):
        return None
