"""A math response must not turn its own 0 into a masked sample by being slow to grade.

Covers `graders.pool.DeadlineExceeded.cpu_bound` (computing vs starved, from the worker's CPU time) and how
`graders.math.grade` uses it: a deadline spent computing on the response is `response_too_costly` (0.0 in
reward mode), one spent waiting for a CPU stays a masked `timeout`, and a reference that alone exceeds the
deadline is `gold_unparseable` (masked). Host load is simulated honestly: the worker sleeps, or is stopped
with SIGSTOP, so it gets no CPU. Hostile inputs are the shapes of the pathological-input table in
tests/test_math_grader.py (10,000 nested braces) and a giant polynomial.

    python -m pytest tests/test_math_timeout_masking.py -q
"""
from __future__ import annotations

import os
import signal
import time

import pytest

from graders.math import grade
from graders.pool import DeadlineExceeded, DeadlinePool
from mimo_eval.harness.scoring import grade_math
from benchmarks.types import Problem

NEST = "{" * 10_000 + "1" + "}" * 10_000
POLY = "+".join(f"x^{{{i}}}" for i in range(3000))
# Both compute past any deadline; a loaded 2-core host still gives the worker a quarter of the wall time.
COSTLY = ["\\boxed{" + NEST + "}", "\\boxed{" + POLY + "}"]


@pytest.fixture(scope="module")
def pool():
    # the math preload: the zygote of this pool imports it (no warm-up: these tests time nothing)
    p = DeadlinePool(1, ("graders.math.warm",))
    yield p
    p.close()


def test_a_sleeping_worker_is_starved_not_cpu_bound(pool):
    with pytest.raises(DeadlineExceeded) as info:
        pool.call(time.sleep, (5,), 0.5)
    assert info.value.cpu_s is not None and not info.value.cpu_bound


def test_a_computing_worker_is_cpu_bound(pool):
    with pytest.raises(DeadlineExceeded) as info:
        pool.call(sum, (range(10**12),), 0.5)
    assert info.value.cpu_bound, info.value


def test_deadline_exceeded_built_the_old_way_is_not_cpu_bound():
    # callers that raise it with a message only (the API before cpu_s) get the masked reading
    assert not DeadlineExceeded("no answer within 1 s").cpu_bound


@pytest.mark.parametrize("response", COSTLY, ids=["braces", "polynomial"])
def test_cpu_bound_hostile_response_scores_zero_in_reward_mode(response):
    grade(gold="x+1", response="\\boxed{1+x}")   # start and warm the pool
    v = grade(gold="2", response=response, mode="reward", timeout_s=1.0)
    assert (v.reason, v.score, v.timed_out, v.correct) == ("response_too_costly", 0.0, True, False), v.detail
    assert "CPU" in v.detail


def _grandchildren() -> list[int]:
    """The pool's workers: children of the zygote, which is a child of this process."""
    parent = {}
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                parent[int(d)] = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    kids = {p for p, pp in parent.items() if pp == os.getpid()}
    return [p for p, pp in parent.items() if pp in kids]


def test_starved_hostile_response_stays_masked():
    # Start the workers first (distinct pairs, since answers are cached; one at a time, calls reuse the last
    # worker): the host then gives them no CPU at all, as SIGSTOP does. A worker still starting is not stopped:
    # the pool waits for it to be ready before the deadline starts.
    for k in range(2 * (os.cpu_count() or 2) + 2):
        grade(gold=f"x+{k + 1}", response=f"\\boxed{{{k + 1}+x}}")
    stopped = _grandchildren()
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        v = grade(gold="2", response=COSTLY[0], mode="reward", timeout_s=1.0)
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:   # the killed worker
                pass
    assert (v.reason, v.score, v.timed_out) == ("timeout", None, True), v.detail
    assert grade(gold="x+1", response="\\boxed{1+x}").correct   # the pool recovered


