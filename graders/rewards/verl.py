"""verl: our reward as `custom_reward_function` (verl 0.9.1's call sites, read from its source).

    reward.custom_reward_function.path=pkg://graders.rewards.verl     # verl 0.9.1 (the legacy top-level
    reward.custom_reward_function.name=compute_score        # custom_reward_function.* is moved here by verl)
    # naive, dapo and the reward loop call compute_score; the reward loop awaits acompute_score;
    # reward.reward_manager.name=batch calls compute_score_batch; name=prime needs compute_score_prime
    +reward.custom_reward_function.reward_kwargs.workers=8   # pool settings: workers, timeout_s, backend, sandbox, code_mode
    +reward.custom_reward_function.reward_kwargs.thinking_opened=true   # the chat template ends the prompt with <think>

The grader follows `data_source` (`graders.rewards.routing`); `extra_info["reward_options"]` (a dict) gives
one sample's options, e.g. {"reward": "strict", "tiers": [0, 0, 1, 2]}. `thinking_opened` (math): the prompt
ended inside an open thinking block (R1-distill and QwQ templates), so a response with no `</think>` is
unfinished thinking and scores 0; per run as a reward kwarg, per sample as `extra_info["thinking_opened"]`
(which wins). verl decodes the response alone, so the prompt's `<think>` is not in `solution_str`. Every call returns a dict with
the same keys (`KEYS`), because verl appends each key to a per-sample list. verl cannot leave a sample
out, so an undecided one (timeout, sandbox down, unparseable reference) gets score 0.0 with masked=1:
watch the mean of `masked` in the logs; a rising value means rewards are being lost, not earned.
The prime manager calls its function in up to 64 processes, each then starting its own pool: give it
reward_kwargs.workers=1 there. It takes `float(result[0])` of anything but a number and scores the whole
batch 0.0 when that raises (verl/workers/reward_manager/prime.py:80-88, :140-145), so it gets
`compute_score_prime` (a float; masked samples are an uncounted 0.0 there), and only through pkg://: a
function loaded from a file path cannot be pickled into its process pool, which also zeroes every sample.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from graders.rewards._common import math_options, pool_from
from graders.rewards.routing import kind_for
from graders.rewards.types import RewardResult

KEYS = ("score", "acc", "reason", "timed_out", "masked", "latency_s")
# Passed by some verl paths (the default registry's signature, GenRM reward loops); not ours to use.
VERL_EXTRAS = frozenset({"sandbox_fusion_url", "concurrent_semaphore", "memory_limit_mb",
                         "reward_router_address", "reward_model_tokenizer"})


def _call(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping | None,
          thinking_opened: bool | None = None) -> tuple:
    info = extra_info if isinstance(extra_info, Mapping) else {}
    kind = kind_for(data_source)
    opened = info.get("thinking_opened", thinking_opened)
    return kind, solution_str, ground_truth, math_options(kind, info.get("reward_options"), opened)


def _settings(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if k not in VERL_EXTRAS and k != "thinking_opened"}


def as_dict(result: RewardResult) -> dict:
    return {"score": 0.0 if result.score is None else float(result.score),
            "acc": 1.0 if result.correct else 0.0, "reason": result.reason,
            "timed_out": int(result.timed_out), "masked": int(result.masked),
            "latency_s": float(result.extra.get("latency_s", 0.0))}


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    pool = pool_from(_settings(kwargs))
    opened = kwargs.get("thinking_opened")
    return as_dict(pool.score(*_call(data_source, solution_str, ground_truth, extra_info, opened)))


async def acompute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    pool = pool_from(_settings(kwargs))
    opened = kwargs.get("thinking_opened")
    return as_dict(await pool.ascore(*_call(data_source, solution_str, ground_truth, extra_info, opened)))


def compute_score_batch(data_sources: Sequence, solution_strs: Sequence, ground_truths: Sequence,
                        extra_infos: Sequence | None = None, **kwargs) -> list[dict]:
    extra_infos = extra_infos if extra_infos is not None else [None] * len(data_sources)
    if not len(data_sources) == len(solution_strs) == len(ground_truths) == len(extra_infos):
        raise ValueError(f"batch lists differ in length: {len(data_sources)} data_sources, "
                         f"{len(solution_strs)} solution_strs, {len(ground_truths)} ground_truths, "
                         f"{len(extra_infos)} extra_infos")
    pool = pool_from(_settings(kwargs))
    opened = kwargs.get("thinking_opened")
    calls = [_call(*row, opened) for row in zip(data_sources, solution_strs, ground_truths, extra_infos)]
    return [as_dict(r) for r in pool.score_many(calls)]


def compute_score_prime(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> float:
    """verl's prime manager (positional call in a ProcessPool): the score alone, see the module docstring."""
    return compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs)["score"]
