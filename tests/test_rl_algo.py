"""GRPO algorithm units (mimo_eval/rl/algo.py, batch.py): the pieces of MiMo's Eq. 1 and 2, one property per test.

    python -m pytest -q tests/test_rl_algo.py

Cases are hand-computed; the clip bounds are DAPO's 0.2 / 0.28 (MiMo publishes none).
"""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from mimo_eval.rl import algo  # noqa: E402
from mimo_eval.rl.batch import build_batch  # noqa: E402
from mimo_eval.rl.scheduler import Group, Rollout  # noqa: E402


def _loss(ratio: float, adv: float, eps_low=0.2, eps_high=0.28):
    logp = torch.tensor([[math.log(ratio)]], requires_grad=True)
    loss, stats = algo.policy_loss(logp, torch.zeros(1, 1), torch.tensor([adv]), torch.ones(1, 1),
                                   eps_low=eps_low, eps_high=eps_high)
    loss.backward()
    return loss.item(), logp.grad.item(), stats


@pytest.mark.parametrize("ratio, adv, clipped", [
    (1.25, 1.0, False),   # inside 1 + 0.28: clip-higher lets a positive advantage push further
    (1.30, 1.0, True),    # past 1.28: clipped, no gradient
    (0.85, -1.0, False),  # inside 1 - 0.2
    (0.75, -1.0, True),   # past 0.8 with A < 0: clipped
    (0.75, 1.0, False),   # A > 0 below the lower bound: min() keeps the unclipped term (gradient flows)
])
def test_clip_is_asymmetric(ratio, adv, clipped):
    loss, grad, stats = _loss(ratio, adv)
    bound = 1.28 if ratio > 1 else 0.8
    assert loss == pytest.approx(-(bound if clipped else ratio) * adv, rel=1e-6)
    assert (grad == 0.0) == clipped
    assert (stats.clip_high > 0 or stats.clip_low > 0) == clipped


def test_the_same_ratio_is_clipped_at_symmetric_eps():
    """ratio 1.25, A > 0: not clipped at eps_high 0.28, clipped at a symmetric 0.2."""
    assert _loss(1.25, 1.0)[1] != 0.0
    assert _loss(1.25, 1.0, eps_high=0.2)[1] == 0.0


def test_token_mean_differs_from_seq_mean_on_unequal_lengths():
    """One sequence of 1 token with loss 1, one of 3 tokens with loss 0: token-mean 1/4, seq-mean (1 + 0) / 2."""
    logp = torch.zeros(2, 3)
    adv = torch.tensor([-1.0, 0.0])  # ratio 1: per-token loss = -A
    mask = torch.tensor([[1.0, 0, 0], [1, 1, 1]])
    args = dict(eps_low=0.2, eps_high=0.28)
    token, _ = algo.policy_loss(logp, logp, adv, mask, loss_agg="token-mean", **args)
    seq, _ = algo.policy_loss(logp, logp, adv, mask, loss_agg="seq-mean-token-mean", **args)
    assert token.item() == pytest.approx(0.25) and seq.item() == pytest.approx(0.5)


def test_constant_group_has_zero_advantage():
    scores = torch.tensor([[1.0, 1, 1, 1], [0, 0, 0, 0], [0, 1, 0, 1]])
    adv = algo.group_advantages(scores, torch.ones_like(scores, dtype=torch.bool))
    assert torch.equal(adv[:2], torch.zeros(2, 4))
    assert adv[2].tolist() == pytest.approx([-0.866025, 0.866025, -0.866025, 0.866025], abs=1e-5)  # std unbiased


def test_masked_samples_are_out_of_the_baseline_and_the_loss():
    """A None score (timeout) must not count as 0: [1, 0, None] has mean 0.5 over two samples, and no tokens."""
    rollouts = [Rollout((5, 2), "x", False)] * 3
    group = Group(0, None, (1, 4), False, rollouts, [], scores=[1.0, 0.0, None])
    batch = build_batch([group], pad_id=0, scale="none")
    assert batch["advantages"].tolist() == [0.5, -0.5, 0.0]
    assert batch["mask"][2].sum() == 0 and batch["mask"][0].tolist() == [0.0, 1.0, 1.0]


def test_beta_zero_builds_no_kl_graph():
    """At beta 0 a given reference is not part of the graph (no gradient reaches it, one exp: the ratio's);
    at beta > 0 it is, and beta > 0 without a reference is an error, not a silent 0."""
    args = dict(eps_low=0.2, eps_high=0.28)
    graphs = {}
    for beta in (0.0, 0.1):
        logp = torch.zeros(1, 2, requires_grad=True)
        ref = torch.full((1, 2), -0.5, requires_grad=True)
        loss, stats = algo.policy_loss(logp, logp.detach(), torch.tensor([1.0]), torch.ones(1, 2), beta=beta,
                                       ref_logp=ref, **args)
        loss.backward()
        graphs[beta] = (ref.grad is not None, _graph_ops(loss).count("Exp"), stats.kl)
    assert graphs[0.0] == (False, 1, 0.0)
    assert graphs[0.1][:2] == (True, 2) and graphs[0.1][2] > 0
    with pytest.raises(ValueError, match="ref_logp"):
        algo.policy_loss(logp, logp.detach(), torch.tensor([1.0]), torch.ones(1, 2), beta=0.1, **args)


def _graph_ops(t) -> list[str]:
    seen, stack, names = set(), [t.grad_fn], []
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        names.append(type(fn).__name__.replace("Backward0", ""))
        stack.extend(f for f, _ in fn.next_functions)
    return names


def test_gradient_accumulation_equals_the_single_batch_loss():
    """Micro-batches divided by the whole mini-batch's token count sum to the full-batch loss and gradient."""
    torch.manual_seed(0)
    w = torch.randn(4, 5, requires_grad=True)
    old = torch.randn(4, 5)
    adv = torch.tensor([1.0, -0.5, 2.0, -1.0])
    mask = torch.tensor([[1.0, 1, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0], [1, 1, 1, 0, 0]])
    args = dict(eps_low=0.2, eps_high=0.28)
    full, _ = algo.policy_loss(w * 0.1, old * 0.1, adv, mask, **args)
    full.backward()
    g_full, w.grad = w.grad.clone(), None
    total = float(mask.sum())
    acc = 0.0
    for sl in (slice(0, 1), slice(1, 3), slice(3, 4)):
        part, _ = algo.policy_loss(w[sl] * 0.1, old[sl] * 0.1, adv[sl], mask[sl], total_tokens=total, **args)
        part.backward()
        acc += part.item()
    assert acc == pytest.approx(full.item(), abs=1e-7)
    assert torch.allclose(w.grad, g_full, atol=1e-7)
