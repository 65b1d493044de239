"""verl 0.9.1's own reward managers scoring a hand-built DataProto with our adapter (graders/rewards/verl.py).
Runs INSIDE .venvs/verl, started by tests/test_frameworks.py; by hand:

    PYTHONPATH=. .venvs/verl/bin/python -m pytest -q tests/frameworks/check_verl.py

Our function is loaded the way verl loads it: `verl.trainer.ppo.reward.get_custom_reward_fn` on a config
naming the adapter file (custom_reward_function.path/name), then handed to the legacy managers
(verl/workers/reward_manager/{naive,dapo,batch,prime}.py) and, for the reward loop, `load_reward_manager`
inside verl's own `RewardLoopWorker` (experimental/reward_loop/reward_loop.py:93-156) with the tokenizer
saved to disk as verl reads it. Each manager's reward tensor is checked position by position against an
oracle computed here with graders.math.grade / the test program, and reward_extra_info must have our key
set with one entry per sample. Call sites read from the installed source (they differ from rl_loop.md §3):
naive.py:131-136 (keywords; its optional SIGALRM timeout scores 0.0 and appends no extra info), dapo.py:102,
batch.py:70-76, prime.py:31-36 (positional, ProcessPool) and :80-88 (`float(result[0])` for a non-number).
"""
from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from tensordict import TensorDict
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

import verl
from verl import DataProto
from verl.trainer.ppo.reward import get_custom_reward_fn
from verl.workers.reward_manager import BatchRewardManager, DAPORewardManager, NaiveRewardManager, PrimeRewardManager

import graders.rewards.verl as ours
from graders.math import grade

GOOD = "```python\nprint(2*int(input()))\n```"
BAD = "```python\nprint(int(input())+2)\n```"
WORDS = ["Q", ":", "3", "+", "4", "=", "</think>", "so", "\\boxed{7}", "\\boxed{8}", "\\boxed{\\frac{14}{2}}", GOOD, BAD]
CODE_TESTS = json.dumps({"inputs": ["3\n", "5\n"], "outputs": ["6\n", "10\n"]})
# (data_source, prompt, response, ground_truth, expected score, expected masked)
ROWS = [
    ("lighteval/MATH", "Q : 3 + 4 =", "so \\boxed{7}", "7", 1.0, 0),
    ("lighteval/MATH", "Q : 3 + 4 =", "so \\boxed{\\frac{14}{2}}", "7", 1.0, 0),
    ("HuggingFaceH4/MATH-500", "Q : 3 + 4 =", "so \\boxed{8}", "7", 0.0, 0),
    ("math_dapo", "Q : 3 + 4 =", "so 7", "7", 0.0, 0),                                # no box: reward mode
    ("aime24", "Q : 3 + 4 =", "\\boxed{7} \\boxed{8}", "7", 0.0, 0),                  # a hedge
    ("lighteval/MATH", "Q : 3 + 4 =", "</think> so", "7", 0.0, 0),
    ("lighteval/MATH", "Q : 3 =", "\\boxed{7}", "\\frac{1}{", 0.0, 1),               # unparseable gold: masked
    ("codecontests", "Q : 3 =", GOOD, CODE_TESTS, 1.0, 0),
    ("codecontests", "Q : 3 =", BAD, CODE_TESTS, 0.0, 0),
]


def tokenizer() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "<eos>"] + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(" ", behavior="removed")
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", eos_token="<eos>")


