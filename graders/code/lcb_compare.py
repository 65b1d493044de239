"""LiveCodeBench's output comparison, host side, plus the code extraction rule. Pure functions, no I/O.

stdin tests (LCB `grade_stdio`): both texts are stripped, split on "\\n", each line stripped; the line
counts must be equal; a line matches if the strings are equal, else if both split into whitespace tokens
that all convert to `decimal.Decimal` and the two lists are equal (so 1.0 == 1, 0.50 == 0.5, but
0.333333 != 0.3333333333). Case-sensitive. Functional tests (`grade_call_based`): a top-level tuple
becomes a list, then `==` against `json.loads(expected)`. Neither has a float tolerance; a tolerance
exists here only as the named option `CodeOptions.float_tolerance`, and only for expected values written
as floats (never an integer: a float or a near miss is not an int).
"""
from __future__ import annotations

import json
import reprlib
from decimal import Decimal

DETAIL_CHARS = 200


def extract_code(response: str) -> str:
    """LCB's `extract_code`: the text between the last two lines that *contain* "```"; "" if fewer than two.
    Nothing is stripped first (a fence inside <think> counts), and the language tag line is dropped."""
    lines = response.split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return ""
    return "\n".join(lines[fences[-2] + 1:fences[-1]])


def stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _is_integer(token: str) -> bool:
    """An integer as the expected output writes it: the float tolerance never applies to it."""
    return token.lstrip("+-").isdigit()


def _tokens_match(got: str, want: str, tol: float | None) -> bool:
    """LCB's rule for two lines that differ: both are whitespace-separated Decimals, equal as lists. Token
    counts first (a program's line may hold millions), then one pair at a time, so the host never builds more
    Decimals than the expected line has tokens. With `tol`, a token whose expected form is not an integer
    may differ by tol * max(1, |expected|)."""
    want_tokens = want.split()
    got_tokens = got.split(maxsplit=len(want_tokens))
    if len(got_tokens) != len(want_tokens):
        return False
    close = Decimal(repr(tol)) if tol is not None else None
    try:
        for g, w in zip(got_tokens, want_tokens):
            x, y = Decimal(g), Decimal(w)
            if x == y:
                continue
            if close is None or _is_integer(w) or x.is_nan() or y.is_nan() or abs(x - y) > close * max(1, abs(y)):
                return False
    except (ArithmeticError, ValueError):  # not a number, sNaN (the judge raises too), an exponent overflow
        return False
    return True


def compare_stdout(*, expected: str, actual: str, float_tolerance: float | None = None) -> tuple[bool, str]:
    """(match, why not). Lines are counted before the program's output is split: its cost is bounded by
    the expected output's line and token counts, whatever it printed."""
    want, got = expected.strip(), actual.strip()
    want_lines, got_lines = want.count("\n") + 1, got.count("\n") + 1
    if want_lines != got_lines:
        return False, f"mismatched output length: {got_lines} lines, expected {want_lines}"
    for index, (w, g) in enumerate(zip(stripped_lines(want), stripped_lines(got))):
        if w != g and not _tokens_match(g, w, float_tolerance):
            return False, f"line {index}: {g[:DETAIL_CHARS]!r} != {w[:DETAIL_CHARS]!r}"
    return True, ""


class Opaque:
    """A returned object the encoding could not carry; equal to nothing, as no JSON value could equal it."""

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"<opaque {self.text}>"


def decode_value(node):
    """Inverse of `lcb_harness.encode_value`."""
    if not isinstance(node, dict):
        return node
    (tag, body), = node.items()
    if tag == "L":
        return [decode_value(v) for v in body]
    if tag == "T":
        return tuple(decode_value(v) for v in body)
    if tag == "D":
        return {decode_value(k): decode_value(v) for k, v in body}
    if tag == "S":
        return {decode_value(v) for v in body}
    if tag == "F":
        return frozenset(decode_value(v) for v in body)
    return Opaque(str(body))


def _close(actual, expected, tol: float) -> bool:
    """`==`, except that where the expected value is a float, a number within tol * max(1, |expected|)
    matches (an expected int or bool still needs an equal value: 3000000000001 is not 3000000000000)."""
    if isinstance(expected, float):
        if actual == expected:
            return True
        number = isinstance(actual, (int, float)) and not isinstance(actual, bool)
        return number and abs(actual - expected) <= tol * max(1.0, abs(expected))
    if isinstance(actual, (list, tuple)) and type(actual) is type(expected):
        return len(actual) == len(expected) and all(_close(x, y, tol) for x, y in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(_close(actual[k], expected[k], tol) for k in actual)
    return actual == expected


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxlong = _SHORT.maxother = DETAIL_CHARS


def _short(value) -> str:
    """A bounded repr: never the whole of a large value."""
    return _SHORT.repr(value)[:DETAIL_CHARS]


def compare_return(*, expected_json: str, actual_encoded, float_tolerance: float | None = None
                   ) -> tuple[bool, str]:
    expected = json.loads(expected_json)
    try:
        actual = decode_value(actual_encoded)
        if isinstance(actual, tuple):  # LCB: "don't penalize model if it produces tuples instead of lists"
            actual = list(actual)
        same = actual == expected
        if not same and float_tolerance is not None:
            same = _close(actual, expected, float_tolerance)
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        return False, f"undecodable return value: {exc!r}"[:DETAIL_CHARS]
    if same:
        return True, ""
    return False, f"returned {_short(actual)}, expected {_short(expected)}"
