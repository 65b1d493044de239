"""Deciding whether two normalised answers are equivalent: a ladder of small named checks, cheapest
first: canonical strings, structure (lists, tuples, intervals, matrices), relations, then values
(`graders.math.numeric`)."""
from __future__ import annotations

import math
import re
from fractions import Fraction

from graders.math.options import CompareOptions
from graders.math.numeric import as_sympy, evaluate, numbers_equal, sample_points, symbolic_equal
from graders.math.normalize import letter_renamings
from graders.math.parse import (
    SideError, Structure, has_decimal, literal_value, parse_structure, split_relation, sympy_of,
)
from graders.math.sides import approx_agree, approx_sides
from graders.math.sets import (
    CANON_OP, FLIP, SIMPLE_VAR, is_inequality, relation_as_interval, relation_set, sets_equal, structure_set,
)

# The left side of a named quantity ("AB", "|AB|", "(p,q)", "V_{1}:V_{2}", "\frac{NO}{BO}"): no digits
# outside subscripts and no + or -, so an equation such as "2x+4y-3=0" is never unwrapped to "0".
_NAMED_LHS = re.compile(r"^(?:[A-Za-z|:(),\s{}\\]|_\{?\w+\}?)+$")
# In a response, a left side without letters is a computation ("5+5+1 = 11"): its end is the value.
# Not in a gold: "7 = 11a + c" is an equation to satisfy.
_COMPUTED_LHS = re.compile(r"^[^A-Za-z]*$")
_MEMBERSHIP = re.compile(r"\\in(?![A-Za-z])")
# Greek letters other than \pi name variables; other commands (\frac, \sqrt, \pi, \cdot) do not
_NOT_A_VARIABLE = re.compile(r"\\(?!(?:alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|"
                             r"lambda|mu|nu|xi|rho|sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|"
                             r"Lambda|Xi|Sigma|Phi|Psi|Omega)(?![a-zA-Z]))[a-zA-Z]+")
_TEXT_ONLY = re.compile(r"^\\text\{([^{}]*)\}$")
_MAX_ITEMS = 64


DEFAULT_OPTIONS = CompareOptions()
_options = DEFAULT_OPTIONS   # set by answers_equal for one comparison (a worker compares one pair at a time)


def _canon(s: str) -> str:
    return s.replace(" ", "").replace("{", "").replace("}", "")


def _text_value(item: str) -> str | None:
    m = _TEXT_ONLY.match(item)
    if m:
        text = " ".join(m.group(1).lower().split())
        return text[1:-1] if re.fullmatch(r"\([a-z]\)", text) else text   # "(C)" is option "C"
    if "\\" not in item and re.fullmatch(r"[A-Za-z][A-Za-z ]{3,}", item):
        return " ".join(item.lower().split())
    return None


def structures_equal(g: Structure, r: Structure) -> bool:
    if len(g.items) > _MAX_ITEMS or len(r.items) > _MAX_ITEMS:
        return False
    # A relation gold ("-2 \le x \le 7") accepts the interval; an interval or pair gold accepts a
    # relation only with allow_set_relation_comp: "(1,2)" may be a point, as in Math-Verify.
    if is_inequality(g) and (r.kind in ("tuple", "union") or r.kind == "set" and not r.items):
        return _relation_matches_set(g, r, "gold", "response")
    if _options.allow_set_relation_comp and is_inequality(r) and g.kind in ("tuple", "union"):
        return _relation_matches_set(r, g, "response", "gold")
    if g.kind == "union" or r.kind == "union":
        return g.kind == r.kind and _unordered(g.items, r.items, structures_equal)
    if g.kind == "matrix" or r.kind == "matrix":
        if g.kind == "single" or r.kind == "single":   # "A + B", "A B" written with matrices
            return _matrix_expression_equal(g.source, r.source)
        return _matrix_equal(g, r)
    if g.kind == "single" and r.kind == "single":
        return items_equal(g.items[0], r.items[0])
    if g.kind == "tuple" and r.kind == "tuple":
        return g.brackets == r.brackets and _ordered(g.items, r.items)
    if g.kind in ("set", "list") and r.kind in ("set", "list"):
        return _unordered(g.items, r.items, items_equal)
    pair = g.kind == "tuple" and g.brackets == "()" or r.kind == "tuple" and r.brackets == "()"
    if pair and not _MEMBERSHIP.search(g.source + r.source):    # "x \in (1,3)" is an interval, not a pair
        if {g.kind, r.kind} == {"tuple", "list"}:
            return _ordered(g.items, r.items)     # a pair written without its parentheses: "1, 3" for (1,3)
        if not _options.strict and {g.kind, r.kind} == {"tuple", "set"}:
            return _unordered(g.items, r.items, items_equal)
    if g.kind == "single" and r.kind in ("list", "set") and r.items and all(   # "$\frac12$ or $0.5$": one value restated
            isinstance(item, str) and structures_equal(g, parse_structure(item)) for item in r.items):
        return True
    if g.kind == "single" and split_relation(g.items[0]) or r.kind == "single" and split_relation(r.items[0]):
        return items_equal(g.source, r.source)    # "(p,q) = (3,2)" against "(3,2)"
    return False


