"""Seeded tensors shared by exact_verl.py and exact_trl.py: rollout scores in groups, and per-token log-probs whose
ratios reach every clip region (below 1 - 0.2, above 1 + 0.28, and above the dual-clip bound 3 with A < 0)."""
from __future__ import annotations

import torch

EPS_LOW, EPS_HIGH = 0.2, 0.28


def scores(seed: int = 0) -> torch.Tensor:
    """[6 groups, 8]: binary outcomes, one constant group, one of soft (fractional) code rewards."""
    g = torch.Generator().manual_seed(seed)
    s = (torch.rand(6, 8, generator=g) < 0.4).float()
    s[1] = 1.0
    s[4] = torch.rand(8, generator=g)
    return s


def losses(seed: int = 0, *, fully_masked_row: bool = True) -> tuple[torch.Tensor, ...]:
    """logp, old_logp, mask: [16, 12]; advantages: [16]. Responses of 1-12 tokens (row 3 has none when asked)."""
    g = torch.Generator().manual_seed(seed)
    logp = -torch.rand(16, 12, generator=g) * 3
    old = logp + torch.randn(16, 12, generator=g) * 0.8          # ratios from ~0.1 to ~10
    adv = torch.randn(16, generator=g)
    lengths = torch.randint(1, 13, (16,), generator=g)
    if fully_masked_row:
        lengths[3] = 0
    mask = (torch.arange(12).unsqueeze(0) < lengths.unsqueeze(1)).float()
    return logp, old, adv, mask


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.detach().double() - b.detach().double()).abs().max())
