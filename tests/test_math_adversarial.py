"""Adversarial review of the reasoning-output rules (issue 10): text a response can write to get credit
without being right, or to stall the caller's process. One adversarial property per test; each table
row is a response written to exploit one rule of `graders.math.extract` / `graders.math.statement`.

    python -m pytest tests/test_math_adversarial.py -q
"""
from __future__ import annotations

import time

import pytest

from graders.math import grade

SLOW_OK = 20.0   # correctness, not speed: a loaded machine must not turn these into timeouts

# About 1 MB each. Math openers that never close, then a last line with no number: the fallback looks
# back over the whole response, and a regex that retried every opener to the end of the text was
# quadratic (hours on 1 MB). Alternating boxes are one list of 110,000 items, built by front inserts.
HOSTILE = [
    "\\[ " * 333_000 + "\ndone.",
    "\\( " * 333_000 + "\ndone.",
    "\\[ " * 333_000 + "\ndone.</think>So",      # the same, read as the thinking's conclusion
    "\\boxed{1}\\boxed{3}" * 55_000,
]


@pytest.mark.parametrize("response", HOSTILE, ids=["display", "inline", "thinking", "box_list"])
def test_hostile_responses_are_linear_in_the_callers_process(response):
    grade(gold="x+1", response="\\boxed{1+x}")   # start and warm the pool (a literal pair never does)
    cpu = time.process_time()
    v = grade(gold="2", response=response, timeout_s=1.0)
    # the caller's own linear pass over 1 MB, as CPU time (the worker is killed at its 1 s deadline)
    assert time.process_time() - cpu < 1.0 and not v.correct


# (gold, response): a number word that opens a larger number or a fraction is not that number
# ("three boxes contain neither" reads 3, tests/test_math_reasoning.py; these must not)
NUMBER_WORD_PREFIXES = [
    ("1", "The answer is one half."),
    ("1", "The answer is one third of the total."),
    ("2", "The answer is two-thirds."),
    ("3", "The answer is three thousand."),
    ("3", "The answer is three point five."),
    ("3", "The answer is three and a half."),
    ("2", "The answer is two plus three."),
    ("21", "The answer is twenty one hundred."),
    ("20", "The answer is twenty one hundred."),
    ("9", "The answer is nine out of ten."),
    ("3", "The answer is three to one."),
    ("3", "The answer is three by four."),
]


@pytest.mark.parametrize("gold,response", NUMBER_WORD_PREFIXES)
def test_number_word_that_opens_a_larger_number_is_not_credited(gold, response):
    assert not grade(gold=gold, response=response, timeout_s=SLOW_OK).correct


# (gold, response): an anchor that denies a value states no answer; neither the value it denies nor an
# earlier guess it would look back to is credited
DENIALS = [
    ("5", "The answer is not $5$."),
    ("5", "The answer is certainly not $5$."),
    ("5", "The final answer is definitely not 5, it is unclear."),
    ("5", "The answer isn't 5."),
    ("5", "Maybe 5. The answer is not 5."),
    ("5", "Maybe $5$. So the answer is not $5$. That's the final answer."),
    # the write-up after the thinking denies what the thinking boxed: not read as a cut-off write-up
    ("5", "<think>so \\boxed{5}.</think>\n\nThe answer is not 5"),
]


@pytest.mark.parametrize("gold,response", DENIALS)
def test_an_anchor_that_denies_a_value_is_not_credited_with_it(gold, response):
    v = grade(gold=gold, response=response, timeout_s=SLOW_OK)
    assert not v.correct and v.rule == "anchor_negated", v


# (gold, response): a hedge between math spans of the stated answer is a list of candidates, never
# credit for the first one (box lists already keep "\boxed{2} or maybe \boxed{3}" a list)
INLINE_HEDGES = [
    ("5", "The answer is $5$ or possibly $6$."),
    ("5", "The answer is $5$ (or $6$)."),
    ("5", "The answer is either $5$, or perhaps $6$."),
    ("5", "The final answer is \\(5\\) or maybe \\(6\\)."),
    ("5", "## Answer\n\n$5$ or possibly $6$"),
    ("5", "Answer $5$ maybe $6$"),
    ("5", "It could be $5$ or possibly $6$. I think that's the final answer."),
]


@pytest.mark.parametrize("gold,response", INLINE_HEDGES)
def test_a_hedged_stated_answer_is_not_credited_with_its_first_candidate(gold, response):
    assert not grade(gold=gold, response=response, timeout_s=SLOW_OK).correct


# (gold, boxed answer): with seconds on one side only, "1:10" may be a ratio and "1:10:00" is then another
# one; the in-process time-of-day path must decide as the full comparison does (wrong), not as equal times
SECONDS_ON_ONE_SIDE = [("1:10", "1:10:00"), ("4:30", "4:30:00"), ("12:30:00", "12:30")]


@pytest.mark.parametrize("gold,answer", SECONDS_ON_ONE_SIDE)
def test_time_with_seconds_on_one_side_is_decided_as_the_full_comparison(gold, answer):
    from graders.math import compare_job
    from graders.math.compare import CompareOptions
    from graders.math.normalize import normalize

    fast = grade(gold=gold, response=f"So it is $\\boxed{{{answer}}}$.", mode="reward", timeout_s=SLOW_OK)
    (g, gp), (r, rp) = normalize(gold), normalize(answer)
    assert fast.correct == (compare_job(g, r, CompareOptions(None, True, False), (gp, rp))[0] == "correct"), fast


# (gold, response): a next statement that opens with a hedge lists its value with the stated answer
HEDGING_NEXT_STATEMENTS = [
    ("5", "## Answer\n\n5\n\nor 6"),
    ("5", "The answer is 5\n\nbut maybe 6"),
    ("5", "The answer is: 5.\nAlternatively 6."),
    ("5", "The final answer is $5$. Or maybe it is $6$."),
    ("5", "The answer is $5$/$6$."),
]


@pytest.mark.parametrize("gold,response", HEDGING_NEXT_STATEMENTS)
def test_a_stated_answer_hedged_by_the_next_statement_is_not_credited(gold, response):
    assert not grade(gold=gold, response=response, timeout_s=SLOW_OK).correct


# (gold, response): ... while a next statement about the answer, not another candidate, leaves it credited
NOT_HEDGES = [
    ("5", "The answer is $5$. Maybe $x$ is even, though."),
    ("5", "The answer is $5$. Otherwise $6$ would be negative."),
    ("5", "The answer is 5.\nOr, in other words, 5 apples."),
]


@pytest.mark.parametrize("gold,response", NOT_HEDGES)
def test_a_remark_after_the_stated_answer_is_not_a_hedge(gold, response):
    assert grade(gold=gold, response=response, timeout_s=SLOW_OK).correct
