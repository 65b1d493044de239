"""The second red-team round (issue 20) against the code grader's real entry point, `graders.code.judge` with
DockerSandbox: one test per class of attack, each written as the program a policy rewarded for whatever
works would write (tests/hostile_programs.py). The same classes through a multi-sample RewardPool are in
tests/test_rewards_hostile.py.

  1. a test reads what its process holds: an earlier submission's outputs, its own later inputs, memory;
  2. a program's 0 turned into a masked sample: a relaunch starved of budget, the OOM killer taking the driver;
  3. an oracle: anything the program can observe (time included) that depends on the expected outputs;
  4. host memory and CPU per submission: token floods, output across relaunches, huge return values;
  5. the memory limit held by all processes together, per-user kernel quotas, the float tolerance.

Needs a Docker engine and the runner image (tools/setup_system.sh); in CI (CI=true or MIMO_REQUIRE_DOCKER=1)
a missing engine fails instead of skipping.
Run: python -m pytest -q tests/test_code_grader_isolation.py
"""
import threading
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor

import hostile_programs as hp
import pytest
from conftest import docker_sandbox_or_skip

from graders.code import RESULT_CAP_BYTES, judge
from graders.types import CodeOptions, CodeReference, CodeTest

pytestmark = pytest.mark.docker
ECHO_REF = CodeReference(tests=(CodeTest("3\n", "3\n"), CodeTest("4\n", "4\n")))


@pytest.fixture(scope="module")
def sandbox():
    sb = docker_sandbox_or_skip(workers=1)
    assert judge(reference=ECHO_REF, code=hp.ECHO, sandbox=sb).passed
    yield sb
    sb.close()


class Counting:
    """The real sandbox, with each call and the bytes it returned counted (what the host had to take in)."""

    def __init__(self, sandbox):
        self.sandbox, self.calls, self.bytes = sandbox, 0, 0

    def run(self, *args, **kwargs):
        result = self.sandbox.run(*args, **kwargs)
        self.calls += 1
        self.bytes += sum(len(r.stdout) + len(r.stderr) for r in result.results)
        return result


def real(verdict):
    assert verdict.reason != "infra_error", verdict.infra_error
    return verdict


def secret_reference(functional: bool) -> tuple[CodeReference, str]:
    secret = "PREVSECRET-" + uuid.uuid4().hex
    if functional:
        return CodeReference(tests=(CodeTest('"q"', f'"{secret}"'),), fn_name="answer"), secret
    return CodeReference(tests=(CodeTest("q\n", secret + "\n"),)), secret


# ---- 1. nothing of one submission in the memory of the next, nor later inputs ahead of time ----

@pytest.mark.parametrize("functional", [False, True], ids=["stdin", "functional"])
def test_a_program_cannot_read_the_previous_submissions_answer(sandbox, functional):
    reference, secret = secret_reference(functional)
    honest = (f"class Solution:\n    def answer(self, x):\n        return {secret!r}" if functional
              else f"print({secret!r})")
    assert real(judge(reference=reference, code=honest, sandbox=sandbox)).passed
    reader = hp.READ_EARLIER_RETURN if functional else hp.READ_EARLIER_OUTPUT
    verdict = real(judge(reference=reference, code=reader, sandbox=sandbox))
    assert not verdict.passed and "none" in verdict.per_test[0].detail, verdict.per_test  # "broken": no scan


def test_a_program_cannot_read_its_own_later_inputs(sandbox):
    reference = CodeReference(tests=tuple(CodeTest(f"INPUTSECRET-{uuid.uuid4().hex}\n", "0\n") for _ in range(3)))
    for mode in ("lcb", "all_tests"):
        verdict = real(judge(reference=reference, code=hp.READ_LATER_INPUTS, sandbox=sandbox, mode=mode))
        assert verdict.passed, verdict.per_test  # prints how many it found at start-up: 0


def test_a_big_output_submission_costs_the_next_one_no_memory(sandbox):
    big = CodeReference(tests=tuple(CodeTest("1\n", "no\n") for _ in range(4)))
    assert real(judge(reference=big, code=hp.BIG_OUTPUT, sandbox=sandbox, memory_mb=256)).per_test[0].verdict == "WA"
    verdict = real(judge(reference=ECHO_REF, code=hp.ALLOC_190_MIB, sandbox=sandbox, memory_mb=256))
    assert verdict.passed, verdict.per_test  # 190 of 256 MiB


# ---- 2. no route from a program's 0 to a masked sample ----

def test_sleeping_out_the_budget_then_crashing_is_the_programs_tle(sandbox):
    reference = CodeReference(tests=tuple(CodeTest(f"{i}\n", f"{i}\n") for i in range(3)))
    for margin in (0.01, 0.08, 0.3):  # the relaunch gets about this much of the budget
        code = hp.SLEEP_THEN_CRASH.format(budget=3.0, margin=margin)
        verdict = real(judge(reference=reference, code=code, sandbox=sandbox, mode="all_tests", budget_s=3.0))
        assert verdict.score == 0.0 and set(verdict.verdicts) <= {"RE", "TLE", "SKIP"}, verdict.per_test


