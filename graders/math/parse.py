"""From a normalised answer string to a structure: a single item, an ordered tuple/interval, an
unordered list or set, a union of intervals, or a matrix; and from an item to a SymPy value.

Exact numbers stay exact: decimal literals become rationals (`0.5` is 1/2), and whether a side was
written as a decimal is kept so the numeric policy in `graders.math.compare` can apply.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction

from graders.math.normalize import split_top_level

_OPEN_CLOSE = {"(": ")", "[": "]", "\\{": "\\}", "\\langle": "\\rangle"}
_INTERVAL_CLOSERS = (")", "]")
_REL = re.compile(r"\\le|\\ge|\\ne|<=|>=|!=|<|>|=")
_DECIMAL = re.compile(r"(?<![\d.])(\d*)\.(\d+)(?![\d.])")
_LITERAL = re.compile(r"^([+-]?)(?:(\d+)(?:\.(\d+))?|\\frac\{(\d+)\}\{(\d+)\}|(\d+)/(\d+))$")
# A mixed number, read as latex2sympy2 reads it (2\frac{1}{2} = 5/2), decided here without parsing.
_MIXED = re.compile(r"^([+-]?)(\d{1,18})\\frac\{(\d{1,18})\}\{(\d{1,18})\}$")
_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?([ap])?$", re.IGNORECASE)
_EMPTY = ("\\emptyset", "\\varnothing", "\\{\\}", "\\{ \\}", "\\text{none}", "\\text{no solution}")
MAX_DIGITS = 2000            # longer integer literals are refused before SymPy sees them
MAX_LOG10 = 10000            # values beyond 10^10000 are not evaluated numerically


class SideError(ValueError):
    """One side could not be parsed; `side` says which."""

    def __init__(self, side: str, message: str):
        super().__init__(f"{side}: {message}")
        self.side = side


class TooLarge(ValueError):
    """The answer denotes a number too large to evaluate safely (power towers, huge factorials)."""


@dataclass(frozen=True)
class Structure:
    kind: str                     # single | tuple | set | list | union | matrix
    items: tuple                  # item strings, or Structures for union, or rows for matrix
    brackets: str = ""            # "()", "[)", "\\{\\}", ... for tuple/set
    source: str = ""              # the text this was parsed from


def _outer_group(s: str) -> tuple[str, str, str] | None:
    """(open, inner, close) if the whole string is one bracketed group, intervals' mixed brackets allowed."""
    for o in ("\\{", "\\langle", "(", "["):
        if not s.startswith(o):
            continue
        closers = (_OPEN_CLOSE[o],) if o in ("\\{", "\\langle") else _INTERVAL_CLOSERS
        for c in closers:
            if s.endswith(c) and len(s) >= len(o) + len(c):
                inner = s[len(o) : len(s) - len(c)]
                if _balanced(inner):
                    return o, inner, c
    return None


def _balanced(s: str) -> bool:
    depth = 0
    for part in re.finditer(r"\\\{|\\\}|[([{]|[)\]}]", s):
        depth += 1 if part.group() in ("\\{", "(", "[", "{") else -1
        if depth < 0:
            return False
    return depth == 0


def _pm_outside_groups(item: str) -> bool:
    """Whether a \\pm sits outside every (...), [...] and \\{...\\}: inside one, the group expands it."""
    depth = 0
    for m in re.finditer(r"\\\{|\\\}|\\(?:pm|mp)(?![a-zA-Z])|[(\[)\]]", item):
        tok = m.group()
        if tok in ("\\pm", "\\mp"):
            if depth == 0:
                return True
        else:
            depth += 1 if tok in ("\\{", "(", "[") else -1
    return False


MAX_PM = 4   # at most 2^4 expansions of one item; beyond that the item is compared as written


def expand_pm(item: str) -> list[str]:
    if not _pm_outside_groups(item) or item.count("\\pm") + item.count("\\mp") > MAX_PM:
        return [item]
    plus = item.replace("\\pm", "+", 1).replace("\\mp", "-", 1) if "\\pm" in item else item.replace("\\mp", "-", 1)
    minus = item.replace("\\pm", "-", 1) if "\\pm" in item else item.replace("\\mp", "+", 1)
    return expand_pm(plus) + expand_pm(minus)


