"""Rollout scheduling: the types both schedulers share, and the chunked scheduler of the `hf` engine.

The `vllm` engine runs the continuous scheduler of `stream.py` (one request per sequence, rewards as each sample
finishes, FIFO early termination that aborts). The `hf` engine cannot: transformers' `generate` is one blocking
call per batch that returns when its longest sequence ends. It keeps this simple synchronous path:

- Chunks: prompts go out `chunk` at a time in one `generate` call; another chunk is launched while the groups in
  flight are not expected to fill the batch (kept + p_valid * in_flight < need, p_valid the run's observed
  fraction of kept groups).
- Rewards: a chunk's rollouts are submitted to the reward pool when the call returns, and are computed while the
  next chunk generates (one chunk deep); before each new launch the scheduler waits for the chunks before the last
  one. The launch decisions, and so the whole run, are reproducible: a CPU run resumed after kill -9 gives the
  same losses.
- Dynamic sampling (MiMo §3.3): a group whose scored rollouts all got the same score (pass rate 0 or 1) has zero
  advantage and is dropped; masked rollouts (score None: timeout, infrastructure) count for nothing.
- Groups are judged in launch order; the step stops once `need` groups are kept. Chunks already generated past
  that point are dropped (their rollouts counted as waste) and their queued reward calls cancelled: nothing is
  aborted mid-generation, which only the per-sequence engine can do.
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


class StreamingEngine(Protocol):
    """An engine that runs one request per sequence and is stepped by its caller (the continuous scheduler)."""
    capacity: int                        # sequences it runs at once; more wait in its queue

    def launch(self, prompt: Sequence[int], n: int) -> list[str]:
        """Add n requests for one prompt (one group), each with its own seed; returns their request ids."""

    def step(self) -> list[tuple[str, Rollout]]:
        """One engine step; the sequences that finished in it."""

    def has_unfinished(self) -> bool: ...

    def abort(self, request_ids: Sequence[str]) -> int:
        """Stop these requests; returns the tokens they had generated (waste)."""


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
        self.take([result_of(f) for f in self.futures])
        return time.perf_counter() - start

    def take(self, results: Sequence) -> None:
        """The group's RewardResults, in sample order."""
        self.scores = [r.score for r in results]
        self.correct = [r.correct for r in results]
        self.reasons = [r.reason for r in results]

    @property
    def informative(self) -> bool:
        scored = [s for s in self.scores if s is not None]
        return len(scored) >= 2 and max(scored) != min(scored)

    @property
    def solved_by_all(self) -> bool:
        return all(c is True for c in self.correct)

    @property
    def tokens(self) -> int:
        return sum(len(r.completion_ids) for r in self.rollouts if r is not None)


@dataclass
class Collected:
    groups: list[Group]
    metrics: dict[str, float]


class Sampler:
    """What both schedulers share: drawing problems (easy pool, cursor, over-long prompts skipped and counted),
    submitting a rollout's reward with the problem's options, judging a group (dynamic sampling), and the run
    totals that size launches."""

    def __init__(self, *, rewards: RewardSubmitter, problems: Sequence[Problem],
                 encode: Callable[[Problem], Sequence[int] | None], kind_for: Callable[[str], str],
                 cursor: PromptCursor, pool: EasyPool, group_size: int, max_gen_rounds: int,
                 dynamic_sampling: bool = True, reward_options: Mapping | None = None, thinking_opened: bool = False):
        self.rewards, self.problems, self.encode = rewards, problems, encode
        self.kind_for, self.cursor, self.pool = kind_for, cursor, pool
        self.group_size, self.max_gen_rounds = group_size, max_gen_rounds
        self.dynamic_sampling, self.reward_options = dynamic_sampling, dict(reward_options or {})
        self.thinking_opened = thinking_opened   # the template ends the prompt inside <think>: math rewards must know
        self.judged, self.kept_total = 0, 0     # run totals: the kept fraction that sizes launches
        self.skipped_long = 0
        self._seq = 0

    def p_valid(self, kept: int = 0, judged: int = 0) -> float:
        """The expected kept fraction: the run's so far (plus this step's), with a uniform prior."""
        return (self.kept_total + kept + 1) / (self.judged + judged + 2)

    def draw(self) -> tuple[Problem, bool, tuple[int, ...]]:
        """The next problem whose prompt fits max_prompt_tokens; longer ones are skipped and counted."""
        for _ in range(2 * len(self.problems) + 1):
            index, from_pool = self.pool.draw(self.cursor)
            prompt = self.encode(self.problems[index])
            if prompt is not None:
                return self.problems[index], from_pool, tuple(prompt)
            self.skipped_long += 1
        raise DataError(f"no prompt fits max_prompt_tokens in {2 * len(self.problems) + 1} draws: raise it")

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq - 1

    def submit(self, problem: Problem, rollout: Rollout) -> Future:
        # a row's extra_info.reward_options (e.g. code tiers) override the run's, as the verl adapter reads them
        kind = self.kind_for(problem.data_source)
        opened = {"thinking_opened": True} if kind == "math" and self.thinking_opened else {}
        options = {**opened, **self.reward_options, **(problem.extra_info.get("reward_options") or {})} or None
        return self.rewards.submit(kind, rollout.text, problem.ground_truth, options)

    def keeps(self, group: Group) -> bool:
        return group.informative or (not self.dynamic_sampling and any(s is not None for s in group.scores))

    def state_dict(self) -> dict:
        return {"judged": self.judged, "kept_total": self.kept_total, "seq": self._seq}

    def load_state_dict(self, state: Mapping) -> None:
        self.judged, self.kept_total, self._seq = state["judged"], state["kept_total"], state["seq"]


