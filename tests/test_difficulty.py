"""graders/difficulty.py: MiMo's test-difficulty reward. Calibration (pass rates, deterministic 1-D k-means
tiers, JSON next to the dataset, reading recorded runs) and the binary/strict/soft rewards, with hypothesis
properties: 1.0 iff all tests pass, monotone in passed tests, strict <= soft.

Run: pytest -q tests/test_difficulty.py
"""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.difficulty import (calibrate, cluster_tiers, load_tiers, pass_matrices_from_runs, pass_rates,
                                reward, reward_from_verdict, save_tiers)
from graders.types import CodeVerdict, TestOutcome


def test_pass_rates_ignore_unrun_tests():
    rates, runs = pass_rates([[True, False, None], [True, True, True]])
    assert rates == [1.0, 0.5, 1.0] and runs == [2, 2, 1]


def test_never_run_test_is_an_error_naming_the_fix():
    with pytest.raises(ValueError, match="all_tests"):
        pass_rates([[True, None]])


@pytest.mark.parametrize("rates,k,tiers", [
    ([0.9, 0.85, 0.5, 0.45, 0.1, 0.05], 3, [0, 0, 1, 1, 2, 2]),
    ([0.2, 0.9, 0.5], 3, [2, 0, 1]),
    ([0.7, 0.7, 0.7], 3, [0, 0, 0]),                 # one distinct rate: one tier
    ([1.0, 0.0], 3, [0, 1]),
    ([0.9, 0.8, 0.1], 2, [0, 0, 1]),
    # Fig. 5 (left) of the MiMo report, Model-3: 14.5 % of 83 tests at one rate, 85.5 % at another
    ([0.05] * 12 + [0.8] * 71, 3, [1] * 12 + [0] * 71),
])
def test_cluster_tiers(rates, k, tiers):
    assert cluster_tiers(rates, k) == tiers


def test_clustering_is_deterministic_and_order_independent():
    rates = [0.3, 0.1, 0.6, 0.35, 0.9, 0.62, 0.05]
    tiers = cluster_tiers(rates)
    assert tiers == cluster_tiers(rates)
    assert [tiers[i] for i in reversed(range(7))] == cluster_tiers(rates[::-1])


@pytest.mark.parametrize("verdicts,scheme,expected", [
    (["AC", "AC", "AC"], "strict", 1.0),
    (["AC", "AC", "WA"], "strict", 2 / 3),      # easy and medium fully passed
    (["WA", "AC", "AC"], "strict", 0.0),        # easy tier failed: nothing counts
    (["WA", "AC", "AC"], "soft", 2 / 3),
    (["AC", "WA", "SKIP"], "soft", 1 / 3),
    (["AC", "AC", "TLE"], "binary", 0.0),
])
def test_rewards_one_test_per_tier(verdicts, scheme, expected):
    assert reward(verdicts=verdicts, tiers=[0, 1, 2], scheme=scheme) == pytest.approx(expected)


def test_soft_splits_a_tier_over_its_tests():
    assert reward(verdicts=["AC", "WA", "AC", "AC"], tiers=[0, 0, 1, 2], scheme="soft") == pytest.approx(5 / 6)


def test_custom_weights():
    assert reward(verdicts=["AC", "WA"], tiers=[0, 1], scheme="soft", weights=[1, 3]) == pytest.approx(0.25)


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="recalibrate"):
        reward(verdicts=["AC"], tiers=[0, 1])


def test_masked_verdict_stays_masked():
    tiers = calibrate("p", [[True, False]])
    infra = CodeVerdict(passed=False, reason="infra_error", infra_error="driver died")
    assert reward_from_verdict(infra, tiers) is None
    ok = CodeVerdict(passed=True, reason="passed", per_test=(TestOutcome("AC"), TestOutcome("AC")))
    assert reward_from_verdict(ok, tiers, "soft") == 1.0


problems = st.integers(1, 12).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 2), min_size=n, max_size=n), st.lists(st.booleans(), min_size=n, max_size=n)))


@settings(max_examples=300, deadline=None)
@given(problems)
def test_reward_properties(problem):
    tiers, passed = problem
    verdicts = ["AC" if p else "WA" for p in passed]
    strict, soft = (reward(verdicts=verdicts, tiers=tiers, scheme=s) for s in ("strict", "soft"))
    assert (strict == 1.0) == all(passed) == (soft == 1.0)
    assert 0.0 <= strict <= soft <= 1.0
    for i, p in enumerate(passed):  # monotone: passing one more test never lowers a reward
        if not p:
            better = verdicts[:i] + ["AC"] + verdicts[i + 1:]
            assert reward(verdicts=better, tiers=tiers, scheme="strict") >= strict
            assert reward(verdicts=better, tiers=tiers, scheme="soft") >= soft


