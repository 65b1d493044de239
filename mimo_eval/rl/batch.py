"""Groups of rollouts -> padded training tensors.

Each sequence is prompt + completion, right-padded. Position t of the [N, T-1] tensors scores token t+1, so a
completion of length C after a prompt of length P occupies positions P-1 .. P+C-2. Masked rollouts (score None)
get no tokens in the mask and advantage 0: they neither count in the token total nor move the policy.
"""
from __future__ import annotations

from typing import Sequence

import torch

from mimo_eval.rl.algo import group_advantages


def build_batch(groups: Sequence, pad_id: int, scale: str) -> dict[str, torch.Tensor]:
    scores = torch.tensor([[s if s is not None else 0.0 for s in g.scores] for g in groups])   # [N_g, G]
    valid = torch.tensor([[s is not None for s in g.scores] for g in groups])                   # [N_g, G]
    adv = group_advantages(scores, valid, scale).flatten()                                      # [N]
    seqs = [(g.prompt_ids, r.completion_ids) for g in groups for r in g.rollouts]
    width = max(len(p) + len(c) for p, c in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)                              # [N, T]
    attn = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width - 1))                                                  # [N, T-1]
    for i, (prompt, completion) in enumerate(seqs):
        n = len(prompt) + len(completion)
        ids[i, :n] = torch.tensor(list(prompt) + list(completion))
        attn[i, :n] = 1
        mask[i, len(prompt) - 1:n - 1] = 1.0
    mask *= valid.flatten().unsqueeze(1).to(mask.dtype)
    return {"input_ids": ids, "attention_mask": attn, "mask": mask, "advantages": adv}


def micro_slices(rows: range, size: int) -> list[slice]:
    return [slice(s, min(s + size, rows.stop)) for s in range(rows.start, rows.stop, size)]
