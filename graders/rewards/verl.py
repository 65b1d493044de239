"""verl: our reward as `custom_reward_function` (verl 0.9.1's call sites, read from its source).

    reward.custom_reward_function.path=pkg://graders.rewards.verl     # verl 0.9.1 (the legacy top-level
    reward.custom_reward_function.name=compute_score        # custom_reward_function.* is moved here by verl)
    # naive, dapo, prime and the reward loop call compute_score; the reward loop awaits acompute_score;
    # reward.reward_manager.name=batch calls compute_score_batch
    +reward.custom_reward_function.reward_kwargs.workers=8   # pool settings: workers, timeout_s, backend, sandbox, code_mode

The grader follows `data_source` (`graders.rewards.routing`); `extra_info["reward_options"]` (a dict) gives
one sample's options, e.g. {"reward": "strict", "tiers": [0, 0, 1, 2]}. Every call returns a dict with
the same keys (`KEYS`), because verl appends each key to a per-sample list. verl cannot leave a sample
out, so an undecided one (timeout, sandbox down, unparseable reference) gets score 0.0 with masked=1:
watch the mean of `masked` in the logs; a rising value means rewards are being lost, not earned.
The prime manager calls compute_score in up to 64 processes, each then starting its own pool: give it
reward_kwargs.workers=1 there.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from graders.rewards._common import pool_from
from graders.rewards.routing import kind_for
from graders.rewards.types import RewardResult

KEYS = ("score", "acc", "reason", "timed_out", "masked", "latency_s")
# Passed by some verl paths (the default registry's signature, GenRM reward loops); not ours to use.
VERL_EXTRAS = frozenset({"sandbox_fusion_url", "concurrent_semaphore", "memory_limit_mb",
                         "reward_router_address", "reward_model_tokenizer"})


def _call(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping | None) -> tuple:
    options = (extra_info or {}).get("reward_options") if isinstance(extra_info, Mapping) else None
    return kind_for(data_source), solution_str, ground_truth, options


def _settings(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if k not in VERL_EXTRAS}


def as_dict(result: RewardResult) -> dict:
    return {"score": 0.0 if result.score is None else float(result.score),
            "acc": 1.0 if result.correct else 0.0, "reason": result.reason,
            "timed_out": int(result.timed_out), "masked": int(result.masked),
            "latency_s": float(result.extra.get("latency_s", 0.0))}


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    pool = pool_from(_settings(kwargs))
    return as_dict(pool.score(*_call(data_source, solution_str, ground_truth, extra_info)))


async def acompute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    pool = pool_from(_settings(kwargs))
    return as_dict(await pool.ascore(*_call(data_source, solution_str, ground_truth, extra_info)))


def compute_score_batch(data_sources: Sequence, solution_strs: Sequence, ground_truths: Sequence,
                        extra_infos: Sequence | None = None, **kwargs) -> list[dict]:
    extra_infos = extra_infos if extra_infos is not None else [None] * len(data_sources)
    if not len(data_sources) == len(solution_strs) == len(ground_truths) == len(extra_infos):
        raise ValueError(f"batch lists differ in length: {len(data_sources)} data_sources, "
                         f"{len(solution_strs)} solution_strs, {len(ground_truths)} ground_truths, "
                         f"{len(extra_infos)} extra_infos")
    pool = pool_from(_settings(kwargs))
    calls = [_call(*row) for row in zip(data_sources, solution_strs, ground_truths, extra_infos)]
    return [as_dict(r) for r in pool.score_many(calls)]
