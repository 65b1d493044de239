"""TRL `GRPOTrainer`: our reward in `reward_funcs` (TRL 1.16.0's call site: `_calculate_rewards` in
trl/trainer/grpo_trainer.py calls `reward_func(prompts=, completions=, completion_ids=, **reward_kwargs)`,
with every dataset column except "prompt" in reward_kwargs, plus trainer_state, log_extra and log_metric).

    from graders.rewards.trl import reward, make_reward
    GRPOTrainer(..., reward_funcs=[reward])                                  # math, gold in "ground_truth"
    GRPOTrainer(..., reward_funcs=[make_reward("answer", kind="code")])      # another column, code

The grader is the dataset's `data_source` column when there is one (`graders.rewards.routing`), else the
factory's `kind`; a "reward_options" column gives per-row options. Math's `thinking_opened` (the prompt ended
inside an open `<think>`, as R1-distill and QwQ templates render it, so a completion without `</think>` is
unfinished thinking and scores 0) comes from a "thinking_opened" column, else `make_reward(thinking_opened=...)`,
else, for a dataset of plain-text prompts, from the prompt itself (`graders.math.thinking.opens_thinking`). TRL
passes conversational prompts as messages, unrendered: a template that opens the thinking needs the keyword. An undecided sample returns None, which
TRL turns into NaN and leaves out of the group's baseline (its advantage is 0); the share of masked samples
is logged through `log_metric` as "<name>/masked". `make_reward` returns a plain object of a module-level
class, so it pickles (TRL's AsyncGRPOTrainer runs rewards in another process); `asynchronous=True` gives
an `async def __call__`, which TRL runs under asyncio.gather.
"""
from __future__ import annotations

from typing import Any, Mapping

from graders.math.thinking import opens_thinking
from graders.rewards._common import check_settings, completion_text, math_options, pool_from
from graders.rewards.routing import KINDS, kind_for
from graders.rewards.types import RewardResult


class TRLReward:
    def __init__(self, column: str = "ground_truth", *, kind: str = "math", name: str = "mimo_reward",
                 options: Mapping | None = None, thinking_opened: bool | None = None, **pool_settings):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        check_settings(pool_settings)  # a typo fails when the trainer is built, not at step 1
        self.column, self.kind, self.__name__ = column, kind, name
        self.options, self.pool_settings = dict(options or {}), dict(pool_settings)
        self.thinking_opened = thinking_opened

    def _calls(self, prompts: list | None, completions: list, kwargs: dict) -> list[tuple]:
        if self.column not in kwargs:
            raise KeyError(f"{self.__name__}: the dataset has no {self.column!r} column (columns: "
                           f"{sorted(k for k in kwargs if k not in ('trainer_state', 'log_extra', 'log_metric'))}); "
                           f"pass make_reward(column=...)")
        references, n = kwargs[self.column], len(completions)
        sources = kwargs.get("data_source") or [None] * n
        row_options = kwargs.get("reward_options") or [None] * n
        opened = kwargs.get("thinking_opened") or [self._opened(p) for p in (prompts or [None] * n)]
        calls = []
        for c, ref, s, o, t in zip(completions, references, sources, row_options, opened):
            kind = kind_for(s) if s is not None else self.kind
            calls.append((kind, completion_text(c), ref, math_options(kind, {**self.options, **(o or {})}, t)))
        return calls

    def _opened(self, prompt: Any) -> bool | None:
        if self.thinking_opened is not None or not isinstance(prompt, str):
            return self.thinking_opened
        return opens_thinking(prompt)

    def _finish(self, results: list[RewardResult], kwargs: dict) -> list[float | None]:
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and results:
            decided = [r for r in results if not r.masked]
            log_metric(f"{self.__name__}/masked", sum(r.masked for r in results) / len(results))
            log_metric(f"{self.__name__}/timeouts", float(sum(r.timed_out for r in results)))
            if decided:
                log_metric(f"{self.__name__}/accuracy", sum(bool(r.correct) for r in decided) / len(decided))
        return [r.score for r in results]

    def __call__(self, prompts: list, completions: list, completion_ids=None, **kwargs) -> list[float | None]:
        pool = pool_from(self.pool_settings)
        return self._finish(pool.score_many(self._calls(prompts, completions, kwargs)), kwargs)


class AsyncTRLReward(TRLReward):
    async def __call__(self, prompts: list, completions: list, completion_ids=None, **kwargs) -> list[float | None]:
        import asyncio

        pool = pool_from(self.pool_settings)
        results = await asyncio.gather(*(pool.ascore(*call) for call in self._calls(prompts, completions, kwargs)))
        return self._finish(list(results), kwargs)


def make_reward(column: str = "ground_truth", *, kind: str = "math", name: str = "mimo_reward",
                asynchronous: bool = False, options: Mapping | None = None, thinking_opened: bool | None = None,
                **pool_settings) -> TRLReward:
    """A reward function for `reward_funcs`; pool_settings: workers, timeout_s, backend, sandbox, code_mode;
    thinking_opened: True when the chat template ends the prompt inside an open `<think>` (None: see above)."""
    cls = AsyncTRLReward if asynchronous else TRLReward
    return cls(column, kind=kind, name=name, options=options, thinking_opened=thinking_opened, **pool_settings)


_default = TRLReward()
_default_async = AsyncTRLReward(name="mimo_reward_async")


def reward(prompts: list, completions: list, completion_ids=None, **kwargs) -> list[float | None]:
    """Math (or the row's data_source), the gold answer in the "ground_truth" column."""
    return _default(prompts, completions, completion_ids, **kwargs)


async def areward(prompts: list, completions: list, completion_ids=None, **kwargs) -> list[float | None]:
    return await _default_async(prompts, completions, completion_ids, **kwargs)
