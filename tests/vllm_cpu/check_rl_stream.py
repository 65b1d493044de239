"""Continuous rollout on vLLM's CPU build (mimo_eval/rl/stream.py driving VLLMEngine's per-sequence interface), with
the real reward pool (math grader; code in the Docker sandbox) and a chain model (mimo_eval/rl/chain.py) whose
problems have known pass rates and lengths.

Runs INSIDE .venvs/vllm, started by tests/test_vllm.py; by hand:
    PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 .venvs/vllm/bin/python -m pytest -q tests/vllm_cpu/check_rl_stream.py

- Event order: a finished sequence's reward is asked for before its group's last sequence ends.
- Early termination: once the batch is decided, the requests in flight are aborted through vLLM's engine (none
  left, their tokens counted as waste).
- FIFO: a group launched first is kept even when a later one resolves first; refill: uniform groups are dropped
  and more are launched until the batch is full; masked rewards (score None) are left out.
- Timing does not change the batch: the same step on a one-group engine and on a wide one with over-launching
  gives the same groups, the same tokens, and the same cursor after it. (Resume after a restart: the loop's
  default on the vllm engine is this scheduler, so check_rl_engine.py's resume test runs it.)
- Validation: `mimo-eval run`'s path through the vLLM backend grades the first sample before the last one is
  generated.
- tools/bench_rollout.py --quick runs and prints its ratio.
"""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mimo_eval.rl import chain
from mimo_eval.rl.config import from_mapping
from mimo_eval.rl.data import EasyPool, PromptCursor
from mimo_eval.rl.stream import ContinuousScheduler, RolloutMode
from mimo_eval.rl.trainer import GRPOLoop

ROOT = Path(__file__).resolve().parents[2]
G = 8
SHORT, NEVER = ((1.0, 4.0),), ((1.0, math.inf),)
PROBLEMS = {
    "short": chain.ChainProblem("math", 0.5, 3, SHORT),
    "solved": chain.ChainProblem("math", 1.0, 4, SHORT),
    "unsolved": chain.ChainProblem("math", 0.0, 5, SHORT),
    "endless": chain.ChainProblem("math", 0.5, 6, NEVER),        # runs to max_new_tokens: no answer, all 0
    "mixed": chain.ChainProblem("math", 0.5, 7, ((0.5, 3.0), (0.5, 40.0))),
    "code": chain.ChainProblem("code", 0.5, 1, SHORT),
    "slow": chain.ChainProblem("math", 0.5, 8, ((1.0, 30.0),)),
}
NAMES = list(PROBLEMS)


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    directory = chain.write(tmp_path_factory.mktemp("chain"), list(PROBLEMS.values()))
    cfg = from_mapping({"model": str(directory), "data": str(directory / "train.jsonl"), "engine": "vllm",
                        "output_dir": str(tmp_path_factory.mktemp("run")), "train_batch": 2, "mini_batch": 2,
                        "group_size": G, "max_new_tokens": 64, "max_prompt_tokens": 16, "easy_alpha": 0.0,
                        "reward_routes": chain.ROUTES, "precision": "fp32", "progress": False,
                        "vllm_kwargs": {"enforce_eager": True, "max_num_seqs": 64}})
    loop = GRPOLoop(cfg)
    yield loop
    loop.close()


class InOrder(PromptCursor):
    def _shuffled(self, epoch):
        return list(range(self.size))


class Recorder:
    """The reward pool, each submission logged (and optionally masked) in one event list with the engine's."""

    def __init__(self, pool, events, masked_after: dict | None = None):
        self.pool, self.events, self.masked_after, self.calls = pool, events, masked_after or {}, Counter()

    def submit(self, kind, response, reference, options=None):
        self.events.append(("submit", str(reference)))
        self.calls[str(reference)] += 1
        future = self.pool.submit(kind, response, reference, options)
        if self.calls[str(reference)] > self.masked_after.get(str(reference), G):
            from concurrent.futures import Future

            from graders.rewards.types import RewardResult

            masked: Future = Future()
            masked.set_result(RewardResult(None, None, "timeout", {}))
            return masked
        return future


def scheduler(loop, order: list[str], *, events=None, capacity=64, margin=0.0, masked_after=None,
              mode=RolloutMode()):
    loop.engine.draws = Counter()   # every scheduler here draws from the start of this step
    problems = [loop.problems[NAMES.index(name)] for name in order]
    rewards = Recorder(loop.rewards, events if events is not None else [], masked_after)
    return ContinuousScheduler(engine=loop.engine, mode=mode, capacity=capacity, margin_sd=margin, rewards=rewards,
                               problems=problems, encode=loop.scheduler.encode, kind_for=loop.scheduler.kind_for,
                               cursor=InOrder(len(problems), 0), pool=EasyPool(0.0, 0), group_size=G,
                               max_gen_rounds=4)


