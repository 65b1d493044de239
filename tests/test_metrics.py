"""Metrics: unbiased pass@k, avg@n with its two standard errors, maj@k, the exactly-n guard, breakdowns.

Cases: pass@k against the closed form with binomial coefficients; Qwen2.5-Math's 800 stored labels
(research/eval_harness.md §8: avg@8 91.0, pass@8 96.0, maj@8 93.0, per-run accuracies 90,92,93,89,92,92,90,90,
run-to-run SD 1.41); the sampling SE checked against simulated reruns; lighteval#771 (fewer samples than n).
Run: pytest tests/test_metrics.py -q
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from mimo_eval.harness.metrics import (SampleCountError, SampleScore, between_problem_se, majority_correct, pass_at_k,
                               sampling_se, summarize)

QWEN = Path(__file__).parents[1] / "benchmarks" / "data" / "qwen25math_math_cot_100.jsonl"


@pytest.mark.parametrize("n,c,k", [(1, 0, 1), (1, 1, 1), (8, 3, 1), (8, 3, 4), (8, 5, 4), (32, 0, 8),
                                   (32, 31, 16), (32, 32, 32), (10, 1, 10), (64, 20, 7)])
def test_pass_at_k_matches_binomial_closed_form(n, c, k):
    expected = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_1_is_c_over_n():
    assert pass_at_k(32, 7, 1) == pytest.approx(7 / 32)


def test_pass_at_k_needs_k_at_most_n():
    with pytest.raises(ValueError, match="at least 9 samples"):
        pass_at_k(8, 3, 9)


def _qwen_problems() -> dict[str, list[SampleScore]]:
    rows = [json.loads(line) for line in QWEN.read_text().splitlines()]
    return {str(r["idx"]): [SampleScore(correct=bool(s), answer=p, outcome="correct" if s else "wrong")
                            for s, p in zip(r["score"], r["pred"])] for r in rows}


def test_qwen_stored_labels_give_published_values():
    s = summarize(_qwen_problems(), 8)
    assert s["pass@1"] == pytest.approx(91.0)
    assert s["pass@k"]["8"] == pytest.approx(96.0)
    assert s["maj@k"]["8"] == pytest.approx(93.0)
    assert s["per_run_accuracy"] == pytest.approx([90, 92, 93, 89, 92, 92, 90, 90])
    assert s["per_run_sd_observed"] == pytest.approx(1.41, abs=0.005)


def test_pass_at_1_is_never_first_sample_only():
    s = summarize(_qwen_problems(), 8)
    assert s["per_run_accuracy"][0] == pytest.approx(90.0)   # what Qwen2.5-Math's evaluate.py would report
    assert s["pass@1"] == pytest.approx(sum(s["per_run_accuracy"]) / 8)


def test_fewer_samples_than_n_is_refused():
    """lighteval#771: pass@1 halved as n doubled because only half the samples existed."""
    problems = {"a": [SampleScore(True)] * 4, "b": [SampleScore(True)] * 8}
    with pytest.raises(SampleCountError, match="a has 4"):
        summarize(problems, 8)


def test_sampling_se_by_hand():
    # counts 2/4 and 4/4: unbiased variances 2*2/(4*3)=1/3 and 0; SE = sqrt((1/3)/4)/2
    assert sampling_se([2, 4], 4) == pytest.approx(math.sqrt((1 / 3) / 4) / 2)


def test_between_problem_se_is_sample_std_over_sqrt_n():
    rates = [0.0, 0.5, 1.0, 1.0]
    mean = sum(rates) / 4
    expected = math.sqrt(sum((r - mean) ** 2 for r in rates) / 3) / 2
    assert between_problem_se(rates) == pytest.approx(expected)


def test_sampling_se_predicts_spread_of_reruns():
    """Simulate 400 reruns of a 30-problem benchmark at n=8 with fixed per-problem skill: the SD of avg@8 across
    reruns must match the mean estimated sampling SE (within 15%); the between-problem SE must not shrink with n."""
    rng = random.Random(7)
    skill = [rng.choice([0.0, 0.05, 0.3, 0.5, 0.7, 0.95, 1.0]) for _ in range(30)]
    avgs, ses = [], []
    for _ in range(400):
        problems = {str(i): [SampleScore(rng.random() < p) for _ in range(8)] for i, p in enumerate(skill)}
        s = summarize(problems, 8)
        avgs.append(s["pass@1"])
        ses.append(s["sampling_se"])
    mean = sum(avgs) / len(avgs)
    observed = math.sqrt(sum((a - mean) ** 2 for a in avgs) / (len(avgs) - 1))
    assert observed == pytest.approx(sum(ses) / len(ses), rel=0.15)
    assert s["between_problem_se"] > 3 * s["sampling_se"]


@pytest.mark.parametrize("answers,correct,expected", [
    (["1", "2", "2"], [True, False, False], False),       # majority wrong
    (["2", "1", "1"], [False, True, True], True),         # majority right
    (["1", "2"], [True, False], True),                    # tie: first seen wins
    (["2", "1"], [False, True], False),
    ([None, None, "5"], [False, False, True], True),      # no-answer samples do not vote
    ([None, None], [False, False], False),
])
def test_majority_vote(answers, correct, expected):
    assert majority_correct([SampleScore(c, a) for a, c in zip(answers, correct)]) is expected


def test_outcomes_are_counted_separately_from_wrong():
    problems = {"a": [SampleScore(False, outcome="timeout"), SampleScore(False, outcome="no_answer")],
                "b": [SampleScore(True, "1", "correct", truncated=False), SampleScore(False, outcome="error",
                                                                                       truncated=True)]}
    out = summarize(problems, 2)["outcomes"]
    assert out == {"correct": 1, "error": 1, "no_answer": 1, "timeout": 1, "total": 4, "truncated": 1}


def test_breakdown_by_metadata():
    problems = {"a": [SampleScore(True)], "b": [SampleScore(False)], "c": [SampleScore(True)]}
    meta = {"a": {"level": 1}, "b": {"level": 5}, "c": {"level": 5}}
    b = summarize(problems, 1, meta, ("level",))["breakdown"]["level"]
    assert b["1"]["pass@1"] == 100 and b["5"]["pass@1"] == 50 and b["5"]["num_problems"] == 2


def test_code_runs_have_no_majority_vote():
    assert summarize({"a": [SampleScore(True)] * 4}, 4, majority=False)["maj@k"] == {}
