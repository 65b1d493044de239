"""OpenRLHF 0.11.2 loading and calling our `reward_func` (graders/rewards/openrlhf.py) through its own code.
Runs INSIDE .venvs/openrlhf, started by tests/test_frameworks.py; by hand:

    PYTHONPATH=. .venvs/openrlhf/bin/python -m pytest -q tests/frameworks/check_openrlhf.py

`--reward.remote_url x.py` reaches `openrlhf.utils.agent.SingleTurnAgentExecutor` (agent.py:191-205 loads
`reward_func` from the file with importlib; execute() at :284-305 decodes prompt + response with
skip_special_tokens=False and calls it via `_fetch_rewards_via_func`, :307-323, one sample per
`asyncio.to_thread`). Both run here unchanged. The one stand-in is the generation engine: OpenRLHF's is a
vLLM engine (GPU only), so `Engine` below returns scripted token ids through the same `generate` call.
OpenRLHF is installed --no-deps (deepspeed and flash-attn need CUDA); this path imports only what
tools/frameworks/openrlhf.txt lists.
"""
from __future__ import annotations

import asyncio
import importlib.metadata
import json
from types import SimpleNamespace

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from openrlhf.utils.agent import SingleTurnAgentExecutor

import graders.rewards.openrlhf as ours

GOOD = "```python\nprint(2*int(input()))\n```"
WORDS = ["<|im_start|>", "<|im_end|>", "user", "assistant", "Q", ":", "3", "+", "4", "=", "so", "\\boxed{7}",
         "\\boxed{8}", "Example:", "<think>", "</think>", GOOD]
CODE_TESTS = json.dumps({"inputs": ["3\n", "5\n"], "outputs": ["6\n", "10\n"]})
PROMPT = "<|im_start|> user Q : 3 + 4 = Example: \\boxed{8} <|im_end|> <|im_start|> assistant"
# (response words, label, expected reward, expected masked): the prompt's own example box must not count.
CASES = [
    ("so \\boxed{7} <|im_end|>", "7", 1.0, 0.0),
    ("so \\boxed{8} <|im_end|>", "7", 0.0, 0.0),
    ("so <|im_end|>", "8", 0.0, 0.0),                  # the only box is the prompt's example
    ("\\boxed{7} <|im_end|>", "\\frac{1}{", 0.0, 1.0),  # unparseable label: masked, reported in extra_logs
]


def tokenizer() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>"] + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(" ", behavior="removed")
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                   additional_special_tokens=["<|im_start|>", "<|im_end|>"])


class Engine:
    """Stands in for OpenRLHF's vLLM engine (GPU only): `generate` returns the scripted response's token ids."""

    def __init__(self, token_ids):
        self.token_ids = token_ids

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        out = SimpleNamespace(token_ids=self.token_ids, finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[out])


def run(executor, tok, response: str, label: str, prompt: str = PROMPT) -> dict:
    ids = tok(response, add_special_tokens=False)["input_ids"]
    params = SimpleNamespace(max_tokens=16, logprobs=None)
    return asyncio.run(executor.execute(prompt, label, params, 64, tok, Engine(ids)))


@pytest.fixture(scope="module", params=["adapter_file", "user_file"])
def executor(request, tmp_path_factory):
    """The adapter module itself as the file, and docs/rewards.md's one-line user file."""
    if request.param == "adapter_file":
        return SingleTurnAgentExecutor(remote_rm_url=ours.__file__)
    path = tmp_path_factory.mktemp("rm") / "my_reward.py"
    path.write_text("from graders.rewards.openrlhf import reward_func  # noqa: F401\n")
    return SingleTurnAgentExecutor(remote_rm_url=str(path))


def test_openrlhf_version():
    assert importlib.metadata.version("openrlhf") == "0.11.2"


@pytest.mark.parametrize("response,label,reward,masked", CASES)
def test_reward_through_single_turn_executor(executor, response, label, reward, masked):
    out = run(executor, tokenizer(), response, label)
    assert out["reward"] is not None, "OpenRLHF swallowed an exception from reward_func (agent.py:303)"
    assert out["reward"].tolist() == [reward] and out["scores"].tolist() == [reward]
    assert out["extra_logs"]["masked"].tolist() == [masked]


def test_code_reward_file(tmp_path):
    path = tmp_path / "code_reward.py"
    path.write_text("from graders.rewards.openrlhf import make_reward_func\n"
                    "reward_func = make_reward_func(kind='code', sandbox='docker')\n")
    out = run(SingleTurnAgentExecutor(remote_rm_url=str(path)), tokenizer(), GOOD + " <|im_end|>", CODE_TESTS)
    assert out["reward"].tolist() == [1.0] and out["extra_logs"]["masked"].tolist() == [0.0]


# A template that opens the thinking (R1-distill, QwQ): the rendered prompt ends with <think>, which our reward_func
# reads from the prompt OpenRLHF hands it; a response cut inside that thinking has no answer.
OPENED_PROMPT = "<|im_start|> user Q : 3 + 4 = <|im_end|> <|im_start|> assistant <think>"


@pytest.mark.parametrize("response,reward", [("so \\boxed{7} <|im_end|>", 0.0), ("</think> so \\boxed{7} <|im_end|>", 1.0)])
def test_thinking_opened_by_the_prompt(executor, response, reward):
    out = run(executor, tokenizer(), response, "7", prompt=OPENED_PROMPT)
    assert out["reward"].tolist() == [reward] and out["extra_logs"]["masked"].tolist() == [0.0]
