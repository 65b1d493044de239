"""The chunked rollout scheduler of the hf engine (mimo_eval/rl/scheduler.py) and the easy pool (data.py) with a fake engine and grader.

    python -m pytest -q tests/test_rl_scheduler.py

The fake engine answers each problem with scripted outcomes (the ground truth itself is "pass rate" a group
should get); the fake grader is a thread pool returning RewardResult, optionally blocking on events so overlap is
checked by event order, not wall-clock. One property per test.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from graders.rewards.types import RewardResult
from mimo_eval.rl.data import DataError, EasyPool, Problem, PromptCursor
from mimo_eval.rl.scheduler import Rollout, ChunkedScheduler

G = 4


def _problems(pass_counts: list[int]) -> list[Problem]:
    """Problem i's group gets pass_counts[i] correct rollouts out of G."""
    return [Problem(i, ({"role": "user", "content": str(i)},), "fake", k, {}) for i, k in enumerate(pass_counts)]


class FakeEngine:
    def __init__(self, events: list | None = None, started: list[threading.Event] | None = None):
        self.calls, self.events, self.started = [], events, started

    def generate(self, prompts, n):
        i = len(self.calls)
        self.calls.append([p[0] for p in prompts])
        if self.events is not None:
            self.events.append(("gen_start", i))
        if self.started is not None and i < len(self.started):
            self.started[i].set()
        out = [[Rollout((j,), f"{p[0]}:{j}", False) for j in range(n)] for p in prompts]
        if self.events is not None:
            self.events.append(("gen_end", i))
        return out

    def sleep(self):
        pass

    def sync_weights(self):
        pass


class FakeGrader:
    """rollout j of problem p is correct iff j < pass_counts[p]; `score=None` for problems in `masked`."""

    def __init__(self, pass_counts, masked=(), wait_for=None, events=None):
        self.pass_counts, self.masked, self.wait_for, self.events = pass_counts, set(masked), wait_for, events
        self.executor = ThreadPoolExecutor(4)

    def submit(self, kind, response, reference, options=None):
        return self.executor.submit(self._grade, response)

    def _grade(self, response):
        p, j = (int(x) for x in response.split(":"))
        if self.wait_for is not None:
            self.wait_for(p)
        if self.events is not None:
            self.events.append(("reward_end", p))
        if p in self.masked:
            return RewardResult(None, None, "timeout", {})
        ok = j < self.pass_counts[p]
        return RewardResult(float(ok), ok, "correct" if ok else "wrong", {})


def _scheduler(pass_counts, *, chunk=2, rounds=10, alpha=0.0, grader=None, engine=None, seed=0):
    problems = _problems(pass_counts)
    return ChunkedScheduler(
        engine=engine or FakeEngine(), rewards=grader or FakeGrader(pass_counts), problems=problems,
        encode=lambda p: (p.index,), kind_for=lambda s: "math", cursor=_InOrder(len(problems), 0),
        pool=EasyPool(alpha, seed), group_size=G, chunk=chunk, max_gen_rounds=rounds)


class _InOrder(PromptCursor):
    """Problems in index order, so a test knows which prompt each launch draws."""

    def _shuffled(self, epoch):
        return list(range(self.size))


def test_only_mixed_groups_are_kept():
    collected = _scheduler([0, 2, 4, 1, 3, 0, 4, 2]).collect(4)
    assert [g.problem.index for g in collected.groups] == [1, 3, 4, 7]
    assert collected.metrics["frac_reward_zero_std"] == pytest.approx(4 / 8)


def test_refills_to_a_full_batch():
    """Half of every chunk is uninformative: more chunks are launched until 3 groups are kept."""
    sched = _scheduler([0, 2] * 10, chunk=2)
    collected = sched.collect(3)
    assert len(collected.groups) == 3 and collected.metrics["num_gen_rounds"] >= 3


def test_fifo_early_termination_keeps_launch_order():
    """The batch is the first `need` informative groups in launch order, every earlier one resolved; a later group
    whose reward finished first is not taken in its place."""
    late = threading.Event()
    def wait_for(p):
        if p == 0:
            late.wait(5)  # problem 0's reward is the slowest
        else:
            late.set()
    counts = [2, 2, 2, 2]
    sched = _scheduler(counts, chunk=4, grader=FakeGrader(counts, wait_for=wait_for))
    collected = sched.collect(2)
    assert [g.problem.index for g in collected.groups] == [0, 1]
    assert all(len(g.scores) == G for g in collected.groups)