def _relation_matches_set(rel: Structure, st: Structure, rel_side: str, set_side: str) -> bool:
    """An inequality in one variable against the interval or union it describes."""
    interval = relation_as_interval(rel)
    if interval is not None and st.kind == "tuple":   # the common shapes, without SymPy: "1 < x \le 2", "x > 3"
        return interval.brackets == st.brackets and _ordered(interval.items, st.items)
    rel_set, st_set = relation_set(rel.items[0], rel_side), structure_set(st, set_side)
    return rel_set is not None and st_set is not None and sets_equal(rel_set, st_set)


def _ordered(gi, ri) -> bool:
    return len(gi) == len(ri) and all(items_equal(a, b) for a, b in zip(gi, ri))


def _unordered(gi, ri, eq) -> bool:
    # "find all" answers are sets: a value listed twice is still one value
    gi = list({_canon(str(x)): x for x in gi}.values()) if all(isinstance(x, str) for x in gi) else list(gi)
    ri = list({_canon(str(x)): x for x in ri}.values()) if all(isinstance(x, str) for x in ri) else list(ri)
    if len(gi) != len(ri):
        return False
    left = list(ri)
    for a in gi:
        hit = next((k for k, b in enumerate(left) if eq(a, b)), None)
        if hit is None:
            return False
        left.pop(hit)
    return True


def _matrix_equal(g: Structure, r: Structure) -> bool:
    def flat(s: Structure):
        if s.kind == "matrix":
            shape = (len(s.items), len(s.items[0]) if s.items else 0)
            return shape, [c for row in s.items for c in row]
        if s.kind == "tuple" and s.brackets == "()":
            return ("vector", len(s.items)), list(s.items)
        return None, None

    (gs, gc), (rs, rc) = flat(g), flat(r)
    if gs is None or rs is None:
        return False
    vec = lambda shape: (shape[0] == "vector") or (1 in shape)   # noqa: E731 - row/column vectors match tuples
    if gs != rs and not (vec(gs) and vec(rs) and len(gc) == len(rc)):
        return False
    return _ordered(gc, rc)


def _matrix_expression_equal(g: str, r: str) -> bool:
    import sympy

    def as_matrix(m):   # latex2sympy leaves sums and products of matrices unevaluated
        ok = isinstance(m, (sympy.MatrixBase, sympy.MatrixExpr))
        return sympy.Matrix(m.doit()) if ok else None

    gm, rm = as_matrix(sympy_of(g, "gold")), as_matrix(sympy_of(r, "response"))
    if gm is None or rm is None or gm.shape != rm.shape:
        return False
    return all(symbolic_equal(sympy.sympify(a), sympy.sympify(b)) for a, b in zip(gm, rm))


