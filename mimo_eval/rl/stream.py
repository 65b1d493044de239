"""Continuous rollout for the `vllm` engine: MiMo's Seamless Rollout Engine (arXiv 2505.07608 §3.4) at the scale of
one machine, and naive dynamic sampling on the same engine as its baseline. One loop in this thread:

1. Launch. Continuous: while the engine has a free slot (fewer than `capacity` sequences in flight) and the groups
   not yet judged are not expected to fill the batch, draw a problem and add its G requests, one per sequence,
   each with its own seed. Expected: kept + p * n - margin_sd * sqrt(n * p * (1 - p)) < need, with n groups
   unjudged and p the run's kept fraction so far; the margin (1 standard deviation by default) launches a little
   more than the mean asks, since a group launched late costs the step a whole generation while a group too many
   costs only its aborted tokens where a step costs the same for any batch, as on a GPU (tools/sim_scheduler.py
   --preset paper: 1.96x naive instead of 1.77x at margin 0, waste 15% instead of 7%; where a step's cost grows
   with the batch, as on the CPU build, margin 0 does a little better: 2.20x against 2.11x). Naive: a whole
   batch of `need` groups, once the previous batch is judged.
2. Step the engine once (vLLM's continuous batching: every running sequence gets a token, finished ones leave,
   queued ones take their slots). With async_reward every sequence that finished goes to the reward pool at once;
   without it the loop computes rewards itself, the engine waiting: a group's G when its last sequence ends
   (continuous), or the whole batch once it is generated (naive).
3. Judge in launch order (FIFO): the head group is judged once its G rewards are in; one with mixed scores is
   kept while fewer than `need` are kept (dynamic sampling); masked rewards (None) count for nothing.
4. early_termination: once `need` groups are kept, every earlier-launched group has been judged, so the batch is
   decided: the requests still in flight are aborted through the engine, their tokens counted as waste, and their
   queued reward calls cancelled. Without it the step waits for everything launched, and the surplus is waste.
When the engine has nothing to run and a reward is outstanding, the loop blocks on the next reward (engine idle).

Reproducibility. The batch is the first `need` informative groups in launch order, and launches follow the
cursor, so completion order and timing change only how many groups were launched after the batch's last one.
Those groups are given back: the cursor and the easy pool's generator are rewound to before the first of them,
and the pool learns only the groups up to the batch's last (at the end of the step, in launch order; draws within
a step see the pool as it was when the step began). So given the same tokens per (step, prompt, draw, sample)
seed, a step's batch and the state after it do not depend on timing: a run resumed after kill -9 continues with
the same batches. Not reproducible: how many groups were launched, aborted or wasted, and every timing metric.
vLLM's own limit applies: batch composition can move low bits of the logits (vllm-project/vllm#17524).
Not Xiaomi's code (unpublished): the behaviour the report describes, re-implemented.
"""
from __future__ import annotations

import math
import queue
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

from mimo_eval.backends.common import engine_switch_interval
from mimo_eval.rl.scheduler import Collected, Group, Sampler, StreamingEngine, reward_metrics, result_of


@dataclass(frozen=True)
class RolloutMode:
    """MiMo's Table 2 as three switches; RolloutMode() is the full engine, NAIVE its baseline."""
    continuous: bool = True          # launch a group whenever a slot is free (else: whole batches)
    async_reward: bool = True        # each finished sequence to the reward pool at once (else: the loop computes)
    early_termination: bool = True   # abort what is in flight once the batch is decided


NAIVE = RolloutMode(False, False, False)
# MiMo's Table 2 rows, each adding one switch (tools/bench_rollout.py measures them, tools/sim_scheduler.py simulates)
TABLE2 = {"(a) naive dynamic sampling": NAIVE, "(b) + continuous rollout": RolloutMode(True, False, False),
          "(c) + async reward": RolloutMode(True, True, False), "(d) + early termination": RolloutMode()}


@dataclass
class _Launched(Group):
    results: list = field(default_factory=list)   # RewardResult per sample, as they come in
    pending: int = 0                                # reward calls submitted and not yet in
    received: int = 0

    @property
    def resolved(self) -> bool:
        return self.received == len(self.rollouts)


