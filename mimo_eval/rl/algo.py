"""GRPO as MiMo-7B trains it (arXiv 2505.07608 §3.3, Eq. 1 and 2), on padded [B, T] tensors.

Departures and choices, all deliberate:
- eps_low / eps_high default to DAPO's 0.2 / 0.28: MiMo states clip-higher but publishes no values.
- The group std is the unbiased one (torch's default), as TRL and verl compute it; 1e-6 keeps a constant group
  finite, and its advantage is exactly 0 because r - mean is 0.
- Masked samples (a reward the grader could not decide, score None) carry no advantage and no loss tokens; they
  are also left out of their group's mean and std.
- token-mean divides by the token count of the whole mini-batch, passed in, so gradient accumulation over
  micro-batches sums to exactly the single-batch loss (the bug TRL and verl both fixed once).
- No KL term unless beta > 0 (MiMo removes it); then the k3 estimator against a frozen reference, as verl's
  "low_var_kl" and TRL do.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


def group_advantages(scores: torch.Tensor, valid: torch.Tensor, scale: str = "group") -> torch.Tensor:
    """scores, valid: [N_groups, G]; advantage A_i = (r_i - mean) / std over the group's valid samples (Eq. 2)."""
    valid = valid.to(scores.dtype)
    n = valid.sum(dim=1, keepdim=True).clamp(min=1)                              # [N, 1]
    mean = (scores * valid).sum(dim=1, keepdim=True) / n                        # [N, 1]
    centred = (scores - mean) * valid                                           # [N, G]
    if scale == "none":
        return centred
    var = (centred ** 2).sum(dim=1, keepdim=True) / (n - 1).clamp(min=1)        # unbiased, as torch.std
    return centred / (var.sqrt() + 1e-6)


@dataclass
class LossStats:
    clip_low: float       # fraction of loss tokens where the lower bound (A < 0, ratio < 1 - eps_low) binds
    clip_high: float      # fraction where the upper bound (A > 0, ratio > 1 + eps_high) binds
    kl: float


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, *,
                eps_low: float, eps_high: float, loss_agg: str = "token-mean", total_tokens: float | None = None,
                total_seqs: float | None = None, beta: float = 0.0, ref_logp: torch.Tensor | None = None,
                dual_clip: float | None = None) -> tuple[torch.Tensor, LossStats]:
    """logp, old_logp, ref_logp, mask: [B, T] over response tokens; advantages: [B].

    token-mean: sum over tokens / total_tokens (Eq. 1's 1/sum len(o_i)); seq-mean-token-mean: mean over each
    sequence, then sum / total_seqs. The totals are the whole mini-batch's, given by the caller when it
    accumulates gradients over micro-batches; by default this batch's own."""
    mask = mask.to(logp.dtype)
    ratio = torch.exp(logp - old_logp)                                          # [B, T]
    adv = advantages.unsqueeze(1)                                               # [B, 1]
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1 - eps_low, 1 + eps_high) * adv
    per_token = -torch.minimum(unclipped, clipped)                              # [B, T]
    if dual_clip is not None:  # A < 0: the loss is at most -c * A however far the ratio has grown
        per_token = torch.where(adv < 0, torch.minimum(per_token, -dual_clip * adv), per_token)
    kl = torch.zeros((), dtype=logp.dtype)
    if beta > 0:
        if ref_logp is None:
            raise ValueError("beta > 0 needs ref_logp (the frozen reference model's log-probs)")
        log_ref_ratio = ref_logp - logp
        kl_tok = torch.exp(log_ref_ratio) - log_ref_ratio - 1                  # k3, >= 0  [B, T]
        per_token = per_token + beta * kl_tok
        kl = (kl_tok * mask).sum() / mask.sum().clamp(min=1)
    loss = _aggregate(per_token, mask, loss_agg, total_tokens, total_seqs)
    with torch.no_grad():
        n = mask.sum().clamp(min=1)
        low = ((ratio < 1 - eps_low) & (adv < 0)).to(mask.dtype)
        high = ((ratio > 1 + eps_high) & (adv > 0)).to(mask.dtype)
        stats = LossStats(float((low * mask).sum() / n), float((high * mask).sum() / n), float(kl))
    return loss, stats


def _aggregate(per_token: torch.Tensor, mask: torch.Tensor, loss_agg: str, total_tokens: float | None,
               total_seqs: float | None) -> torch.Tensor:
    if loss_agg == "token-mean":
        denom = total_tokens if total_tokens is not None else mask.sum().clamp(min=1)
        return (per_token * mask).sum() / denom
    if loss_agg == "seq-mean-token-mean":
        per_seq = (per_token * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)  # [B]
        denom = total_seqs if total_seqs is not None else (mask.sum(dim=1) > 0).sum().clamp(min=1)
        return per_seq.sum() / denom
    raise ValueError(f"loss_agg must be token-mean or seq-mean-token-mean, got {loss_agg!r}")


def response_logprobs(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, mask: torch.Tensor, *,
                      temperature: float = 1.0, chunk: int = 1024, with_entropy: bool = False,
                      ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-prob of each response token under `model`, and its entropy: [B, T-1], position t scoring token t+1,
    0 where mask is 0 (prompt, padding, masked samples: never computed).

    The decoder runs once over the whole sequence; the LM head and the fp32 log-softmax only over the positions
    in `mask`, `chunk` tokens at a time, each chunk recomputed in backward (activation checkpointing), so peak
    memory holds one [chunk, V] block instead of [B, T, V]. Logits are divided by the sampling temperature, so the
    ratio compares the distributions that were sampled. Needs a plain LM head (Llama, Qwen, MiMo); a model that
    rescales logits after the head (Gemma 2's soft-capping) would need that step here."""
    from torch.utils.checkpoint import checkpoint

    hidden = model.get_decoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # [B, T, H]
    head = model.get_output_embeddings()
    chosen = mask > 0                                                                         # [B, T-1]
    h = hidden[:, :-1][chosen]                                                                # [N, H]
    targets = input_ids[:, 1:][chosen]                                                        # [N]
    logps, entropies = [], []
    for s in range(0, h.shape[0], chunk):
        args = (head, h[s:s + chunk], targets[s:s + chunk], temperature, with_entropy)
        logp, ent = checkpoint(_head_logp, *args, use_reentrant=False) if torch.is_grad_enabled() \
            else _head_logp(*args)
        logps.append(logp)
        entropies.append(ent)
    flat = torch.cat(logps) if logps else h.new_zeros(0, dtype=torch.float32)
    logp = flat.new_zeros(chosen.shape).masked_scatter(chosen, flat)                          # [B, T-1]
    entropy = None
    if with_entropy:
        flat_ent = torch.cat(entropies) if entropies else flat.detach()
        entropy = flat_ent.new_zeros(chosen.shape).masked_scatter(chosen, flat_ent)
    return logp, entropy


def _head_logp(head, h: torch.Tensor, targets: torch.Tensor, temperature: float, with_entropy: bool):
    logits = head(h).float() / temperature                                                    # [n, V]
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = torch.gather(logp_all, 1, targets.unsqueeze(1)).squeeze(1)                         # [n]
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = -(logp_all.exp() * logp_all).sum(-1)                                    # [n]
    return logp, entropy