def truth(loop, name: str) -> str:
    return str(loop.problems[NAMES.index(name)].ground_truth)


def test_a_sequence_is_rewarded_before_its_group_ends(loop):
    events: list = []
    s = scheduler(loop, ["mixed"], events=events)
    step = loop.engine.step

    def logged_step():
        finished = step()
        events.extend(("finish", rid) for rid, _ in finished)
        return finished

    loop.engine.step = logged_step
    try:
        s.collect(1)
    finally:
        del loop.engine.step
    submits = [i for i, e in enumerate(events) if e[0] == "submit"]
    finishes = [i for i, e in enumerate(events) if e[0] == "finish"]
    assert submits[0] < finishes[G - 1], events   # the group's first reward before its 8th sequence ends


def test_early_termination_aborts_through_the_engine(loop):
    s = scheduler(loop, ["short", "endless"], margin=3.0)
    collected = s.collect(1)
    m = collected.metrics
    assert [g.problem.index for g in collected.groups] == [NAMES.index("short")]
    assert m["groups/aborted"] >= 1 and m["tokens/wasted"] >= G, m
    assert not loop.engine.has_unfinished()
    assert not loop.engine.llm.llm_engine.output_processor.request_states   # nothing left inside vLLM


def test_fifo_keeps_the_first_launched_group(loop):
    """'slow' (30 tokens on average) is launched before 'short' (4), which resolves first: 'slow' is the batch."""
    collected = scheduler(loop, ["slow", "short"], margin=3.0).collect(1)
    assert [g.problem.index for g in collected.groups] == [NAMES.index("slow")]


def test_refill_drops_uniform_groups_until_the_batch_is_full(loop):
    collected = scheduler(loop, ["solved", "unsolved", "endless", "short", "code"], capacity=G).collect(2)
    assert [g.problem.index for g in collected.groups] == [NAMES.index("short"), NAMES.index("code")]
    assert collected.metrics["groups/filtered"] == 3
    assert all(g.informative for g in collected.groups)


def test_masked_rewards_are_left_out(loop):
    """'short' with all but its first reward masked has one scored sample: no baseline, dropped; 'code' is kept."""
    s = scheduler(loop, ["short", "code"], masked_after={truth(loop, "short"): 1}, capacity=G)
    collected = s.collect(1)
    assert [g.problem.index for g in collected.groups] == [NAMES.index("code")]
    assert collected.metrics["reward/masked"] == G - 1


def test_timing_does_not_change_the_batch(loop):
    order = ["mixed", "solved", "slow", "short", "code", "unsolved"]
    runs = []
    for capacity, margin in ((G, 0.0), (64, 3.0)):
        s = scheduler(loop, order, capacity=capacity, margin=margin)
        collected = s.collect(2)
        runs.append(([g.problem.index for g in collected.groups],
                     [[r.completion_ids for r in g.rollouts] for g in collected.groups], s.cursor.state_dict(),
                     collected.metrics["groups/generated"]))
    assert runs[0][:3] == runs[1][:3]
    assert runs[1][3] > runs[0][3]   # the wide engine launched more, and gave them back


def test_validation_grades_samples_as_they_finish(loop, tmp_path):
    from graders.code import judge_sandbox
    from mimo_eval.harness.run import RunSettings, execute
    from mimo_eval.types import SamplingParams

    graded: list[float] = []

    def sandbox_factory():
        sandbox = judge_sandbox("docker", 2)
        run = sandbox.run

        def timed(*args, **kwargs):
            import time

            graded.append(time.time())
            return run(*args, **kwargs)

        sandbox.run = timed
        return sandbox

    settings = RunSettings(benchmark="lcb_sample", model="chain", out=tmp_path, n=2, progress=False,
                           sampling=SamplingParams(temperature=1.0, top_p=1.0, max_tokens=64, seed=0))
    run_dir = execute(settings, loop.engine.eval_backend("chain"), sandbox_factory=sandbox_factory)
    times = [json.loads(line)["time"] for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert len(times) == 50 and graded and min(graded) < max(times)


def test_bench_rollout_quick_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "bench_rollout.py"), "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(proc.stdout)
    assert re.search(r"rollout speed-up: \d+\.\d+$", proc.stdout.strip().splitlines()[-1]), proc.stdout