def test_round_guard_stops_and_trains_on_what_exists():
    sched = _scheduler([0, 4, 0, 4, 2, 0, 0, 0, 0, 0], chunk=2, rounds=3)
    with pytest.warns(UserWarning, match="max_gen_rounds"):
        collected = sched.collect(4)
    assert collected.metrics["num_gen_rounds"] == 3 and [g.problem.index for g in collected.groups] == [4]


def test_masked_rollouts_do_not_make_a_group_informative():
    """A group of one pass and three timeouts has a single scored sample: no baseline, dropped, masks counted."""
    counts = [1, 2]
    sched = _scheduler(counts, chunk=2, rounds=1, grader=FakeGrader(counts, masked={0}))
    with pytest.warns(UserWarning):
        collected = sched.collect(2)
    assert [g.problem.index for g in collected.groups] == [1] and collected.metrics["reward/masked"] == G


def test_easy_pool_draw_frequency():
    """MiMo's alpha = 0.1: over 10,000 seeded draws from a non-empty pool, 0.10 +- 0.01 come from it."""
    pool = EasyPool(0.1, seed=1234)
    pool.record(3, False, solved_by_all=True, scores=[1.0])
    cursor = PromptCursor(50, seed=0)
    drawn = sum(pool.draw(cursor)[1] for _ in range(10_000))
    assert drawn / 10_000 == pytest.approx(0.10, abs=0.01)
    assert pool.metrics()["easy_pool/draw_frac"] == pytest.approx(drawn / 10_000)


def test_pool_members_leave_the_main_stream():
    """MiMo: solved problems go to the pool and come back only through it. With 30 of 50 problems in the pool,
    no main-stream draw returns one of them (before: ~60% of main-stream draws were pool members), and every
    other problem still comes up each epoch."""
    pool = EasyPool(0.1, seed=5)
    for i in range(30):
        pool.record(i, False, solved_by_all=True, scores=[1.0])
    cursor = PromptCursor(50, seed=0)
    draws = [pool.draw(cursor) for _ in range(2_000)]
    fresh = [i for i, from_pool in draws if not from_pool]
    assert not set(fresh) & set(range(30)) and set(fresh) == set(range(30, 50))
    assert {i for i, from_pool in draws if from_pool} <= set(range(30))


def test_a_fully_pooled_dataset_draws_from_the_pool():
    pool = EasyPool(0.1, seed=0)
    for i in range(3):
        pool.record(i, False, solved_by_all=True, scores=[1.0])
    assert all(pool.draw(PromptCursor(3, seed=0))[1] for _ in range(20))


def test_easy_pool_stores_solved_and_drops_regressed():
    sched = _scheduler([4, 2, 4, 0], chunk=4, rounds=1, alpha=0.1)
    with pytest.warns(UserWarning):
        collected = sched.collect(4)
    assert sched.pool.members == [0, 2] and collected.metrics["easy_pool/admitted"] == 2
    sched.pool.record(0, True, solved_by_all=False, scores=[0.0])
    assert sched.pool.members == [2] and sched.pool.metrics()["easy_pool/removed"] == 1


def test_alpha_zero_disables_the_pool():
    """easy_alpha 0: nothing is admitted, so a solved problem stays in the main stream."""
    sched = _scheduler([4, 2], chunk=2, rounds=1, alpha=0.0)
    with pytest.warns(UserWarning):
        sched.collect(2)
    assert sched.pool.members == []


def test_fresh_and_pool_rewards_are_logged_apart():
    """Problem 0 (always solved) is in the pool; at alpha 0.5 it is re-drawn often: its 1.0s go to
    reward/pool_mean, the fresh draws' rewards to reward/fresh_mean, and reward/mean mixes both."""
    counts = [4, 1, 1, 1, 1]
    sched = _scheduler(counts, chunk=2, rounds=4, alpha=0.5)
    sched.pool.record(0, False, solved_by_all=True, scores=[1.0] * G)
    sched.pool.metrics()
    with pytest.warns(UserWarning):
        m = sched.collect(8).metrics
    assert m["reward/pool_mean"] == 1.0 and m["reward/fresh_mean"] == 0.25
    assert m["reward/fresh_mean"] < m["reward/mean"] < m["reward/pool_mean"]


def test_overlong_prompts_are_skipped_and_counted():
    """An encoder returning None (prompt over max_prompt_tokens) skips that problem, counted; never a crash."""
    counts = [2] * 6
    sched = _scheduler(counts, chunk=2)
    sched.encode = lambda p: None if p.index % 3 == 0 else (p.index,)
    collected = sched.collect(3)
    assert [g.problem.index for g in collected.groups] == [1, 2, 4]
    assert collected.metrics["prompts/skipped_too_long"] >= 2


