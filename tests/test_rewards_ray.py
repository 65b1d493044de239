"""RewardPool(backend="ray") on a local Ray instance (graders/rewards/ray_backend.py).

    python -m pytest -q tests/test_rewards_ray.py      # skips when ray is not installed (extra [ray])

Covers: the same results as the local pool, in order; a killed actor is replaced and the call it held comes
back as a masked infra error (not lost, not scored); code in an actor's own sandbox.
"""
from __future__ import annotations

import time

import pytest

ray = pytest.importorskip("ray")

from graders.rewards.pool import RewardPool  # noqa: E402
from graders.types import CodeReference, CodeTest  # noqa: E402

# A program that sleeps 4 s inside LCB's 6 s limit keeps an actor busy while it is killed (a slow SymPy
# comparison no longer does: the math grader decides the old example in half a second).
SLOW = ("code", "```python\nimport time\ntime.sleep(4)\nprint(1)\n```", CodeReference(tests=(CodeTest("", "1\n"),)), None)


def start_local_ray():
    """Ray waits a fixed 30 s for its raylet to register; on a loaded 2-core CI runner that can pass, so a
    start that timed out is tried once more (any other failure is raised at once)."""
    for attempt in (1, 2):
        try:
            return ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        except Exception as exc:
            ray.shutdown()
            if attempt == 2 or "timed out during startup" not in str(exc):
                raise


@pytest.fixture(scope="module")
def pool():
    start_local_ray()
    try:
        with RewardPool(2, backend="ray") as p:
            yield p
    finally:
        ray.shutdown()


def test_same_results_as_the_local_pool_in_order(pool):
    calls = [("math", f"\\boxed{{{i}/2}}", f"\\frac{{{i if i % 4 else i + 1}}}{{2}}", None) for i in range(40)]
    calls.append(("math", "\\boxed{1}", "\\frac{1}{", None))
    with RewardPool(2) as local:
        expected = [(r.score, r.reason) for r in local.score_many(calls)]
    assert [(r.score, r.reason) for r in pool.score_many(calls)] == expected
    assert expected[-1] == (None, "gold_unparseable") and expected[0] == (0.0, "wrong")


@pytest.mark.docker
def test_killed_actor_is_replaced_and_its_call_is_masked(pool):
    from conftest import docker_sandbox_or_skip

    docker_sandbox_or_skip(1).close()
    backend = pool._backend
    victim = backend.actors[0]
    old_pid = ray.get(victim.pid.remote())
    held = [pool.submit(*SLOW) for _ in range(2)]      # one on each actor
    time.sleep(2.0)
    ray.kill(victim)
    results = [f.result(timeout=120) for f in held]
    died = [r for r in results if r.reason == "infra_error"]
    assert len(died) == 1 and died[0].score is None and "died" in died[0].extra["detail"]
    assert backend.replaced == 1 and backend.actors[0] is not victim
    after = pool.score_many([("math", f"\\boxed{{{i}}}", str(i), None) for i in range(20)])
    assert [r.score for r in after] == [1.0] * 20
    assert ray.get(backend.actors[0].pid.remote()) != old_pid
    assert pool.stats()["errors"] >= 1


def test_a_sandbox_object_is_refused():
    from sandboxes import LocalSandbox

    with pytest.raises(ValueError, match="builds a sandbox in each actor"):
        RewardPool(1, backend="ray", sandbox=LocalSandbox(1))


@pytest.mark.docker
def test_code_in_the_actors_own_sandbox(pool):
    from conftest import docker_sandbox_or_skip

    docker_sandbox_or_skip(1).close()
    ref = CodeReference(tests=(CodeTest("1 2\n", "3\n"), CodeTest("2 2\n", "4\n")))
    good = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    results = pool.score_many([("code", good, ref, None), ("code", "```python\nprint(3)\n```", ref, None)])
    assert [r.score for r in results] == [1.0, 0.0]