class ChunkedScheduler(Sampler):
    def __init__(self, *, engine: RolloutEngine, chunk: int, **common):
        super().__init__(**common)
        self.engine, self.chunk = engine, chunk

    def collect(self, need: int) -> Collected:
        m = {"gen_s": 0.0, "reward_wait_s": 0.0, "rounds": 0}
        self.skipped_long = 0
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
        draws = [self.draw() for _ in range(self.chunk)]
        t0 = time.perf_counter()
        outputs = self.engine.generate([prompt for _, _, prompt in draws], self.group_size)
        m["gen_s"] += time.perf_counter() - t0
        m["rounds"] += 1
        return [Group(self.next_seq(), problem, prompt, from_pool, list(rollouts),
                      [self.submit(problem, r) for r in rollouts])
                for (problem, from_pool, prompt), rollouts in zip(draws, outputs)]

    def _judge(self, group: Group, kept: list[Group], judged: list[Group], m: dict) -> None:
        m["reward_wait_s"] += group.resolve()
        judged.append(group)
        self.judged += 1
        self.pool.record(group.problem.index, group.from_pool, solved_by_all=group.solved_by_all,
                         scores=group.scores)
        if self.keeps(group):
            kept.append(group)
            self.kept_total += 1

    def _metrics(self, m: dict, kept: list[Group], judged: list[Group], dropped: deque, need: int,
                 total_s: float) -> dict[str, float]:
        for group in dropped:  # generated after the batch was decided: their queued reward calls are cancelled
            for f in group.futures:
                f.cancel()
        generated = sum(g.tokens for g in judged) + sum(g.tokens for g in dropped)
        wasted = sum(g.tokens for g in dropped)
        return {
            "num_gen_rounds": m["rounds"], "groups/generated": len(judged) + len(dropped), "groups/kept": len(kept),
            "groups/filtered": len(judged) - len(kept), "groups/surplus": len(dropped),
            "frac_reward_zero_std": (len(judged) - len(kept)) / max(len(judged), 1),
            "tokens/generated": generated, "tokens/wasted": wasted,
            # generated but neither trained on nor needed to find the informative groups
            "sample_waste_ratio": wasted / max(generated, 1),
            **reward_metrics(judged, self.pool),
            "prompts/skipped_too_long": self.skipped_long,
            "timing/gen": m["gen_s"], "timing/reward_wait": m["reward_wait_s"], "timing/collect": total_s,
            "short_of_batch": need - len(kept),
        }


def reward_metrics(judged: Sequence[Group], pool: EasyPool) -> dict[str, float]:
    """Rewards of every judged group (not only the kept, mixed ones), and the easy pool's counters."""
    reasons = [r for grp in judged for r in grp.reasons]
    scores = [s for grp in judged for s in grp.scores]
    scored = [s for s in scores if s is not None]
    return {
        **pool.metrics(),  # easy_pool/*, reward/fresh_mean, reward/pool_mean
        "reward/mean": _mean(scored), "reward/std": _std(scored),   # fresh and pool draws together
        "reward/masked": sum(s is None for s in scores), "reward/timeouts": reasons.count("timeout"),
        "reward/too_costly": reasons.count("response_too_costly"),   # a 0 the response earned by its cost
        "reward/infra_errors": reasons.count("infra_error"),
    }


def result_of(future: Future):
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
