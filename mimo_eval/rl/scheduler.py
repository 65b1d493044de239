"""The rollout scheduler: MiMo's Seamless Rollout Engine (arXiv 2505.07608 §3.4) at the scale of one machine.

- Continuous rollout: prompts go out in chunks; a new chunk is launched while the groups in flight are not
  expected to fill the batch (kept + p_valid * in_flight < need, p_valid the run's observed fraction of kept
  groups), instead of over-sampling a whole batch at a time as naive dynamic sampling does.
- Asynchronous reward: every rollout is submitted to the reward pool (worker processes) as soon as its chunk is
  generated, and the next chunk is generated while those rewards compute. Before each new launch the scheduler
  waits only for the chunks before the last one; this keeps the overlap and makes the launch decisions, and so
  the whole run, reproducible.
- Dynamic sampling (§3.3): a group whose scored rollouts all got the same score (pass rate 0 or 1) has zero
  advantage and is dropped; masked rollouts (score None: timeout, infrastructure) count for nothing.
- FIFO early termination: groups are judged in launch order; the step stops once `need` groups are kept, which
  means every earlier-launched group has resolved. Groups launched after the last kept one are dropped (waste, as
  in MiMo's Table 2) and their queued reward calls cancelled; calls already running finish and are ignored.
- Prompts longer than max_prompt_tokens (the encoder returns None) are skipped and counted, never a crash.
- The easy pool (data.EasyPool) decides each draw and is told each judged group.
- A guard: at most `max_gen_rounds` generation calls per step (verl's max_num_gen_batches); then the step trains
  on the groups it has, with a warning.
Not Xiaomi's code (which is unpublished): the behaviour described in the report, re-implemented.
"""
from __future__ import annotations

import time
import warnings
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

from mimo_eval.rl.data import DataError, EasyPool, Problem, PromptCursor


@dataclass(frozen=True)
class Rollout:
    completion_ids: tuple[int, ...]
    text: str
    truncated: bool                     # hit max_new_tokens without an end-of-sequence token


class RolloutEngine(Protocol):
    def generate(self, prompts: Sequence[Sequence[int]], n: int) -> list[list[Rollout]]:
        """n rollouts for each prompt (token ids), in prompt order."""

    def sync_weights(self) -> None:
        """Make the next `generate` use the policy's current weights."""


class RewardSubmitter(Protocol):  # graders.rewards.RewardPool satisfies this
    def submit(self, kind: str, response: str, reference: Any, options: Mapping | None = None) -> Future: ...


@dataclass
class Group:
    seq: int                            # launch order, for the FIFO rule
    problem: Problem
    prompt_ids: tuple[int, ...]
    from_pool: bool
    rollouts: list[Rollout]
    futures: list[Future]
    scores: list[float | None] = field(default_factory=list)
    correct: list[bool | None] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def resolve(self) -> float:
        """Wait for this group's rewards; returns the seconds spent blocked."""
        start = time.perf_counter()
        results = [_result(f) for f in self.futures]
        self.scores = [r.score for r in results]
        self.correct = [r.correct for r in results]
        self.reasons = [r.reason for r in results]
        return time.perf_counter() - start

    @property
    def informative(self) -> bool:
        scored = [s for s in self.scores if s is not None]
        return len(scored) >= 2 and max(scored) != min(scored)

    @property
    def solved_by_all(self) -> bool:
        return all(c is True for c in self.correct)


@dataclass
class Collected:
    groups: list[Group]
    metrics: dict[str, float]


