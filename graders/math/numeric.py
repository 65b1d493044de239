"""Comparing numbers and expressions: the numeric policy and the symbolic checks.

Numeric policy (issue #3, research/math_graders.md §10):
- exact values compare exactly (`0.5` = `\\frac12`, `33.0` = `33`, `1/2^{99}` != `1/2^{98}`);
- an integer gold needs the exact integer (no tolerance can make 10001 equal 10000);
- a gold written as a decimal is compared at the precision it states: a decimal response must equal
  it exactly (`18.90` = `18.9`), a symbolic one must round to it (`6\\pi` for `18.85`);
- otherwise a response written with decimals may approximate an exact gold to one unit in the
  sixth significant digit, relatively (`0.3333333` for 1/3 yes, `0.33` no, `28.27` for `9\\pi` no).
"""
from __future__ import annotations

import math
import random
from fractions import Fraction


def as_sympy(v):
    import sympy

    return sympy.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v


def numbers_equal(g, r, *, gold_places: int | None, resp_decimal_literal: bool, resp_has_decimal: bool,
                  decimals: int | None = None) -> bool:
    """`decimals` (opt-in, for problems that ask for a rounded answer) accepts values equal once both
    are rounded to that many decimal places."""
    if isinstance(g, Fraction) and isinstance(r, Fraction):
        if g == r:
            return True
        gf, rf = g, r
    else:
        import sympy

        g, r = as_sympy(g), as_sympy(r)
        if g.is_infinite or r.is_infinite or g.has(sympy.zoo, sympy.nan) or r.has(sympy.zoo, sympy.nan):
            return g == r
        if g.is_Rational and r.is_Rational:
            if g == r:
                return True
        elif _close(g, r):
            return True
        gf, rf = _to_mp(g), _to_mp(r)
        if gf is None or rf is None:
            return False
    if decimals is not None:
        return _round_to(rf, decimals) == _round_to(gf, decimals)
    if gold_places is not None:      # gold stated as a decimal: compare at its precision
        return not resp_decimal_literal and _round_to(rf, gold_places) == _round_to(gf, gold_places)
    if _is_integer(gf) or not resp_has_decimal:
        return False
    if gf == 0:
        return False
    unit = 10.0 ** (math.floor(math.log10(abs(float(gf)))) - 5)
    return abs(float(rf) - float(gf)) <= unit


def _is_integer(v) -> bool:
    return (v.denominator == 1) if isinstance(v, Fraction) else False


def _round_to(v, places: int) -> Fraction:
    from decimal import ROUND_HALF_UP, Decimal

    d = Decimal(v.numerator) / Decimal(v.denominator) if isinstance(v, Fraction) else Decimal(str(v))
    return Fraction(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _to_mp(v):
    """A Fraction for rationals, a 50-digit mpmath real otherwise; None for complex values."""
    import sympy

    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    val = sympy.N(v, 50)
    if not val.is_real:
        return None
    return val


def _close(g, r) -> bool:
    """Exact equality of two numbers up to 40 significant digits (sqrt(2)+sqrt(3) = sqrt(5+2 sqrt 6))."""
    import sympy

    gv, rv = sympy.N(g, 50), sympy.N(r, 50)
    scale = max(abs(gv), abs(rv))
    return bool(abs(gv - rv) <= sympy.Float("1e-40", 50) * scale) if scale != 0 else True


def sample_points(symbols, count: int = 3):
    rng = random.Random(1234)
    ordered = sorted(symbols, key=str)
    return [{s: _random_rational(rng) for s in ordered} for _ in range(count)]


def _random_rational(rng: random.Random):
    import sympy

    return sympy.Rational(rng.randint(1000, 3000), 997)


def evaluate(expr, point) -> complex:
    return complex(expr.subs(point).evalf(30))


def symbolic_equal(a, b) -> bool:
    """Expressions in variables: expand the difference, else agree at three random rational points."""
    import sympy

    if a == b:
        return True
    if a.free_symbols != b.free_symbols:
        return False
    diff = a - b
    try:
        if sympy.expand(diff) == 0:
            return True
        for pt in sample_points(a.free_symbols):
            va, vb = evaluate(a, pt), evaluate(b, pt)
            if not (abs(va - vb) <= 1e-12 * max(1.0, abs(va))):
                return False
        return True
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return False