def items_equal(g: str, r: str) -> bool:
    if _canon(g) == _canon(r):
        return True
    g = (approx_sides(g) or (g,))[0] if split_relation(g) is None else g   # a reference's exact side
    sides = approx_sides(r) if split_relation(r) is None else None   # "x = 1/3 \\approx 0.33": its parts, below
    if sides:   # "\frac13 \approx 0.333": the exact side, or the other once they agree (graders.math.sides)
        agree = approx_agree(*sides)
        if _options.sides_must_agree and not agree:
            return False
        return items_equal(g, sides[0]) or agree and items_equal(g, sides[1])
    grel, rrel = split_relation(g), split_relation(r)
    if grel or rrel:
        return _relations_equal(g, grel, r, rrel)
    gs, rs = parse_structure(g), parse_structure(r)
    if gs.kind != "single" or rs.kind != "single":      # nested groups: "(1,2)" inside a list
        return structures_equal(gs, rs)
    gt, rt = _text_value(g), _text_value(r)
    if gt is not None or rt is not None:
        other = r if gt is not None else g
        if (gt is None or rt is None) and re.fullmatch(r"[A-Za-z]+", other):
            return (gt or other.lower()) == (rt or other.lower())   # "\text{E}" vs "E"
        return gt == rt
    return values_equal(g, r)


def _relations_equal(g, grel, r, rrel) -> bool:
    if grel and not rrel:   # "x = 3", "(p,q) = (3,2)", "AB = 4" as gold, the value as response
        parts, ops = grel
        # A chain "a = b = 3" ends in its value; a single "7 = 11a + c" with a number on the left is an equation,
        # and so is a chain that ends in a variable ("\frac{x-1}{2} = \frac{y}{3} = \frac{z}{4}").
        named = _NAMED_LHS.match(parts[0]) is not None or len(ops) > 1 and _is_value(parts[-1])
        return all(o == "=" for o in ops) and named and items_equal(parts[-1], r)
    if rrel and not grel:   # assignment unwrapping: "x = 3", "a = b = 3" -> the last right-hand side
        parts, ops = rrel
        named = (_NAMED_LHS.match(parts[0]) or _COMPUTED_LHS.match(re.sub(r"\\[a-zA-Z]+", "", parts[0]))
                 or parse_structure(parts[0]).kind in ("set", "tuple"))   # "\{...\} = \{2, 3\}" restates a set
        return all(o == "=" for o in ops) and named is not None and _sides_agree(parts) and items_equal(g, parts[-1])
    (gp, go), (rp, ro) = grel, rrel
    go, ro = [CANON_OP.get(o, o) for o in go], [CANON_OP.get(o, o) for o in ro]
    if set(go) == set(ro) == {"="} and (len(go) > 1 or len(ro) > 1):   # chains "x = 5+5+1 = 11": the final value
        if not (_NAMED_LHS.match(gp[0]) and _NAMED_LHS.match(rp[0])):   # "\frac{x}{2} = \frac{y}{3} = \frac{z}{4}": every member counts
            return len(gp) == len(rp) and all(items_equal(a, b) for a, b in zip(gp, rp))
        return _canon(gp[0]) == _canon(rp[0]) and _sides_agree(rp) and items_equal(gp[-1], rp[-1])
    if go == ro == ["="]:
        if SIMPLE_VAR.match(gp[0]) and _canon(gp[0]) == _canon(rp[0]) and values_equal(gp[1], rp[1]):
            return True
        return _equations_equal(gp, rp)
    if len(go) == len(ro) == 1 and go[0] != "=" and ro[0] != "=":
        if go[0] != ro[0]:                     # normalise "a > b" to "b < a" before comparing
            if FLIP.get(ro[0]) != go[0]:
                return False
            rp = rp[::-1]
        return values_equal(gp[0], rp[0]) and values_equal(gp[1], rp[1]) or _differences_equal(gp, rp)
    return len(go) == len(ro) and go == ro and all(values_equal(a, b) for a, b in zip(gp, rp))