def test_all_prompts_too_long_is_one_clear_error():
    sched = _scheduler([2, 2], chunk=2)
    sched.encode = lambda p: None
    with pytest.raises(DataError, match="max_prompt_tokens"):
        sched.collect(1)


class _OptionsGrader(FakeGrader):
    def __init__(self, pass_counts):
        super().__init__(pass_counts)
        self.options = []

    def submit(self, kind, response, reference, options=None):
        self.options.append(options)
        return super().submit(kind, response, reference, options)


def test_per_problem_reward_options_override_the_runs():
    """extra_info.reward_options (what the verl adapter reads, e.g. code tiers) reach the grader, over the
    run's reward_options; a problem without them gets the run's."""
    counts = [2, 2]
    grader = _OptionsGrader(counts)
    sched = _scheduler(counts, chunk=2, grader=grader)
    sched.problems = [Problem(0, ({"role": "user", "content": "0"},), "fake", 2,
                              {"reward_options": {"reward": "soft", "tiers": [0, 1]}}), sched.problems[1]]
    sched.reward_options = {"reward": "strict", "timeout_s": 3}
    sched.collect(2)
    assert grader.options[:G] == [{"reward": "soft", "tiers": [0, 1], "timeout_s": 3}] * G
    assert grader.options[G:2 * G] == [{"reward": "strict", "timeout_s": 3}] * G


def test_reward_work_overlaps_generation():
    """Rewards of chunk 0 finish only after chunk 1's generation started: the grader blocks until then (5 s
    timeout), so a scheduler that waited for chunk 0's rewards before launching chunk 1 records the miss."""
    events, started = [], [threading.Event() for _ in range(3)]
    def wait_for(p):
        if p < 2 and not started[1].wait(5):
            events.append(("no_overlap", p))
    counts = [2] * 8
    sched = _scheduler(counts, chunk=2, engine=FakeEngine(events, started),
                       grader=FakeGrader(counts, wait_for=wait_for, events=events))
    sched.collect(4)
    assert ("no_overlap", 0) not in events and ("no_overlap", 1) not in events
    assert events.index(("gen_start", 1)) < min(events.index(("reward_end", 0)), events.index(("reward_end", 1)))


def test_cursor_crosses_epochs_and_resumes():
    """An epoch boundary reshuffles and continues (verl #5725 stopped there); a restored cursor continues alike."""
    a = PromptCursor(5, seed=3)
    first = [a.next() for _ in range(5)]
    b = PromptCursor(5, seed=3)
    b.load_state_dict(a.state_dict())
    assert sorted(first) == list(range(5))
    assert [a.next() for _ in range(7)] == [b.next() for _ in range(7)]


def test_a_template_that_opens_the_thinking_reaches_the_math_rewards_only():
    """thinking_opened (the run's template ends the prompt with <think>) is a math option; code options refuse it."""
    seen = []

    class Recording(FakeGrader):
        def submit(self, kind, response, reference, options=None):
            seen.append((kind, dict(options or {})))
            return super().submit(kind, response, reference, options)

    problems = _problems([2, 2])
    problems[1] = Problem(1, ({"role": "user", "content": "1"},), "code", 2, {})
    sched = ChunkedScheduler(
        engine=FakeEngine(), rewards=Recording([2, 2]), problems=problems, encode=lambda p: (p.index,),
        kind_for=lambda s: "code" if s == "code" else "math", cursor=_InOrder(2, 0), pool=EasyPool(0.0, 0),
        group_size=G, chunk=2, max_gen_rounds=1, reward_options={"timeout_s": 2}, thinking_opened=True)
    sched.collect(2)
    assert {k: o for k, o in seen} == {"math": {"thinking_opened": True, "timeout_s": 2}, "code": {"timeout_s": 2}}


def test_the_trainer_reads_the_thinking_from_its_rendered_template():
    pytest.importorskip("transformers")
    from mimo_eval.rl.toy import build_tokenizer
    from mimo_eval.rl.trainer import _opens_thinking

    tokenizer = build_tokenizer()
    problems = _problems([1])
    assert _opens_thinking(tokenizer, problems) is False
    tokenizer.chat_template += "{% if add_generation_prompt %}<think>\n{% endif %}"
    assert _opens_thinking(tokenizer, problems) is True