@pytest.mark.parametrize("gold", ["\\boxed{" + NEST.replace("1", "x") + "}", "\\boxed{" + POLY + "}"],
                         ids=["braces", "polynomial"])
def test_a_reference_that_alone_exceeds_the_deadline_is_masked_not_blamed_on_the_response(gold):
    v = grade(gold=gold, response="\\boxed{2}", mode="reward", timeout_s=1.0)
    assert (v.reason, v.score) == ("gold_unparseable", None), v.detail


def test_eval_mode_counts_a_costly_response_as_a_timeout():
    row = grade_math(Problem("p", "", "2", "math"), COSTLY[0])
    assert (row["correct"], row["outcome"], row["reason"]) == (False, "timeout", "response_too_costly")


# A worker that dies while comparing (the kernel's OOM killer picks the process whose memory grows; a crash
# in C) must not mask the response either: a death is retried once, and a second death on the same pair is
# the response's doing. The killer below stands in for the OOM killer: it SIGKILLs any worker that has spent
# more than KILL_AFTER_S of CPU since it was first seen, which checking the reference alone (x+1, parsed in
# milliseconds) never does and comparing the slow answer (~1.5 s of SymPy) always does.
SLOW_GOLD = "x+1"
_TERMS = "+".join(f"x^{{{i}}}" for i in range(60))
SLOW_RIGHT = f"\\boxed{{{_TERMS}-({_TERMS})+1+x}}"   # correct, and SymPy takes a while to say so
KILL_AFTER_S = 0.15


def _cpu_s(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _oom_killer(stop, kills: list, most: int):
    seen: dict[int, float] = {}
    while not stop.is_set() and len(kills) < most:
        for pid in _grandchildren():
            cpu = _cpu_s(pid)
            if cpu is None:
                continue
            if cpu - seen.setdefault(pid, cpu) > KILL_AFTER_S:
                os.kill(pid, signal.SIGKILL)
                kills.append(pid)
        time.sleep(0.01)


def _grade_under_killer(most: int, response: str):
    import threading

    for k in range(2 * (os.cpu_count() or 2) + 2):   # every worker started and warm (distinct pairs: no cache)
        grade(gold=f"x+{k + 101}", response=f"\\boxed{{{k + 101}+x}}")
    stop, kills = threading.Event(), []
    killer = threading.Thread(target=_oom_killer, args=(stop, kills, most), daemon=True)
    killer.start()
    try:
        return grade(gold=SLOW_GOLD, response=response, mode="reward", timeout_s=20), kills
    finally:
        stop.set()
        killer.join()


def test_a_response_whose_worker_dies_twice_scores_zero():
    v, kills = _grade_under_killer(most=10, response=SLOW_RIGHT)
    assert len(kills) >= 2
    assert (v.reason, v.score) == ("response_too_costly", 0.0), v.detail
    assert "died twice" in v.detail


def test_a_worker_killed_once_by_the_host_is_retried_not_blamed():
    v, kills = _grade_under_killer(most=1, response=SLOW_RIGHT)
    assert len(kills) == 1
    assert (v.reason, v.score) == ("correct", 1.0), v.detail
    assert "retried" in v.detail


def test_memory_exhaustion_while_comparing_is_the_responses_cost(monkeypatch):
    from graders.math import compare, compare_job
    from graders.math.compare import CompareOptions

    def exhausted(*args):
        raise MemoryError

    monkeypatch.setattr(compare, "answers_equal", exhausted)
    assert compare_job("x+1", "1+x", CompareOptions(), (False, False))[0] == "response_too_costly"

    def sympy_bug(*args):
        raise KeyError("an odd SymPy path")

    monkeypatch.setattr(compare, "answers_equal", sympy_bug)   # the gold alone parses: the response is not comparable
    assert compare_job("x+1", "1+x", CompareOptions(), (False, False)) == \
        ("wrong", "not comparable: KeyError: 'an odd SymPy path'")