def test_tiers_roundtrip_next_to_dataset(tmp_path):
    tiers = calibrate("lcb/abc 301/a", [[True, True, False], [True, False, False]])
    path = save_tiers(tiers, tmp_path, sources=["runs/x"])
    assert path.parent == tmp_path and path.name == "lcb_abc_301_a.json"
    assert load_tiers(tmp_path, "lcb/abc 301/a") == tiers
    with pytest.raises(FileNotFoundError, match="calibrate-tests"):
        load_tiers(tmp_path, "missing")


def test_pass_matrices_from_recorded_runs(tmp_path):
    rows = [{"problem_id": "p", "sample_index": 0, "per_test": ["AC", "WA", "SKIP"]},
            {"problem_id": "p", "sample_index": 1, "per_test": ["AC", "AC", "AC"]},
            {"problem_id": "m", "sample_index": 0, "correct": True},               # math row: ignored
            {"problem_id": "q", "per_test": [], "infra_error": "sandbox down"}]   # masked: ignored
    (tmp_path / "scores.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert pass_matrices_from_runs([tmp_path]) == {"p": [[True, False, None], [True, True, True]]}


def test_calibrate_tests_command(tmp_path):
    from mimo_eval.cli import main

    runs = []
    for model, passes in (("a", [True, True, False]), ("b", [True, False, False])):
        run = tmp_path / model
        run.mkdir()
        row = {"problem_id": "lcb/x", "sample_index": 0, "per_test": ["AC" if p else "WA" for p in passes]}
        (run / "scores.jsonl").write_text(json.dumps(row) + "\n")
        runs.append(str(run))
    assert main(["calibrate-tests", *runs, "--out", str(tmp_path / "tiers")]) == 0
    tiers = load_tiers(tmp_path / "tiers", "lcb/x")
    assert tiers.pass_rates == (1.0, 0.5, 0.0) and tiers.tiers == (0, 1, 2)


# The partial credit guard: a reward below 1 needs passed hidden tests with two different expected outputs.
GUARD_OUTPUTS = ["3\n", "12\n", "0\n", "0\n", "7\n", "9 \n"]   # tests 0-1 public (shown in the prompt)
GUARD_TIERS = [0, 0, 0, 1, 1, 2]


@pytest.mark.parametrize("scheme", ["strict", "soft"])
@pytest.mark.parametrize("verdicts,paid", [
    (["AC", "WA", "AC", "AC", "WA", "WA"], False),   # prints 0 (or 3) whatever the input: a constant
    (["AC", "AC", "AC", "AC", "WA", "WA"], False),   # hard-codes both public tests, prints 0 otherwise
    (["AC", "AC", "WA", "WA", "WA", "WA"], False),   # the public tests alone
    (["AC", "AC", "AC", "AC", "AC", "WA"], True),    # hidden passes expect 0 and 7: not one printout
    (["WA", "WA", "AC", "WA", "AC", "WA"], True),
])
def test_partial_credit_needs_two_distinct_hidden_outputs(scheme, verdicts, paid):
    guarded = reward(verdicts=verdicts, tiers=GUARD_TIERS, scheme=scheme, outputs=GUARD_OUTPUTS, public=2)
    plain = reward(verdicts=verdicts, tiers=GUARD_TIERS, scheme=scheme)
    assert guarded == (plain if paid else 0.0)


def test_guard_reads_outputs_as_the_judge_compares_them():
    # "9 \n" and "9" are one printout for LCB's stripped-line comparison: two tests, one distinct output
    verdicts = ["WA", "WA", "WA", "WA", "AC", "AC"]
    assert reward(verdicts=verdicts, tiers=[0, 0, 0, 1, 1, 1], scheme="soft",
                  outputs=["a", "b", "c", "d", "9", "9 \n"]) == 0.0
    assert reward(verdicts=["AC"] * 6, tiers=GUARD_TIERS, scheme="soft", outputs=["0"] * 6) == 1.0  # a full pass


@settings(max_examples=300, deadline=None)
@given(problems.flatmap(lambda pr: st.tuples(st.just(pr), st.lists(st.sampled_from(["0", "1", "2"]),
                                                                     min_size=len(pr[0]), max_size=len(pr[0])),
                                             st.integers(0, len(pr[0])))))
def test_guarded_reward_keeps_the_properties(case):
    (tiers, passed), outputs, public = case
    verdicts = ["AC" if p else "WA" for p in passed]
    score = lambda v, s: reward(verdicts=v, tiers=tiers, scheme=s, outputs=outputs, public=public)  # noqa: E731
    strict, soft = score(verdicts, "strict"), score(verdicts, "soft")
    assert (strict == 1.0) == all(passed) == (soft == 1.0)
    assert 0.0 <= strict <= soft <= 1.0
    for i, p in enumerate(passed):
        if not p:
            better = verdicts[:i] + ["AC"] + verdicts[i + 1:]
            assert score(better, "strict") >= strict and score(better, "soft") >= soft