class SeamlessScheduler:
    def __init__(self, *, engine: RolloutEngine, rewards: RewardSubmitter, problems: Sequence[Problem],
                 encode: Callable[[Problem], Sequence[int]], kind_for: Callable[[str], str], cursor: PromptCursor,
                 pool: EasyPool, group_size: int, chunk: int, max_gen_rounds: int, dynamic_sampling: bool = True,
                 reward_options: Mapping | None = None, thinking_opened: bool = False):
        self.engine, self.rewards, self.problems, self.encode = engine, rewards, problems, encode
        self.kind_for, self.cursor, self.pool = kind_for, cursor, pool
        self.group_size, self.chunk, self.max_gen_rounds = group_size, chunk, max_gen_rounds
        self.dynamic_sampling, self.reward_options = dynamic_sampling, dict(reward_options or {})
        self.thinking_opened = thinking_opened   # the template ends the prompt inside <think>: math rewards must know
        self.judged, self.kept_total = 0, 0     # run totals: the kept fraction that sizes launches
        self._seq = 0

    def p_valid(self) -> float:
        return (self.kept_total + 1) / (self.judged + 2)

    def collect(self, need: int) -> Collected:
        m = {"gen_s": 0.0, "reward_wait_s": 0.0, "rounds": 0, "skipped_long": 0}
        start = time.perf_counter()
        pending: deque[Group] = deque()
        kept: list[Group] = []
        judged: list[Group] = []
        while len(kept) < need:
            expected = len(kept) + self.p_valid() * len(pending)
            if m["rounds"] < self.max_gen_rounds and (not pending or expected < need):
                last_chunk = self._launch(m)
                while len(pending) and len(kept) < need:  # everything before the chunk just launched
                    self._judge(pending.popleft(), kept, judged, m)
                pending.extend(last_chunk)
            elif pending:
                self._judge(pending.popleft(), kept, judged, m)
            else:
                warnings.warn(f"only {len(kept)} of {need} informative groups after {m['rounds']} generation "
                              "rounds (max_gen_rounds): training on those", stacklevel=2)
                break
        return Collected(kept, self._metrics(m, kept, judged, pending, need, time.perf_counter() - start))

    def _launch(self, m: dict) -> list[Group]:
        draws = [self._draw(m) for _ in range(self.chunk)]
        problems = [self.problems[i] for i, _, _ in draws]
        prompts = [prompt for _, _, prompt in draws]
        t0 = time.perf_counter()
        outputs = self.engine.generate(prompts, self.group_size)
        m["gen_s"] += time.perf_counter() - t0
        m["rounds"] += 1
        groups = []
        for problem, prompt, (_, from_pool, _), rollouts in zip(problems, prompts, draws, outputs):
            kind = self.kind_for(problem.data_source)
            # a row's extra_info.reward_options (e.g. code tiers) override the run's, as the verl adapter reads them
            opened = {"thinking_opened": True} if kind == "math" and self.thinking_opened else {}
            options = {**opened, **self.reward_options, **(problem.extra_info.get("reward_options") or {})} or None
            futures = [self.rewards.submit(kind, r.text, problem.ground_truth, options) for r in rollouts]
            groups.append(Group(self._seq, problem, prompt, from_pool, list(rollouts), futures))
            self._seq += 1
        return groups

    def _draw(self, m: dict) -> tuple[int, bool, tuple[int, ...]]:
        """The next problem whose prompt fits max_prompt_tokens; longer ones are skipped and counted."""
        for _ in range(2 * len(self.problems) + 1):
            index, from_pool = self.pool.draw(self.cursor)
            prompt = self.encode(self.problems[index])
            if prompt is not None:
                return index, from_pool, tuple(prompt)
            m["skipped_long"] += 1
        raise DataError(f"no prompt fits max_prompt_tokens in {2 * len(self.problems) + 1} draws: raise it")

    def _judge(self, group: Group, kept: list[Group], judged: list[Group], m: dict) -> None:
        m["reward_wait_s"] += group.resolve()
        judged.append(group)
        self.judged += 1
        self.pool.record(group.problem.index, group.from_pool, solved_by_all=group.solved_by_all,
                         scores=group.scores)
        if group.informative or (not self.dynamic_sampling and any(s is not None for s in group.scores)):
            kept.append(group)
            self.kept_total += 1

    def _metrics(self, m: dict, kept: list[Group], judged: list[Group], dropped: deque, need: int,
                 total_s: float) -> dict[str, float]:
        for group in dropped:  # FIFO early termination: launched after the last kept group
            for f in group.futures:
                f.cancel()
        g = self.group_size
        generated = g * (len(judged) + len(dropped))
        filtered = len(judged) - len(kept)  # kept is a subset of judged
        reasons = [r for grp in judged for r in grp.reasons]
        scores = [s for grp in judged for s in grp.scores]
        scored = [s for s in scores if s is not None]  # every judged rollout, not only the kept (mixed) groups
        return {
            "num_gen_rounds": m["rounds"], "groups/generated": len(judged) + len(dropped), "groups/kept": len(kept),
            "frac_reward_zero_std": filtered / max(len(judged), 1),
            # generated but neither trained on nor needed to find the informative groups: terminated rollouts
            "sample_waste_ratio": g * len(dropped) / max(generated, 1),
            **self.pool.metrics(),  # easy_pool/*, reward/fresh_mean, reward/pool_mean
            "reward/mean": _mean(scored), "reward/std": _std(scored),   # fresh and pool draws together
            "prompts/skipped_too_long": m["skipped_long"],
            "reward/masked": sum(s is None for s in scores), "reward/timeouts": reasons.count("timeout"),
            "reward/too_costly": reasons.count("response_too_costly"),   # a 0 the response earned by its cost
            "reward/infra_errors": reasons.count("infra_error"),
            "timing/gen": m["gen_s"], "timing/reward_wait": m["reward_wait_s"], "timing/collect": total_s,
            "short_of_batch": need - len(kept),
        }

    def state_dict(self) -> dict:
        return {"judged": self.judged, "kept_total": self.kept_total, "seq": self._seq}

    def load_state_dict(self, state: Mapping) -> None:
        self.judged, self.kept_total, self._seq = state["judged"], state["kept_total"], state["seq"]


def _result(future: Future):
    """A reward call that raised (a pool bug, not the response) is masked and said aloud, never scored."""
    from graders.rewards.types import RewardResult

    exc = future.exception()
    if exc is None:
        return future.result()
    warnings.warn(f"reward call failed, sample masked: {type(exc).__name__}: {exc}", stacklevel=3)
    return RewardResult(None, None, "infra_error", {"detail": f"{type(exc).__name__}: {exc}"[:300]})


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def _std(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return float("nan")
    mu = _mean(xs)
    return (sum((x - mu) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5
