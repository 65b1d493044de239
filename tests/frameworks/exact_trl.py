"""Our policy loss (mimo_eval/rl/algo.py) against TRL 1.16.0's own `GRPOTrainer._compute_loss`, on the same
tensors; run INSIDE .venvs/trl by tests/test_rl_exactness.py, or by hand:

    PYTHONPATH=. .venvs/trl/bin/python tests/frameworks/exact_trl.py       # prints {case: max abs diff} as JSON

TRL's method runs unchanged on an object holding the attributes it reads; the model forward it would call
(`_get_per_token_logps_and_entropies`) returns the case's log-probs instead, and a real single-process
`accelerate.Accelerator` serves its metric gathering. Cases (values and gradients): "dapo" and "bnpo" against our
token-mean, "grpo" against our seq-mean-token-mean (no fully masked row: TRL's "grpo" averages over every row),
and "dapo" with steps_per_generation 2 against our token-mean scaled by this update's tokens over the average per
update: the documented difference between TRL's normaliser and ours when several updates share a rollout batch.
"""
from __future__ import annotations

import json
from collections import defaultdict
from types import SimpleNamespace

import torch
from accelerate import Accelerator
from trl import GRPOTrainer

import exact_cases as cases
from mimo_eval.rl import algo


class TRLLoss:
    """The state GRPOTrainer._compute_loss reads, with GRPOConfig's defaults for everything not under test."""
    _compute_loss = GRPOTrainer._compute_loss

    def __init__(self, loss_type: str, logp: torch.Tensor, steps_per_generation: int = 1):
        self.loss_type, self.epsilon_low, self.epsilon_high, self.beta = loss_type, cases.EPS_LOW, cases.EPS_HIGH, 0.0
        self.top_entropy_quantile, self.off_policy_mask_threshold, self.importance_sampling_level = 1.0, None, "token"
        self.use_vllm, self.aux_loss_enabled, self._entropy_bonus_enabled = False, False, False
        self.current_gradient_accumulation_steps = 1
        self.args = SimpleNamespace(delta=None, steps_per_generation=steps_per_generation)
        self.model = torch.nn.Linear(1, 1).train()
        self.accelerator = Accelerator(cpu=True)
        self._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
        self._logp = logp

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, **kwargs):
        return self._logp, torch.zeros_like(self._logp), None

    def __call__(self, old, adv, mask, num_items_in_batch: float):
        inputs = {"prompt_ids": torch.zeros(len(adv), 1, dtype=torch.long), "prompt_mask": torch.ones(len(adv), 1),
                  "completion_ids": torch.zeros(mask.shape, dtype=torch.long), "completion_mask": mask,
                  "advantages": adv, "old_per_token_logps": old, "num_items_in_batch": torch.tensor(num_items_in_batch)}
        return self._compute_loss(self.model, inputs)


def compare(trl_type: str, ours_agg: str, rows: slice = slice(None), steps_per_generation: int = 1) -> tuple:
    logp, old, adv, mask = cases.losses(fully_masked_row=False)
    a, b = logp[rows].clone().requires_grad_(), logp[rows].clone().requires_grad_()
    ours, _ = algo.policy_loss(a, old[rows], adv[rows], mask[rows], eps_low=cases.EPS_LOW, eps_high=cases.EPS_HIGH,
                               loss_agg=ours_agg)
    if steps_per_generation > 1:   # TRL divides by the average tokens per update, ours by this update's own
        ours = ours * float(mask[rows].sum()) / (float(mask.sum()) / steps_per_generation)
    theirs = TRLLoss(trl_type, b, steps_per_generation)(old[rows], adv[rows], mask[rows], float(mask.sum()))
    ours.backward()
    theirs.backward()
    return cases.max_diff(ours, theirs), cases.max_diff(a.grad, b.grad)


if __name__ == "__main__":
    import trl

    out = {"framework": f"trl {trl.__version__}"}
    for trl_type, agg in (("dapo", "token-mean"), ("bnpo", "token-mean"), ("grpo", "seq-mean-token-mean")):
        out[f"loss/{trl_type}"], out[f"grad/{trl_type}"] = compare(trl_type, agg)
    out["loss/dapo/steps_per_generation=2"], out["grad/dapo/steps_per_generation=2"] = compare(
        "dapo", "token-mean", slice(0, 7), steps_per_generation=2)
    print(json.dumps(out))
