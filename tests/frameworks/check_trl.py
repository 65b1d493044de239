"""TRL 1.16.0's real GRPOTrainer on CPU with our rewards (graders/rewards/trl.py). Runs INSIDE .venvs/trl,
started by tests/test_frameworks.py; by hand:

    .venvs/trl/bin/python -m pytest -q tests/frameworks/check_trl.py      (PYTHONPATH=. ; ~1-2 min on 2 cores)

The policy is a tiny Llama built from a config, the tokenizer a WordLevel vocabulary built in code, so
nothing is downloaded (HF_HUB_OFFLINE=1). Whole answers are single tokens ("\\boxed{7}", a fenced program),
so a random policy's completions contain right, wrong, hedged and missing answers. Every reward TRL
received is checked against an oracle computed here from the same completion text: that catches a
misaligned gold column, a completion read wrongly, or a masked sample turned into a 0.
TRL's call site (read from the installed source): `_calculate_rewards`, trl/trainer/grpo_trainer.py:1626-1630
(`reward_func(prompts=, completions=, completion_ids=, **reward_kwargs)`, None -> NaN), unscorable rows
left out of the baseline at :2756-2764 (rl_loop.md cites 1659-1661 and 2676-2684 of an older snapshot).
"""
from __future__ import annotations

import json
import math
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

import trl as trl_package  # noqa: E402
from graders.math import grade  # noqa: E402
from graders.rewards import trl as ours  # noqa: E402

GOOD = "```python\nprint(2*int(input()))\n```"   # the tiny stdin task: print twice the input
BAD = "```python\nprint(int(input())+2)\n```"   # right on input 2 only
WORDS = ["Q", ":", "+", "=", "3", "4", "5", "<think>", "</think>", "so", "\\boxed{7}", "\\boxed{8}", "\\boxed{9}", "\\boxed{}",
         GOOD, BAD]
CODE_TESTS = json.dumps({"inputs": ["3\n", "5\n"], "outputs": ["6\n", "10\n"]})


def tokenizer() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "<bos>", "<eos>"] + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(" ", behavior="removed")  # whole answers stay one token
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<bos>", eos_token="<eos>")


def policy(tok) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64,
                         tie_word_embeddings=True, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id)
    return LlamaForCausalLM(config)


class Recorder:
    """What TRL handed our reward and what it got back: a pass-through, so the trainer calls our function."""

    def __init__(self, reward):
        self.reward, self.__name__, self.calls = reward, getattr(reward, "__name__", "mimo_reward"), []

    def __call__(self, prompts, completions, completion_ids=None, **kwargs):
        out = self.reward(prompts, completions, completion_ids, **kwargs)
        self.calls.append((list(completions), {k: kwargs[k] for k in ("ground_truth",) if k in kwargs}, list(out)))
        return out


def train(reward, rows: list[dict], steps: int, tmp_path) -> GRPOTrainer:
    tok = tokenizer()
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, max_steps=steps, per_device_train_batch_size=8,
                      num_generations=4, max_completion_length=6, learning_rate=1e-3, beta=0.0,
                      epsilon_high=0.28, loss_type="dapo", logging_steps=1, report_to="none",
                      save_strategy="no", seed=0, bf16=False, dataloader_num_workers=0)
    trainer = GRPOTrainer(model=policy(tok), reward_funcs=[reward], args=args,
                          train_dataset=Dataset.from_list(rows), processing_class=tok)
    trainer.train()
    return trainer


def flat(recorder: Recorder):
    for completions, kwargs, out in recorder.calls:
        assert len(out) == len(completions) == len(kwargs["ground_truth"])
        yield from zip(completions, kwargs["ground_truth"], out)


def test_trl_version():
    assert trl_package.__version__ == "1.16.0"


def test_grpo_trains_20_steps_with_our_math_reward(tmp_path):
    rows = [{"prompt": "Q : 3 + 4 =", "ground_truth": "7"}, {"prompt": "Q : 4 + 4 =", "ground_truth": "8"},
            {"prompt": "Q : 4 + 5 =", "ground_truth": "9"},
            {"prompt": "Q : 5 + 5 =", "ground_truth": "\\frac{1}{"}]   # an unparseable gold: always masked
    recorder = Recorder(ours.reward)
    trainer = train(recorder, rows * 4, 20, tmp_path)
    assert trainer.state.global_step == 20
    seen = list(flat(recorder))
    assert len(seen) == 20 * 8   # one reward per completion, every step
    for text, gold, score in seen:
        expected = grade(gold=gold, response=text, mode="reward", timeout_s=30).score
        assert score == expected, (text, gold, score)
        assert score is None or math.isfinite(score)
    assert any(s is None for _, g, s in seen if g == "\\frac{1}{") and {s for _, _, s in seen} >= {0.0, 1.0}
    assert ours._default.pool_settings == {} and ours.reward.__module__ == "graders.rewards.trl"


def test_grpo_with_a_prompt_that_opens_the_thinking(tmp_path):
    """Text prompts rendered by a template that ends them with <think> (R1-distill, QwQ): our reward reads that
    from the prompt TRL passes, so a completion without </think> is unfinished thinking and scores 0."""
    rows = [{"prompt": "Q : 3 + 4 = <think>", "ground_truth": "7"}, {"prompt": "Q : 4 + 4 = <think>", "ground_truth": "8"}]
    recorder = Recorder(ours.reward)
    train(recorder, rows * 4, 6, tmp_path)
    seen = list(flat(recorder))
    assert len(seen) == 6 * 8
    for text, gold, score in seen:
        assert score == grade(gold=gold, response=text, mode="reward", thinking_opened=True, timeout_s=30).score, text
    cut = [(t, g) for t, g, s in seen if "</think>" not in t and grade(gold=g, response=t, mode="reward").correct]
    assert cut, "no completion boxed the answer inside the open thinking: the run did not test the input"


def expected_code_score(text: str) -> float:
    """LCB extraction takes the last fenced block: GOOD passes both tests, BAD neither, no block scores 0."""
    positions = {text.rfind(GOOD): 1.0, text.rfind(BAD): 0.0}
    last = max(positions)
    return positions[last] if last >= 0 else 0.0


def code_rows() -> list[dict]:
    return [{"prompt": "Q : 3 =", "ground_truth": CODE_TESTS}, {"prompt": "Q : 5 =", "ground_truth": CODE_TESTS}] * 4


def test_grpo_with_our_code_reward_in_the_docker_sandbox(tmp_path):
    recorder = Recorder(ours.make_reward(kind="code", name="code_reward", sandbox="docker", workers=2))
    train(recorder, code_rows(), 3, tmp_path)
    seen = list(flat(recorder))
    assert len(seen) == 3 * 8
    assert [s for _, _, s in seen] == [expected_code_score(t) for t, _, _ in seen]
    assert any(GOOD in t for t, _, _ in seen), "no completion ran a program: the run did not test the sandbox"


def test_forced_sandbox_failure_is_masked_not_scored(tmp_path):
    from sandboxes import LocalSandbox

    broken = LocalSandbox(workers=1, python="/nonexistent/python3")   # a real sandbox that cannot start
    recorder = Recorder(ours.make_reward(kind="code", name="code_broken", sandbox=broken, workers=1))
    train(recorder, code_rows(), 2, tmp_path)
    seen = list(flat(recorder))
    with_code = [s for t, _, s in seen if "```python" in t]
    assert with_code and all(s is None for s in with_code)   # TRL gets None -> NaN -> left out, advantage 0
    assert all(s == 0.0 for t, _, s in seen if "```python" not in t)   # no program: the model's own 0


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