def _strip_var_membership(s: str) -> str:
    # "x \in \{1,2\}" / "a \in [0,1)" describe the set itself
    m = re.match(r"^[a-zA-Z](?:_\{?\w+\}?)?\s*\\in\s*(.+)$", s)
    return m.group(1) if m else s


def parse_structure(s: str) -> Structure:
    from dataclasses import replace

    return replace(_parse_structure(s), source=s)


def _parse_structure(s: str) -> Structure:
    s = _strip_var_membership(s.strip())
    if s in _EMPTY:
        return Structure("set", ())
    if "\\cup" in s:
        return Structure("union", tuple(parse_structure(p) for p in s.split("\\cup")))
    m = re.match(r"^\\begin\{([pbvB]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", s, re.DOTALL)
    if not m and s.startswith("[\\begin") and s.endswith("]"):
        m = re.match(r"^\[\\begin\{(array|matrix)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}\]$", s, re.DOTALL)
    if m and "\\end{" not in m.group(2):   # one matrix, not "A + B" written with two
        rows = [tuple(c.strip() for c in r.split("&")) for r in m.group(2).split("\\\\") if r.strip()]
        return Structure("matrix", tuple(rows))
    group = _outer_group(s)
    if group:
        o, inner, c = group
        items = split_top_level(inner, ",;")
        if len(items) == 1 and o in ("(", "[") and c == _OPEN_CLOSE[o]:
            return parse_structure(inner)         # a parenthesised single value
        if o == "\\{":
            return Structure("set", tuple(x for it in items if it for x in expand_pm(it)))
        return Structure("tuple", tuple(items), o + c)
    if re.fullmatch(r"[^=:<>]+:[^=:<>]+", s) and not s.startswith("\\"):
        return Structure("tuple", tuple(p.strip() for p in s.split(":")), "::")   # a ratio or a time, "7:32"
    solutions = _assignment_groups(s)
    if solutions:
        return Structure("list", solutions)
    items = [it for it in split_top_level(s, ",;") if it]
    expanded = tuple(x for it in items for x in expand_pm(it))
    if len(expanded) == 1:
        return Structure("single", expanded)
    return Structure("list", expanded)


def _assignment_groups(s: str) -> tuple[str, ...] | None:
    """"p=5, q=2; p=7, q=2" lists solutions as groups of assignments: the points (5,2) and (7,2)."""
    groups = [g for g in split_top_level(s, ";") if g]
    if len(groups) < 2:
        return None
    points, names = [], None
    for group in groups:
        pairs = [a.split("=", 1) for a in split_top_level(group, ",")]
        if any(len(p) != 2 or not re.fullmatch(r"\s*[a-zA-Z](?:_\{?\w+\}?)?\s*", p[0]) for p in pairs):
            return None
        these = [p[0].strip() for p in pairs]
        if names not in (None, these):
            return None
        names = these
        points.append("(" + ", ".join(p[1].strip() for p in pairs) + ")" if len(pairs) > 1 else pairs[0][1].strip())
    return tuple(points)


