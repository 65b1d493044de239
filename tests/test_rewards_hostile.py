"""The second red-team round (issue 20) through the RL reward entry point: groups of samples of one problem,
hostile programs among honest ones, scored by a real `RewardPool` on two Docker workers (binary, strict and
soft schemes). One test per class of tests/test_code_grader_isolation.py, which has the same attacks
through `graders.code.judge`; the programs are in tests/hostile_programs.py.

Needs a Docker engine and the runner image (tools/setup_system.sh); in CI (CI=true or MIMO_REQUIRE_DOCKER=1)
a missing engine fails instead of skipping.
Run: python -m pytest -q tests/test_rewards_hostile.py
"""
import tracemalloc
import uuid

import hostile_programs as hp
import pytest
from conftest import docker_sandbox_or_skip

from graders.rewards.pool import RewardPool
from graders.types import CodeReference, CodeTest

pytestmark = pytest.mark.docker
fenced = hp.fenced


@pytest.fixture(scope="module")
def pool():
    sandbox = docker_sandbox_or_skip(2)
    with RewardPool(2, sandbox=sandbox) as p:
        yield p
    sandbox.close()


def scores(pool, group, reference, options=None):
    """Scores of a group, in order; none may be masked (a hostile sample earns its own 0, never a mask)."""
    results = pool.score_many([("code", response, reference, options) for response in group])
    assert all(r.score is not None for r in results), [(r.reason, r.extra.get("detail")) for r in results]
    return [r.score for r in results], results


def soft(n_tests: int, **extra) -> dict:
    return {"reward": "soft", "tiers": [0] * n_tests, **extra}


# ---- 1. reading what a neighbour printed, or one's own inputs ahead ----

@pytest.mark.parametrize("functional", [False, True], ids=["stdin", "functional"])
def test_memory_readers_in_a_group_score_zero(pool, functional):
    secret = "PREVSECRET-" + uuid.uuid4().hex
    if functional:
        reference = CodeReference(tests=(CodeTest('"q"', f'"{secret}"'),), fn_name="answer")
        honest = f"class Solution:\n    def answer(self, x):\n        return {secret!r}"
        reader = hp.READ_EARLIER_RETURN
    else:
        reference, honest, reader = CodeReference(tests=(CodeTest("q\n", secret + "\n"),)), f"print({secret!r})", \
            hp.READ_EARLIER_OUTPUT
    got, _ = scores(pool, [fenced(honest), fenced(reader)] * 4, reference)
    assert got == [1.0, 0.0] * 4, got


def test_a_group_member_cannot_precompute_from_its_later_inputs(pool):
    reference = CodeReference(tests=tuple(CodeTest(f"INPUTSECRET-{uuid.uuid4().hex}\n", "0\n") for _ in range(3)))
    got, _ = scores(pool, [fenced(hp.READ_LATER_INPUTS)] * 4, reference, soft(3))
    assert got == [1.0] * 4, got  # each found none of its other inputs in memory


def test_a_big_output_neighbour_costs_the_next_sample_no_memory(pool):
    reference = CodeReference(tests=tuple(CodeTest(f"{i}\n", f"{i}\n") for i in range(4)))
    got, _ = scores(pool, [fenced(hp.BIG_OUTPUT), fenced(hp.ALLOC_190_MIB)] * 3, reference, {"memory_mb": 256})
    assert got == [0.0, 1.0] * 3, got


# ---- 2. a 0 never becomes a mask ----

def test_budget_starved_relaunches_and_memfd_hoards_score_zero_beside_honest_samples(pool):
    reference = CodeReference(tests=tuple(CodeTest(f"{i}\n", f"{i}\n") for i in range(3)))
    group = [fenced(hp.SLEEP_THEN_CRASH.format(budget=3.0, margin=0.05)), fenced(hp.ECHO),
             fenced(hp.MEMFD_HOARD), fenced(hp.ECHO)] * 2
    got, _ = scores(pool, group, reference, soft(3, budget_s=3.0, memory_mb=256, test_timeout_s=2))
    assert got == [0.0, 1.0] * 4, got


# ---- 3. no oracle on the hidden outputs ----

def test_a_group_learns_nothing_from_the_comparison_of_its_guesses(pool):
    learned = {}
    for hidden in ("GUESS", "OTHER"):
        reference = CodeReference(tests=(CodeTest("guess\n", f"{hidden}\n2\n"), CodeTest("crash\n", "x\n"),
                                         CodeTest("learn\n", f"{hidden}\n"), CodeTest("const\n", "const\n")))
        _, results = scores(pool, [fenced(hp.ORACLE)] * 2, reference, soft(4, test_timeout_s=8))
        learned[hidden] = {r.extra["verdicts"][2] for r in results}
    assert sorted(map(sorted, learned.values())) == [["AC"], ["WA"]], learned  # right in one group only


# ---- 4. host cost per sample ----

def test_a_group_of_floods_keeps_host_memory_bounded(pool):
    stdin_ref = CodeReference(tests=tuple(CodeTest(f"{i}\n", "5\n") for i in range(12)))
    call_ref = CodeReference(tests=(CodeTest('"q"', "[1]"),), fn_name="answer")
    tracemalloc.start()
    try:
        floods, _ = scores(pool, [fenced(hp.TOKEN_FLOOD), fenced(hp.RELAUNCH_FLOOD)] * 2, stdin_ref, soft(12))
        huge, _ = scores(pool, [fenced(hp.HUGE_RETURN)] * 4, call_ref)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert floods == [0.0] * 4 and huge == [0.0] * 4
    assert peak < 2 * 200 << 20, peak  # two workers, each within the documented ~6 x 32 MiB


# ---- 5. memory held together, per-user quotas, the tolerance ----

def test_two_processes_over_the_limit_together_score_zero(pool):
    reference = CodeReference(tests=(CodeTest("1\n", "both\n"),))
    got, _ = scores(pool, [fenced(hp.TWO_PROCESSES)] * 2, reference, {"memory_mb": 256, "test_timeout_s": 10})
    assert got == [0.0, 0.0], got


def test_an_inotify_hog_in_the_group_does_not_fail_its_neighbours(pool):
    reference = CodeReference(tests=(CodeTest("1\n", "ok\n"),))
    needer = "import time\ntime.sleep(1.5)\n" + hp.INOTIFY_NEEDER  # on the other worker, while the hog holds
    got, _ = scores(pool, [fenced(hp.INOTIFY_HOG.format(hold=3)), fenced(needer)] * 2, reference)
    assert got[1::2] == [1.0, 1.0], got  # the hog itself prints "1", a 0


def test_near_miss_integers_score_zero_with_a_float_tolerance(pool):
    reference = CodeReference(tests=(CodeTest("1\n", "3000000000000\n"), CodeTest("2\n", "3\n")))
    near = "x = input()\nprint(3000000000001 if x == '1' else 3.0000001)"
    got, _ = scores(pool, [fenced(near)] * 2, reference, {"float_tolerance": 1e-6})
    assert got == [0.0, 0.0], got
