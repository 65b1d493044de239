"""Rollout engines (mimo_eval/rl/engines.py): the rollout seeds and the hf engine's end-of-sequence handling. The vLLM
engine itself runs against vLLM's CPU build in tests/vllm_cpu/check_rl_engine.py (tests/test_vllm.py).

    python -m pytest -q tests/test_rl_engines.py
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from mimo_eval.rl.engines import HFEngine, rollout_seed  # noqa: E402


def test_rollout_seeds_differ_by_step_prompt_draw_and_sample_and_repeat_exactly():
    keys = [(step, prompt, draw, sample) for step in (0, 1) for prompt in ((1, 2), (1, 3))
            for draw in (0, 1) for sample in range(8)]
    seeds = [rollout_seed(0, step, prompt, draw, sample) for step, prompt, draw, sample in keys]
    assert len(set(seeds)) == len(keys) and all(0 <= s < 2**31 for s in seeds)
    assert seeds == [rollout_seed(0, *key) for key in keys]          # a resumed step draws the same seeds
    assert rollout_seed(1, 0, (1, 2), 0, 0) != rollout_seed(0, 0, (1, 2), 0, 0)   # the run seed enters


class _Tok:
    eos_token_id, pad_token_id = 2, 0

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(str(i) for i in ids if i not in (0, 2))


def test_hf_rollout_keeps_the_end_token_and_flags_truncation():
    engine = HFEngine.__new__(HFEngine)
    engine.tokenizer, engine.eos_id = _Tok(), 2
    done, cut = engine._rollout([5, 2, 0, 0]), engine._rollout([5, 6, 7, 8])
    assert (done.completion_ids, done.truncated) == ((5, 2), False)
    assert (cut.completion_ids, cut.truncated) == ((5, 6, 7, 8), True)
