"""The code reward through the pool (graders/rewards/code_reward.py): binary / strict / soft, tiers from the
call, the reference or a calibration file, the dataset layouts, and what is masked and what is a 0.

    python -m pytest -q tests/test_rewards_code.py        # Docker tests skip without an engine (fail in CI)

Adversarial: a program that never ends earns its own 0 within its budget (never masked: masking would let a
program escape its 0); a broken sandbox is masked, never 0 or 1; one endless program in a batch of 256
delays the batch by at most its budget + 1 s.
"""
from __future__ import annotations

import json

import pytest

from conftest import docker_sandbox_or_skip
from graders.difficulty import calibrate, save_tiers
from graders.rewards.pool import RewardPool
from graders.types import CodeReference, CodeTest
from sandboxes import LocalSandbox

# a + b on stdin; tiers (easy, medium, hard) as a calibration would give them.
REF = CodeReference(tests=(CodeTest("1 2\n", "3\n"), CodeTest("0 0\n", "0\n"), CodeTest("-5 5\n", "0\n")))
TIERS = [0, 1, 2]
ADD = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
ADD_BUT_ZERO = "```python\na, b = map(int, input().split())\nprint(a + b if a else 7)\n```"    # fails test 1
ADD_NO_NEG = "```python\na, b = map(int, input().split())\nprint(a + b if a >= 0 else 1)\n```"  # fails test 2
LOOP = "```python\nwhile True:\n    pass\n```"


@pytest.fixture(scope="module")
def pool():
    sandbox = docker_sandbox_or_skip(2)
    with RewardPool(2, sandbox=sandbox) as p:
        yield p
    sandbox.close()


# (response, options, score): MiMo's schemes (graders/difficulty.py docstring) on one reference.
SCHEMES = [
    (ADD, {"reward": "binary"}, 1.0),
    (ADD_BUT_ZERO, {"reward": "binary"}, 0.0),
    (ADD, {"reward": "strict", "tiers": TIERS}, 1.0),
    (ADD_BUT_ZERO, {"reward": "strict", "tiers": TIERS}, 1 / 3),   # medium fails: hard does not count
    (ADD_BUT_ZERO, {"reward": "soft", "tiers": TIERS}, 2 / 3),
    (ADD_NO_NEG, {"reward": "strict", "tiers": TIERS}, 2 / 3),
    ("no code here", {"reward": "soft", "tiers": TIERS}, 0.0),
]


@pytest.mark.docker
@pytest.mark.parametrize("response,options,score", SCHEMES)
def test_schemes(pool, response, options, score):
    result = pool.submit("code", response, REF, options).result()
    assert result.score == pytest.approx(score) and not result.masked


@pytest.mark.docker
def test_tiers_from_a_calibration_file_and_from_the_reference(pool, tmp_path):
    tiers = calibrate("add", [[True, True, False], [True, False, False], [True, True, True]])
    save_tiers(tiers, tmp_path)
    options = {"reward": "soft", "tiers_dir": tmp_path, "problem_id": "add"}
    assert pool.submit("code", ADD_NO_NEG, REF, options).result().score == pytest.approx(2 / 3)
    layout = {"inputs": [t.input for t in REF.tests], "outputs": [t.output for t in REF.tests], "tiers": TIERS}
    assert pool.submit("code", ADD_BUT_ZERO, json.dumps(layout), {"reward": "strict"}).result().score == pytest.approx(1 / 3)


@pytest.mark.docker
def test_strict_without_tiers_is_a_clear_error(pool):
    with pytest.raises(ValueError, match="need test tiers.*calibrate-tests"):
        pool.submit("code", ADD, REF, {"reward": "strict"}).result()


@pytest.mark.docker
@pytest.mark.parametrize("reference", [
    '{"inputs": ["1"], "outputs": []}',                    # lengths differ
    {"inputs": [[1, 2]], "outputs": [[3]]},                 # lists, not stdin text
    "not json", {"tests": []}, 42,
])
def test_unusable_reference_is_masked(pool, reference):
    result = pool.submit("code", ADD, reference).result()
    assert (result.score, result.reason) == (None, "bad_tests")


@pytest.mark.docker
def test_endless_program_earns_its_own_zero_within_its_budget(pool):
    result = pool.submit("code", LOOP, REF, {"budget_s": 2, "reward": "soft", "tiers": TIERS}).result()
    # the budget's path: the program killed as TLE, its own 0 (wall time under load is the benchmarks' business)
    assert result.score == 0.0 and not result.masked and "TLE" in result.extra["verdicts"]


@pytest.mark.parametrize("python", ["/nonexistent/python3", "/bin/false"])
def test_broken_sandbox_is_masked_never_scored(python):
    # A real LocalSandbox whose interpreter is missing or exits 1: the sandbox failed, not the program.
    with RewardPool(1, sandbox=LocalSandbox(1, python=python)) as p:
        results = p.score_many([("code", ADD, REF, None), ("code", "no code", REF, None)])
        stats = p.stats()
    assert results[0].score is None and results[0].reason == "infra_error"
    assert results[1].score == 0.0 and results[1].reason == "no_code"      # no program ran: a real 0
    assert stats["errors"] == 1 and stats["masked"] == 1


def test_local_sandbox_only_when_asked_and_with_a_warning():
    with pytest.warns(UserWarning, match="WITHOUT isolation"):
        with RewardPool(1, sandbox="local") as p:
            assert p.submit("code", ADD, REF).result().score == 1.0


def test_docker_host_is_honoured(monkeypatch):
    from sandboxes.docker import DockerUnavailable

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with RewardPool(1) as p:
        with pytest.raises(DockerUnavailable, match="nonexistent/docker.sock"):
            p.submit("code", ADD, REF).result()


@pytest.mark.docker
def test_one_endless_program_in_a_batch_of_256(pool):
    budget, n = 2.0, 256
    one_test = CodeReference(tests=(CodeTest("1 2\n", "3\n"),))
    calls = [("code", ADD, one_test, {"budget_s": budget})] * n
    pool.score_many(calls[:4])   # warm both containers
    calls[n // 2] = ("code", LOOP, one_test, {"budget_s": budget})
    results = pool.score_many(calls)
    endless = results[n // 2]
    # the budget's path (killed: TLE, its own 0), not the wall time of a loaded machine
    assert endless.score == 0.0 and not endless.masked and "TLE" in endless.extra["verdicts"]
    assert [r.score for i, r in enumerate(results) if i != n // 2] == [1.0] * (n - 1)


def test_the_pools_math_deadline_does_not_cut_code():
    # timeout_s is sized for math; a program's time is its budget_s, or every program would fail at 0.05 s.
    with RewardPool(1, timeout_s=0.05, sandbox=LocalSandbox(1)) as p:
        assert p.submit("code", ADD, REF).result().score == 1.0