def split_relation(item: str) -> tuple[list[str], list[str]] | None:
    """Operands and operators of a relation chain at top level (`a = b = 3`, `1 < x \\le 2`), else None."""
    depth, last, parts, ops, i = 0, 0, [], [], 0
    while i < len(item):
        c = item[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            m = _REL.match(item, i)
            if m and not (c == "\\" and item[i : i + 5] in ("\\left", "\\neq ")):
                if m.group() in ("\\le", "\\ge", "\\ne") and item[m.end() : m.end() + 1].isalpha():
                    i += 1
                    continue
                parts.append(item[last:i].strip())
                ops.append(m.group())
                i = last = m.end()
                continue
        i += 1
    if not ops:
        return None
    parts.append(item[last:].strip())
    return parts, ops


def literal_value(item: str) -> tuple[Fraction, int | None] | None:
    """Fast exact value of a plain number (`-033`, `2.50`, `\\frac{3}{4}`, `7/8`) and its stated decimal places."""
    m = _LITERAL.match(item.replace(" ", ""))
    if not m:
        mixed = _MIXED.match(item.replace(" ", ""))
        if not mixed or int(mixed.group(4)) == 0:
            return None
        sign = -1 if mixed.group(1) == "-" else 1
        return sign * (int(mixed.group(2)) + Fraction(int(mixed.group(3)), int(mixed.group(4)))), None
    sign = -1 if m.group(1) == "-" else 1
    if m.group(2) is not None:
        if len(m.group(2)) > MAX_DIGITS:
            return None
        places = len(m.group(3)) if m.group(3) is not None else None
        return sign * Fraction(m.group(2) + "." + (m.group(3) or "0")), places
    num, den = (m.group(4), m.group(5)) if m.group(4) is not None else (m.group(6), m.group(7))
    if int(den) == 0 or len(num) > MAX_DIGITS or len(den) > MAX_DIGITS:
        return None
    return sign * Fraction(int(num), int(den)), None


def clock_time(item: str) -> tuple[int, int, int | None, str] | None:
    """(hours, minutes, seconds, "a"/"p"/"") of a normalised time of day (`4:30`, `4:30p`, `10:05:30`), else None.
    Seconds are None when not written: "1:10" and "1:10:00" are different ratios to the full comparison."""
    m = _CLOCK.match(item.strip())
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), None if m.group(3) is None else int(m.group(3)), (m.group(4) or "").lower()


def has_decimal(item: str) -> bool:
    return bool(_DECIMAL.search(item))


def _decimal_to_frac(m: re.Match) -> str:
    whole, frac = m.group(1) or "0", m.group(2)
    return "(\\frac{" + whole + frac + "}{1" + "0" * len(frac) + "})"


def to_sympy(item: str):
    """SymPy value of one item. Raises on unparseable input and TooLarge on values unsafe to evaluate."""
    import sympy
    from latex2sympy2_extended import latex2sympy

    if re.search(r"\d{%d}" % (MAX_DIGITS + 1), item):
        raise TooLarge("integer literal too long")
    text = _DECIMAL.sub(_decimal_to_frac, item)
    # latex2sympy2_extended 1.11 reads \gamma as Euler's constant; in answers it is a variable.
    text = text.replace("\\gamma", "\\text{gammavar}")
    text = re.sub(r"(\d+)\s*!", lambda m: _checked_factorial(m), text)
    expr = latex2sympy(text)
    if isinstance(expr, sympy.Basic):
        i = sympy.Symbol("i")
        if i in expr.free_symbols:
            expr = expr.subs(i, sympy.I)
        check_size(expr)
    return expr


def _checked_factorial(m: re.Match) -> str:
    if int(m.group(1)) > 5000:
        raise TooLarge("factorial too large")
    return m.group(0)


def check_size(expr) -> None:
    """Refuse power towers and huge powers before anything evaluates them."""
    import sympy

    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and node.base.is_number and node.exp.is_number:
            base, exp = node.base, node.exp
            if isinstance(exp, sympy.Pow) and exp.exp.is_number and exp.base.is_number:
                check_size(exp)
            try:
                e = abs(complex(sympy.N(exp, 15)))
                b = abs(complex(sympy.N(base, 15)))
            except (TypeError, ValueError, OverflowError):
                raise TooLarge("exponent cannot be bounded")
            if b > 1 and e * math.log10(b) > MAX_LOG10:
                raise TooLarge("power too large")
        elif isinstance(node, sympy.factorial) and node.args[0].is_number:
            if abs(complex(node.args[0])) > 5000:
                raise TooLarge("factorial too large")


@functools.lru_cache(maxsize=4096)
def sympy_of(item: str, side: str):
    """`to_sympy`, cached, with a parse failure raised as SideError naming the side."""
    try:
        return to_sympy(item)
    except TooLarge:
        raise
    except Exception as exc:   # latex2sympy raises bare Exception on syntax errors
        raise SideError(side, f"cannot parse {item[:80]!r}: {exc}".splitlines()[0]) from None