def _sides_agree(parts: list[str]) -> bool:
    """Every side of an "=" chain that is a value equals its last side: "419 = 420" is not 420 (graders.math.sides);
    reward mode only."""
    return not _options.sides_must_agree or all(values_equal(parts[-1], p) for p in parts[:-1] if _is_value(p) and parse_structure(p).kind == "single")


def _is_value(item: str) -> bool:
    """No variable in it: "0", "5+5+1", "\\frac{\\pi}{2}"."""
    return _COMPUTED_LHS.match(_NOT_A_VARIABLE.sub("", item)) is not None


def _lhs_minus_rhs(parts, side: str):
    return sympy_of(parts[0], side) - sympy_of(parts[1], side)


def _differences_equal(gp, rp) -> bool:
    return symbolic_equal(_lhs_minus_rhs(gp, "gold"), _lhs_minus_rhs(rp, "response"))


def _equations_equal(gp, rp) -> bool:
    """Equivalent equations: lhs - rhs agree up to a nonzero constant factor (`2x+4y=3` ~ `y = -x/2 + 3/4`)."""
    if len(gp) != 2 or len(rp) != 2:
        return False
    gd, rd = _lhs_minus_rhs(gp, "gold"), _lhs_minus_rhs(rp, "response")
    ratios = [evaluate(gd, pt) / evaluate(rd, pt) for pt in sample_points(gd.free_symbols | rd.free_symbols)]
    return all(math.isfinite(abs(q)) and abs(q) > 1e-12 and abs(q - ratios[0]) <= 1e-9 * abs(ratios[0]) for q in ratios)


def values_equal(g: str, r: str) -> bool:
    gl, rl = literal_value(g), literal_value(r)
    if gl is not None and rl is not None:
        return numbers_equal(gl[0], rl[0], gold_places=gl[1], resp_decimal_literal=rl[1] is not None,
                             resp_has_decimal=rl[1] is not None, decimals=_options.decimals)
    gv = Fraction(gl[0]) if gl is not None else sympy_of(g, "gold")
    rv = sympy_of(r, "response")
    import sympy

    if not isinstance(rv, sympy.Expr) or not isinstance(as_sympy(gv), sympy.Expr):
        return as_sympy(gv) == rv
    gs = as_sympy(gv)
    if gs.free_symbols or rv.free_symbols:
        return symbolic_equal(gs, rv)
    return numbers_equal(gs, rv, gold_places=gl[1] if gl else None,
                         resp_decimal_literal=rl is not None and rl[1] is not None, resp_has_decimal=has_decimal(r),
                         decimals=_options.decimals)


def check_gold(gold: str) -> None:
    """Raise SideError("gold", ...) unless every item of the reference parses."""
    def items(st: Structure):
        for it in st.items:
            if isinstance(it, Structure):
                yield from items(it)
            elif isinstance(it, tuple):
                yield from it
            else:
                yield it

    for item in items(parse_structure(gold)):
        if literal_value(item) is not None or _text_value(item) is not None:
            continue
        item = (approx_sides(item) or (item,))[0]
        rel = split_relation(item)
        if rel and set(rel[1]) == {"="}:
            rel = ([rel[0][-1]], [])    # only the final value of "x = ... = 3" is ever compared
        for part in (rel[0] if rel else [item]):
            if parse_structure(part).kind != "single":
                check_gold(part)
                continue
            if part and literal_value(part) is None:
                sympy_of(part, "gold")


def answers_equal(gold: str, response: str, options: CompareOptions = DEFAULT_OPTIONS) -> bool:
    global _options
    _options = options
    try:
        g = parse_structure(gold)
        if options.strict:
            return structures_equal(g, parse_structure(response))
        for candidate in (response, *letter_renamings(gold, response)):
            try:                    # "f(t) = t^2+1" cannot be compared with "f(x) = x^2+1" until renamed
                if structures_equal(g, parse_structure(candidate)):
                    return True
            except SideError as exc:
                if exc.side == "gold":
                    raise
            except (TypeError, ValueError):
                continue
        return False
    finally:
        _options = DEFAULT_OPTIONS