def data_proto(tok, rows=ROWS) -> DataProto:
    """verl's rollout layout: prompts left-padded, responses right-padded (EOS then pad), one attention mask."""
    prompts = [tok(r[1])["input_ids"] for r in rows]
    responses = [tok(r[2])["input_ids"] + [tok.eos_token_id] for r in rows]
    p_len, r_len = max(map(len, prompts)), max(map(len, responses)) + 2
    pad = tok.pad_token_id
    prompt_t = torch.tensor([[pad] * (p_len - len(p)) + p for p in prompts])
    response_t = torch.tensor([r + [pad] * (r_len - len(r)) for r in responses])
    mask = torch.tensor([[0] * (p_len - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (r_len - len(r))
                         for p, r in zip(prompts, responses)])
    tensors = TensorDict({"prompts": prompt_t, "responses": response_t, "attention_mask": mask,
                          "input_ids": torch.cat([prompt_t, response_t], dim=1)}, batch_size=[len(rows)])
    non_tensors = {"data_source": np.array([r[0] for r in rows], dtype=object),
                   "reward_model": np.array([{"ground_truth": r[3], "style": "rule"} for r in rows], dtype=object),
                   "extra_info": np.array([{"index": i} for i in range(len(rows))], dtype=object)}
    return DataProto(batch=tensors, non_tensor_batch=non_tensors)


def config(name: str, manager: str = "naive", path: str = "pkg://graders.rewards.verl"):
    return OmegaConf.create({"reward": {
        "custom_reward_function": {"path": path, "name": name, "reward_kwargs": {}},
        "reward_manager": {"source": "register", "name": manager},
        "reward_model": {"enable": False}, "sandbox_fusion": None}})


def check_rewards(reward_tensor, lengths, extra=None):
    expected = torch.zeros_like(reward_tensor)
    for i, row in enumerate(ROWS):
        expected[i, lengths[i] - 1] = row[4]
    assert torch.equal(reward_tensor, expected), reward_tensor
    if extra is not None:
        assert set(extra) == set(ours.KEYS)
        assert all(len(v) == len(ROWS) for v in extra.values())
        assert list(extra["masked"]) == [r[5] for r in ROWS]


def response_lengths(data: DataProto) -> list[int]:
    return data.batch["attention_mask"][:, data.batch["prompts"].shape[-1]:].sum(-1).tolist()


def test_verl_version_and_oracle():
    assert verl.__version__ == "0.9.1"
    for source, _, response, gold, score, masked in ROWS[:7]:   # the table agrees with the grader itself
        v = grade(gold=gold, response=response, mode="reward")
        assert (0.0 if v.score is None else v.score, int(v.score is None)) == (score, masked), response


@pytest.mark.parametrize("path", ["pkg://graders.rewards.verl", ours.__file__], ids=["pkg", "file"])
@pytest.mark.parametrize("manager_cls", [NaiveRewardManager, DAPORewardManager], ids=["naive", "dapo"])
def test_keyword_managers(manager_cls, path):
    tok = tokenizer()
    data = data_proto(tok)
    fn = get_custom_reward_fn(config("compute_score", path=path))
    out = manager_cls(tok, 0, compute_score=fn)(data, return_dict=True)
    check_rewards(out["reward_tensor"], response_lengths(data), out["reward_extra_info"])


def test_batch_manager():
    tok = tokenizer()
    data = data_proto(tok)
    manager = BatchRewardManager(tok, 0, compute_score=get_custom_reward_fn(config("compute_score_batch", "batch")))
    out = manager(data, return_dict=True)
    check_rewards(out["reward_tensor"], response_lengths(data), out["reward_extra_info"])


def test_prime_manager_positional_in_its_process_pool():
    """prime keeps `float(result[0])` of a non-number, so a dict reply zeroes the whole batch: our float twin,
    through pkg:// (a function loaded from a file path cannot be pickled into prime's process pool)."""
    tok = tokenizer()
    data = data_proto(tok)
    manager = PrimeRewardManager(tok, 0, compute_score=get_custom_reward_fn(config("compute_score_prime", "prime")))
    out = manager(data, return_dict=True)
    check_rewards(out["reward_tensor"], response_lengths(data))


@pytest.mark.parametrize("name", ["compute_score", "acompute_score"])
def test_reward_loop_worker(tmp_path, name):
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    tok = tokenizer()
    tok.save_pretrained(tmp_path)
    cfg = config(name)
    cfg.actor_rollout_ref = {"model": {"path": str(tmp_path), "tokenizer_path": str(tmp_path)}}
    asyncio.set_event_loop(asyncio.new_event_loop())  # as in its own Ray actor; prime's run left a closed one
    worker = RewardLoopWorker(cfg)
    data = data_proto(tok)
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(data))   # the loop it captured, as in its actor
    assert [o["reward_score"] for o in outputs] == [r[4] for r in ROWS]
    assert all(set(o["reward_extra_info"]) == set(ours.KEYS) for o in outputs)
    assert [o["reward_extra_info"]["masked"] for o in outputs] == [r[5] for r in ROWS]


# A template that opens the thinking in the prompt (R1-distill, QwQ): verl decodes the response alone, so the
# rollout cut inside the thinking carries no marker. (response, expected score with thinking_opened)
OPENED = [("so \\boxed{7}", 0.0), ("</think> so \\boxed{7}", 1.0), ("\\boxed{8} </think> so \\boxed{7}", 1.0)]


def opened_proto(tok, per_sample: bool) -> DataProto:
    rows = [("aime24", "Q : 3 + 4 =", response, "7", score, 0) for response, score in OPENED]
    data = data_proto(tok, rows)
    if per_sample:
        data.non_tensor_batch["extra_info"] = np.array([{"index": i, "thinking_opened": True} for i in range(len(rows))],
                                                       dtype=object)
    return data


@pytest.mark.parametrize("per_sample", [True, False], ids=["extra_info", "reward_kwargs"])
def test_thinking_opened_through_the_naive_manager(per_sample):
    tok = tokenizer()
    data = opened_proto(tok, per_sample)
    cfg = config("compute_score")
    if not per_sample:
        cfg.reward.custom_reward_function.reward_kwargs = {"thinking_opened": True}
    out = NaiveRewardManager(tok, 0, compute_score=get_custom_reward_fn(cfg))(data, return_dict=True)
    scores = out["reward_tensor"].sum(-1).tolist()
    assert scores == [score for _, score in OPENED]
    # the same responses without the input: the cut one is read as finished (what the issue measured)
    plain = NaiveRewardManager(tok, 0, compute_score=get_custom_reward_fn(config("compute_score")))
    assert plain(data_proto(tok, [("aime24", "Q : 3 + 4 =", OPENED[0][0], "7", 1.0, 0)]), return_dict=True)[
        "reward_tensor"].sum().item() == 1.0
