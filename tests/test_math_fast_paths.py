"""The answers the math grader decides in the caller's process, without SymPy (issue 10 item 6: a mixed
number or a time of day cost a fresh worker 10-600 ms): each fast path must decide exactly as the full
parse-and-compare path would.

    python -m pytest tests/test_math_fast_paths.py -q
"""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.math import compare_job, grade
from graders.math.compare import CompareOptions
from graders.math.normalize import normalize
from graders.math.parse import literal_value, to_sympy


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["", "-"]), st.integers(0, 10**6), st.integers(1, 999), st.integers(1, 999), st.sampled_from(["", " "]))
def test_mixed_number_read_as_latex2sympy_reads_it(sign, whole, num, den, space):
    import sympy

    text = f"{sign}{whole}{space}\\frac{{{num}}}{{{den}}}"
    value, places = literal_value(text)
    assert places is None and sympy.Rational(value.numerator, value.denominator) == to_sympy(text), text


@pytest.mark.parametrize("text", ["2\\frac{1}{0}", "2\\frac{x}{3}", "2.5\\frac{1}{2}", "\\frac{1}{2}\\frac{1}{3}"])
def test_not_a_mixed_number_is_left_to_sympy(text):
    assert literal_value(text) is None


# (gold, boxed answer): times of day as Qwen2.5-Math and Sky-T1 write them; the reference of the
# first is MATH's own mangled `4:30p..`
CLOCKS = [
    ("4:30p..", "4:30 \\text{ p.m.}"), ("4:30", "4:30"), ("04:30", "4:30"), ("4:30 p.m.", "4:30p"),
    ("4:30a", "4:30p"), ("10:05:30", "10:05:30"), ("12:00", "1:00"), ("3:16", "6:32"), ("9:45", "9:45 a.m."),
]


@pytest.mark.parametrize("gold,answer", CLOCKS)
def test_clock_times_decided_as_the_full_comparison_decides(gold, answer):
    fast = grade(gold=gold, response=f"So it is $\\boxed{{{answer}}}$.", timeout_s=20.0)
    (g, gp), (r, rp) = normalize(gold), normalize(answer)
    full = compare_job(g, r, CompareOptions(None, True, False), (gp, rp))[0] == "correct"
    assert fast.correct == full, (fast, full)


def test_fraction_value_is_exact():
    assert literal_value("-3\\frac{2}{7}")[0] == -Fraction(23, 7)
