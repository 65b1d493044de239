"""LiveCodeBench's output comparison, host side, plus the code extraction rule. Pure functions, no I/O.

stdin tests (LCB `grade_stdio`): both texts are stripped, split on "\\n", each line stripped; the line
counts must be equal; a line matches if the strings are equal, else if both split into whitespace tokens
that all convert to `decimal.Decimal` and the two lists are equal (so 1.0 == 1, 0.50 == 0.5, but
0.333333 != 0.3333333333). Case-sensitive. Functional tests (`grade_call_based`): a top-level tuple
becomes a list, then `==` against `json.loads(expected)`. Neither has a float tolerance; a tolerance
exists here only as the named option `CodeOptions.float_tolerance`.
"""
from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation

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


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def _numbers_close(a: list[Decimal], b: list[Decimal], tol: float) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.is_nan() or y.is_nan():
            return False
        if abs(x - y) > Decimal(repr(tol)) * max(Decimal(1), abs(y)):
            return False
    return True


def compare_stdout(*, expected: str, actual: str, float_tolerance: float | None = None) -> tuple[bool, str]:
    """(match, why not). With float_tolerance, numeric tokens may differ by tol * max(1, |expected|)."""
    want, got = stripped_lines(expected), stripped_lines(actual)
    if len(want) != len(got):
        return False, f"mismatched output length: {len(got)} lines, expected {len(want)}"
    for index, (w, g) in enumerate(zip(want, got)):
        if w == g:
            continue
        got_nums, want_nums = _decimals(g), _decimals(w)
        if got_nums is not None and want_nums is not None:
            try:
                if got_nums == want_nums:
                    continue
                if float_tolerance is not None and _numbers_close(got_nums, want_nums, float_tolerance):
                    continue
            except InvalidOperation:  # sNaN: the judge's comparison raises too, which fails the test
                pass
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


def _close(a, b, tol: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
        return False
    if isinstance(a, (list, tuple)) and type(a) is type(b):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    return a == b


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
    except (ValueError, TypeError, RecursionError) as exc:
        return False, f"undecodable return value: {exc!r}"[:DETAIL_CHARS]
    if same:
        return True, ""
    return False, f"returned {str(actual)[:DETAIL_CHARS]}, expected {str(expected)[:DETAIL_CHARS]}"