@pytest.mark.parametrize("mode", ["lcb", "all_tests"])
def test_memfd_hoarders_cannot_have_the_driver_oom_killed(sandbox, mode):
    home = sandbox.run("print(1)", [""]).meta["container"]
    verdict = real(judge(reference=ECHO_REF, code=hp.MEMFD_HOARD, sandbox=sandbox, mode=mode, memory_mb=256,
                         timeout_s=2))
    assert verdict.score == 0.0 and verdict.verdicts[0] in ("MLE", "TLE", "RE"), verdict.per_test
    after = sandbox.run("print(1)", [""])
    assert after.meta["container"] == home and after.meta["attempts"] == 1  # no retry, no new container


# ---- 3. nothing observable depends on the expected outputs ----

def oracle_reference(hidden: str) -> CodeReference:
    return CodeReference(tests=(CodeTest("guess\n", f"{hidden}\n2\n"), CodeTest("crash\n", "x\n"),
                                CodeTest("learn\n", f"{hidden}\n"), CodeTest("const\n", "const\n")))


def test_a_relaunched_program_learns_nothing_from_the_comparison(sandbox):
    counting = Counting(sandbox)
    learned = {}
    for hidden in ("GUESS", "OTHER"):
        verdict = real(judge(reference=oracle_reference(hidden), code=hp.ORACLE, sandbox=counting, mode="all_tests",
                             timeout_s=8))
        assert verdict.verdicts[:2] == ("WA", "RE"), verdict.per_test
        learned[hidden] = verdict.verdicts[2] == "AC"
    assert counting.calls == 2  # one session per sample: the relaunch is the sandbox's, before any comparison
    assert learned["GUESS"] != learned["OTHER"], learned  # its "learned" answer is the same whatever was hidden


# ---- 4. host cost per submission is bounded ----

def host_peak(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_line_of_millions_of_tokens_is_not_converted_token_by_token(sandbox):
    reference = CodeReference(tests=(CodeTest("1\n", "5\n"),))
    verdict, peak = host_peak(lambda: real(judge(reference=reference, code=hp.TOKEN_FLOOD, sandbox=sandbox)))
    assert verdict.verdicts == ("WA",) and peak < 100 << 20, peak  # the 7 MiB line itself, a few copies


def test_relaunches_share_one_output_budget(sandbox):
    counting = Counting(sandbox)
    reference = CodeReference(tests=tuple(CodeTest(f"{i}\n", "z\n") for i in range(12)))
    verdict = real(judge(reference=reference, code=hp.RELAUNCH_FLOOD, sandbox=counting, mode="all_tests"))
    assert verdict.score == 0.0 and counting.bytes <= RESULT_CAP_BYTES + (1 << 20), counting.bytes


def test_a_huge_return_value_is_never_parsed(sandbox):
    reference = CodeReference(tests=(CodeTest('"q"', "[1]"),), fn_name="answer")
    verdict, peak = host_peak(lambda: real(judge(reference=reference, code=hp.HUGE_RETURN, sandbox=sandbox)))
    assert verdict.verdicts == ("WA",) and peak < 64 << 20, (verdict.per_test, peak)


# ---- 5. the memory limit, per-user quotas, the float tolerance ----

def test_processes_together_are_held_to_memory_mb(sandbox):
    reference = CodeReference(tests=(CodeTest("1\n", "both\n"),))
    verdict = real(judge(reference=reference, code=hp.TWO_PROCESSES, sandbox=sandbox, memory_mb=256, timeout_s=10))
    assert not verdict.passed, verdict.per_test  # 2 x 180 MiB at 256: one of them is OOM-killed


def test_a_neighbours_inotify_hoard_does_not_reach_another_worker():
    sb = docker_sandbox_or_skip(workers=2)
    try:
        reference = CodeReference(tests=(CodeTest("1\n", "ok\n"),))
        hog = threading.Thread(target=judge, kwargs=dict(reference=ECHO_REF, code=hp.INOTIFY_HOG.format(hold=4),
                                                         sandbox=sb))
        with ThreadPoolExecutor(2) as pool:  # both pairs started
            assert all(pool.map(lambda _: judge(reference=reference, code=hp.INOTIFY_NEEDER, sandbox=sb).passed,
                                range(2)))
        hog.start()
        time.sleep(2.0)  # the hog holds its quota now, in the other worker's pair
        verdict = real(judge(reference=reference, code=hp.INOTIFY_NEEDER, sandbox=sb))
        hog.join()
        assert verdict.passed, verdict.per_test
    finally:
        sb.close()


@pytest.mark.parametrize("printed,expected,passes", [
    ("3000000000001", "3000000000000", False),  # an int is exact, whatever the tolerance
    ("3.0000001", "3", False),                  # a float is not an int
    ("3.0", "3", True),                          # LCB's own Decimal equality
    ("1.5000001", "1.5", True),                  # the tolerance, where a float is expected
])
def test_the_float_tolerance_is_for_floats_only(sandbox, printed, expected, passes):
    reference = CodeReference(tests=(CodeTest("1\n", expected + "\n"),))
    verdict = real(judge(reference=reference, code=f"input()\nprint({printed!r})", sandbox=sandbox,
                         options=CodeOptions(float_tolerance=1e-6)))
    assert verdict.passed is passes, verdict.per_test