@dataclass
class _Step:
    need: int
    start: float
    groups: list[_Launched] = field(default_factory=list)
    kept: list[_Launched] = field(default_factory=list)
    head: int = 0                                   # the next group to judge (FIFO)
    owner: dict = field(default_factory=dict)       # request id -> (group, sample index)
    parked: list = field(default_factory=list)      # (group, sample) finished, reward not yet asked (naive, sync)
    snapshots: list = field(default_factory=list)   # draw state before each group's draw
    results: queue.Queue = field(default_factory=queue.Queue)   # (group, sample, future, latency) from callbacks
    in_flight: int = 0
    pending: int = 0
    busy: float = 0.0
    slot_time: float = 0.0
    reward_wait: float = 0.0
    steps: int = 0
    tokens: int = 0
    aborted_tokens: int = 0
    latencies: list = field(default_factory=list)


class ContinuousScheduler(Sampler):
    """`clock` and `before_block` let tools/sim_scheduler.py run this very loop in virtual time: the clock is read
    around each engine step and reward call, and before_block() is called before the loop blocks on a reward."""

    def __init__(self, *, engine: StreamingEngine, mode: RolloutMode = RolloutMode(), capacity: int = 0,
                 margin_sd: float = 1.0, clock: Callable[[], float] = time.perf_counter,
                 before_block: Callable[[], None] | None = None, **common):
        super().__init__(**common)
        self.engine, self.mode, self.margin_sd = engine, mode, margin_sd
        self.capacity = capacity or engine.capacity
        self.clock, self.before_block = clock, before_block

    def collect(self, need: int) -> Collected:
        s = _Step(need, self.clock())
        self.skipped_long = 0
        try:
            with engine_switch_interval():
                self._run(s)
        except BaseException:
            if s.owner:   # a reward call refused its input, Ctrl-C, an engine error: leave the engine clean
                self.engine.abort(list(s.owner))
            raise
        return self._finish(s)

    def _run(self, s: _Step) -> None:
        while not self._decided(s):
            self._launch(s)
            if self.engine.has_unfinished():
                self._step_engine(s)
            elif s.parked:                          # naive without async reward: the batch is out, grade it
                self._grade(s, s.parked)
                s.parked = []
            elif s.pending:
                self._take_rewards(s, block=True)
            elif not self._may_launch(s):
                warnings.warn(f"only {len(s.kept)} of {s.need} informative groups after {len(s.groups)} groups "
                              f"({self.max_gen_rounds} x the batch: max_gen_rounds): training on those", stacklevel=3)
                return
            self._take_rewards(s)
            self._judge(s)

    def _decided(self, s: _Step) -> bool:
        if len(s.kept) < s.need:
            return False
        return self.mode.early_termination or (s.in_flight == 0 and s.head == len(s.groups))

    def _may_launch(self, s: _Step) -> bool:
        if len(s.kept) >= s.need or len(s.groups) >= self.max_gen_rounds * s.need:
            return False
        if not self.mode.continuous:   # the next whole batch once the last one is judged
            return s.in_flight == 0 and s.head == len(s.groups)
        n, p = len(s.groups) - s.head, self.p_valid(len(s.kept), s.head)
        # informative groups expected among the unjudged, less `margin_sd` standard deviations (binomial)
        expected = len(s.kept) + p * n - self.margin_sd * math.sqrt(n * p * (1 - p))
        return s.in_flight < self.capacity and expected < s.need

    def _launch(self, s: _Step) -> None:
        while self._may_launch(s):
            for _ in range(1 if self.mode.continuous else s.need):
                self._launch_group(s)

    def _launch_group(self, s: _Step) -> None:
        s.snapshots.append((self.cursor.state_dict(), self.pool.state_dict()))
        problem, from_pool, prompt = self.draw()
        g = self.group_size
        group = _Launched(self.next_seq(), problem, prompt, from_pool, [None] * g, [None] * g, results=[None] * g)
        for i, request_id in enumerate(self.engine.launch(prompt, g)):
            s.owner[request_id] = (group, i)
        s.groups.append(group)
        s.in_flight += g

    def _step_engine(self, s: _Step) -> None:
        t0 = self.clock()
        finished = self.engine.step()
        dt = self.clock() - t0
        s.busy, s.steps = s.busy + dt, s.steps + 1
        s.slot_time += min(s.in_flight, self.capacity) * dt
        for request_id, rollout in finished:
            group, i = s.owner.pop(request_id)
            group.rollouts[i] = rollout
            s.in_flight -= 1
            s.tokens += len(rollout.completion_ids)
            if self.mode.async_reward:
                self._submit(s, group, i)
            elif not self.mode.continuous:
                s.parked.append((group, i))
            elif all(r is not None for r in group.rollouts):
                self._grade(s, [(group, j) for j in range(self.group_size)])

    def _submit(self, s: _Step, group: _Launched, i: int) -> None:
        future = self.submit(group.problem, group.rollouts[i])
        group.futures[i] = future
        group.pending += 1
        s.pending += 1
        sent = self.clock()
        future.add_done_callback(lambda f: s.results.put((group, i, f, self.clock() - sent)))

    def _grade(self, s: _Step, samples: list) -> None:
        """Rewards computed by the loop itself: submitted together, waited for, the engine not stepped meanwhile."""
        for group, i in samples:
            self._submit(s, group, i)
        while any(group.pending for group, _ in samples):
            self._take_rewards(s, block=True)

    def _take_rewards(self, s: _Step, block: bool = False) -> None:
        if block:
            t0 = self.clock()
            if self.before_block is not None and s.results.empty():
                self.before_block()
            self._record(s, s.results.get())
            s.reward_wait += self.clock() - t0
        while not s.results.empty():
            self._record(s, s.results.get_nowait())

    def _record(self, s: _Step, item: tuple) -> None:
        group, i, future, latency = item
        if future.cancelled():
            return
        group.results[i] = result_of(future)
        group.pending, group.received = group.pending - 1, group.received + 1
        s.pending -= 1
        s.latencies.append(latency)

    def _judge(self, s: _Step) -> None:
        while s.head < len(s.groups) and s.groups[s.head].resolved:
            group = s.groups[s.head]
            group.take(group.results)
            s.head += 1
            if len(s.kept) < s.need and self.keeps(group):
                s.kept.append(group)
            if self._decided(s):
                return

    def _finish(self, s: _Step) -> Collected:
        if s.owner:   # early termination: what is still generating
            s.aborted_tokens = self.engine.abort(list(s.owner))
            s.in_flight = 0
        for group in s.groups[s.head:]:
            for future in group.futures:
                if future is not None:
                    future.cancel()
        # the step uses the groups up to its last kept one; later launches are given back to the stream
        cut = s.kept[-1].seq - s.groups[0].seq + 1 if len(s.kept) >= s.need else s.head
        used, given_back = s.groups[:cut], s.groups[cut:]
        if given_back:
            cursor, pool = s.snapshots[cut]
            self.cursor.load_state_dict(cursor)
            self.pool.load_state_dict(pool)
        for group in used:
            self.pool.record(group.problem.index, group.from_pool, solved_by_all=group.solved_by_all,
                             scores=group.scores)
        self.judged += len(used)
        self.kept_total += len(s.kept)
        return Collected(list(s.kept), self._metrics(s, len(used), given_back))

    def _metrics(self, s: _Step, used: int, given_back: list[_Launched]) -> dict[str, float]:
        wall = max(self.clock() - s.start, 1e-9)
        generated = s.tokens + s.aborted_tokens
        wasted = sum(g.tokens for g in given_back) + s.aborted_tokens
        kept_tokens = sum(g.tokens for g in s.kept)
        return {
            "groups/generated": len(s.groups), "groups/kept": len(s.kept), "groups/filtered": used - len(s.kept),
            "groups/surplus": s.head - used,          # judged after the batch's last group
            "groups/aborted": len(s.groups) - s.head,                             # stopped before being judged
            "frac_reward_zero_std": (used - len(s.kept)) / max(used, 1),
            "tokens/generated": generated, "tokens/kept": kept_tokens, "tokens/filtered": generated - wasted
            - kept_tokens, "tokens/wasted": wasted, "sample_waste_ratio": wasted / max(generated, 1),
            **reward_metrics(s.groups[:used], self.pool),
            "reward/latency_mean_s": sum(s.latencies) / max(len(s.latencies), 1),
            "reward/latency_max_s": max(s.latencies, default=0.0),
            "prompts/skipped_too_long": self.skipped_long,
            # the engine's own busy time: the loop's time inside engine.step()
            "engine/steps": s.steps, "engine/busy_s": s.busy, "engine/idle_frac": max(0.0, 1 - s.busy / wall),
            "engine/slot_occupancy": s.slot_time / (self.capacity * wall),
            "timing/gen": s.busy, "timing/reward_wait": s.reward_wait, "timing/collect": wall,
            "short_of_batch": s.need - len(s.kept),
        }
