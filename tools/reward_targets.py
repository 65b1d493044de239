"""Reward functions of other tools in the plain convention `fn(response, gold)`, for
`mimo-eval reward-probes --target tools.reward_targets:NAME --convention plain` (run from the repository root).

- math_verify_default: Math-Verify 0.9.0 as its README calls it, `verify(parse(gold), parse(response))` with the
  default extraction configs (gold first: verify is not symmetric), 1.0 or 0.0.
"""
from __future__ import annotations


def math_verify_default(response: str, gold: str) -> float:
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)   # it logs whole pathological inputs

    return float(verify(parse(gold), parse(response)))
