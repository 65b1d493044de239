"""Our GRPO advantages and policy loss (mimo_eval/rl/algo.py) against verl 0.9.1's own `core_algos`, on the same
tensors; run INSIDE .venvs/verl by tests/test_rl_exactness.py, or by hand:

    PYTHONPATH=. .venvs/verl/bin/python tests/frameworks/exact_verl.py      # prints {case: max abs diff} as JSON

Cases: `compute_grpo_outcome_advantage` with and without std scaling; `compute_policy_loss_vanilla` (values and
gradients) for token-mean and seq-mean-token-mean, with a fully masked row, without dual clip (ours off, verl's
clip_ratio_c at the export's 1e9) and with it (both 3.0); and gradient accumulation over two micro-batches with
verl's global batch info (batch_num_tokens, global_batch_size).
"""
from __future__ import annotations

import json

import numpy as np
import torch
from verl.trainer.ppo import core_algos
from verl.workers.config import ActorConfig

import exact_cases as cases
from mimo_eval.rl import algo
from mimo_eval.rl.export import NO_DUAL_CLIP


def advantages() -> dict[str, float]:
    out = {}
    s = cases.scores()
    n, g = s.shape
    rewards = torch.zeros(n * g, 5)
    rewards[:, -1] = s.flatten()                       # verl: the outcome reward sits on the last token
    for scale in ("group", "none"):
        ours = algo.group_advantages(s, torch.ones_like(s, dtype=torch.bool), scale).flatten()
        theirs, _ = core_algos.compute_grpo_outcome_advantage(rewards, torch.ones(n * g, 5), np.repeat(np.arange(n), g),
                                                              norm_adv_by_std_in_grpo=scale == "group")
        out[f"advantages/{scale}"] = cases.max_diff(ours, theirs[:, 0])
    return out


def _verl(logp, old, adv, mask, agg: str, c: float, **batch_info):
    config = ActorConfig(strategy="fsdp", rollout_n=8, ppo_mini_batch_size=16, ppo_micro_batch_size_per_gpu=1,
                         clip_ratio_low=cases.EPS_LOW, clip_ratio_high=cases.EPS_HIGH, clip_ratio_c=c,
                         loss_agg_mode=agg)
    config.global_batch_info.update(batch_info)
    loss, _ = core_algos.compute_policy_loss_vanilla(old, logp, adv.unsqueeze(1).expand_as(logp), mask, agg, config)
    return loss


def policy_losses() -> dict[str, float]:
    out = {}
    logp, old, adv, mask = cases.losses()
    for agg in ("token-mean", "seq-mean-token-mean"):
        for dual in (None, 3.0):
            a, b = logp.clone().requires_grad_(), logp.clone().requires_grad_()
            ours, _ = algo.policy_loss(a, old, adv, mask, eps_low=cases.EPS_LOW, eps_high=cases.EPS_HIGH,
                                       loss_agg=agg, dual_clip=dual)
            theirs = _verl(b, old, adv, mask, agg, dual if dual is not None else NO_DUAL_CLIP)
            ours.backward()
            theirs.backward()
            name = f"loss/{agg}/dual_clip={dual}"
            out[name] = cases.max_diff(ours, theirs)
            out[name.replace("loss/", "grad/")] = cases.max_diff(a.grad, b.grad)
    return out


def accumulation() -> dict[str, float]:
    """Two micro-batches, each normalised by the whole mini-batch's totals, summed: ours and verl's."""
    logp, old, adv, mask = cases.losses()
    out = {}
    for agg in ("token-mean", "seq-mean-token-mean"):
        tokens, seqs = float(mask.sum()), float((mask.sum(1) > 0).sum())
        ours = sum(algo.policy_loss(logp[s], old[s], adv[s], mask[s], eps_low=cases.EPS_LOW, eps_high=cases.EPS_HIGH,
                                    loss_agg=agg, total_tokens=tokens, total_seqs=seqs)[0]
                   for s in (slice(0, 7), slice(7, 16)))
        theirs = sum(_verl(logp[s], old[s], adv[s], mask[s], agg, NO_DUAL_CLIP, batch_num_tokens=tokens,
                           global_batch_size=seqs) for s in (slice(0, 7), slice(7, 16)))
        out[f"accumulated/{agg}"] = cases.max_diff(ours, theirs)
    return out


if __name__ == "__main__":
    import verl

    print(json.dumps({"framework": f"verl {verl.__version__}", **advantages(), **policy_losses(), **accumulation()}))
