"""Inequalities as the sets they describe: `1 < x \\le 2` as the interval (1, 2] without SymPy, and any
inequality in one variable (`1 \\le |z| \\le \\frac32`) solved by SymPy to a union of intervals, compared
with the interval or union a response wrote, bounds compared as values."""
from __future__ import annotations

import re

from graders.math.numeric import numbers_equal
from graders.math.parse import Structure, split_relation, sympy_of

# A variable ("x", "a_1", "f(x)", "\\theta"), never a call of a command ("\\log_2(x)") nor \\pi or \\infty.
SIMPLE_VAR = re.compile(r"^(?:[a-zA-Z](?:_\{?\w+\}?)?(?:\([a-zA-Z]\))?|\\(?!pi\b|infty\b)[a-zA-Z]+(?:_\{?\w+\}?)?)$")
FLIP = {"<": ">", ">": "<", "\\le": "\\ge", "\\ge": "\\le", "<=": ">=", ">=": "<="}
CANON_OP = {"<=": "\\le", ">=": "\\ge", "!=": "\\ne"}


def is_inequality(s: Structure) -> bool:
    # Only one: normalisation joins "and", "or" and "," alike, so a list of inequalities has no known meaning.
    if s.kind != "single":
        return False
    rel = split_relation(s.items[0])
    return rel is not None and "=" not in rel[1]


def relation_as_interval(s: Structure) -> Structure | None:
    """`1 < x \\le 2` -> (1, 2]; `x > 3` -> (3, \\infty)."""
    if s.kind != "single":
        return None
    rel = split_relation(s.items[0])
    if rel is None:
        return None
    parts, ops = rel
    ops = [CANON_OP.get(o, o) for o in ops]
    if len(ops) == 2 and all(o in ("<", "\\le") for o in ops) and SIMPLE_VAR.match(parts[1]):
        return Structure("tuple", (parts[0], parts[2]), ("(" if ops[0] == "<" else "[") + (")" if ops[1] == "<" else "]"))
    if len(ops) == 1 and ops[0] in ("<", ">", "\\le", "\\ge"):
        var_left = SIMPLE_VAR.match(parts[0]) is not None
        if not var_left and not SIMPLE_VAR.match(parts[1]):
            return None           # "x^2 < 4": solved by relation_set
        op = ops[0] if var_left else FLIP[ops[0]]
        bound = parts[1] if var_left else parts[0]
        strict = op in ("<", ">")
        if op in ("<", "\\le"):
            return Structure("tuple", ("-\\infty", bound), "(" + (")" if strict else "]"))
        return Structure("tuple", (bound, "\\infty"), ("(" if strict else "[") + ")")
    return None


def relation_set(item: str, side: str):
    """The real solution set of an inequality in one variable (`1 \\le |z| \\le \\frac32`), or None."""
    import sympy

    expr = sympy_of(item, side)
    if not isinstance(expr, (sympy.Rel, sympy.And, sympy.Or)) or len(expr.free_symbols) != 1:
        return None
    (var,) = expr.free_symbols
    real = sympy.Symbol(var.name, real=True)
    try:
        return expr.subs(var, real).as_set().intersect(sympy.S.Reals)   # a tautology's set is "everything"
    except (NotImplementedError, TypeError, ValueError):
        return None


def structure_set(st: Structure, side: str):
    """A SymPy set for an interval or a union of intervals, or None."""
    import sympy

    if st.kind == "union":
        parts = [structure_set(p, side) for p in st.items]
        return None if any(p is None for p in parts) else sympy.Union(*parts)
    if st.kind == "set" and not st.items:
        return sympy.S.EmptySet
    if st.kind != "tuple" or len(st.items) != 2 or st.brackets[:1] not in "([" or st.brackets[-1:] not in ")]":
        return None
    lo, hi = (sympy_of(x, side) for x in st.items)
    if not all(isinstance(v, sympy.Expr) and v.is_extended_real is not False and not v.free_symbols for v in (lo, hi)):
        return None
    closed = st.brackets == "[]"
    if not (sympy.N(lo, 30) < sympy.N(hi, 30) or closed and lo.is_finite and _same_point(lo, hi)):
        return None     # "(3, 1)" is no interval; SymPy would call it the empty set
    return sympy.Interval(lo, hi, st.brackets[0] == "(", st.brackets[1] == ")")


def sets_equal(a, b) -> bool:
    """Unions of intervals with the same bounds; bounds compared as values (`\\ln 2` = `\\log(2)`)."""
    import sympy

    if a == b:
        return True
    pieces = lambda s: list(s.args) if isinstance(s, sympy.Union) else [s]   # noqa: E731
    pa, pb = pieces(a), pieces(b)
    if len(pa) != len(pb) or not all(isinstance(p, sympy.Interval) for p in pa + pb):
        return False
    key = lambda iv: float(sympy.N(iv.start, 30))   # noqa: E731
    return all(x.left_open == y.left_open and x.right_open == y.right_open and _same_point(x.start, y.start)
               and _same_point(x.end, y.end) for x, y in zip(sorted(pa, key=key), sorted(pb, key=key)))


def _same_point(x, y) -> bool:
    if x == y:
        return True
    if x.is_infinite or y.is_infinite:
        return False
    return numbers_equal(x, y, gold_places=None, resp_decimal_literal=False, resp_has_decimal=False)
