"""One scorer inside verl 0.9.1's own reward managers, in this process: what tools/bench_rewards.py runs in a fresh
process for each scorer and repeat, writing [wall s, scores, acc] (overhead: [wall s]) as JSON to OUT.

    .venvs/verl/bin/python tools/reward_managers.py math|code|overhead NAME OUT.json   (PYTHONPATH=.)

Math: the 800 Qwen2.5-Math responses, decoded by verl's managers from a byte-level tokenizer built in code (exact
round trip), warmed on 16 other symbolic samples first and timed from a collected heap. Code: 64 completions x 20
stdin tests. Overhead: the same 800 math calls, serially, through graders.math.grade and through our verl adapter.
"""
from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "math_grader_heldout" / "qwen25math_math_cot_100.jsonl"
# name -> (manager, data_source, custom function in graders.rewards.verl or None = verl's default, extra_info)
MATH_SCORERS = {
    "verl math_reward (default)": ("naive", "lighteval/MATH", None, {}),
    "verl math_dapo": ("naive", "math_dapo", None, {}),
    "verl math_verify": ("naive", "lighteval/MATH", "verl_math_verify", {}),
    "ours, reward mode (naive)": ("naive", "lighteval/MATH", "compute_score", {}),
    "ours, eval mode (naive)": ("naive", "lighteval/MATH", "compute_score", {"reward_options": {"mode": "eval"}}),
    "ours, batch, 2 workers": ("batch", "lighteval/MATH", "compute_score_batch", {}),
    "ours, reward loop, 2 workers": ("loop", "lighteval/MATH", "acompute_score", {}),
}


def load_pairs() -> tuple[list[tuple[str, str]], list[bool]]:
    pairs, labels = [], []
    for line in DATA.read_text().splitlines():
        row = json.loads(line)
        for response, score in zip(row["code"], row["score"]):
            pairs.append((row["gt"], response))
            labels.append(bool(score))
    return pairs, labels


def byte_tokenizer():
    """GPT-2-style byte-level BPE with no merges: every text round-trips exactly through verl's decode."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {"<pad>": 0, "<eos>": 1, **{c: i + 2 for i, c in enumerate(sorted(alphabet))}}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")


def data_proto(tok, rows: list[tuple[str, str, object, dict]]):
    """rows: (data_source, response, ground_truth, extra_info); verl's layout (prompt left-, response right-padded)."""
    import numpy as np
    import torch
    from tensordict import TensorDict
    from verl import DataProto

    responses = [tok(r[1], add_special_tokens=False)["input_ids"] for r in rows]
    width = max(map(len, responses))
    resp = torch.full((len(rows), width), tok.pad_token_id, dtype=torch.long)
    for i, ids in enumerate(responses):
        resp[i, :len(ids)] = torch.tensor(ids, dtype=torch.long)
    prompts = torch.full((len(rows), 1), 2, dtype=torch.long)
    mask = torch.cat([torch.ones(len(rows), 1, dtype=torch.long), (resp != tok.pad_token_id).long()], dim=1)
    batch = TensorDict({"prompts": prompts, "responses": resp, "attention_mask": mask,
                        "input_ids": torch.cat([prompts, resp], 1)}, batch_size=[len(rows)])
    non_tensor = {"data_source": np.array([r[0] for r in rows], dtype=object),
                  "reward_model": np.array([{"ground_truth": r[2]} for r in rows], dtype=object),
                  "extra_info": np.array([dict(r[3]) for r in rows], dtype=object)}
    return DataProto(batch=batch, non_tensor_batch=non_tensor)


def verl_math_verify(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    from verl.utils.reward_score import math_verify

    return math_verify.compute_score(solution_str, ground_truth)


def score_fn(name: str | None):
    if name is None:
        return None   # the manager's default: verl.utils.reward_score.default_compute_score
    if name == "verl_math_verify":
        return verl_math_verify
    import functools

    import graders.rewards.verl as ours

    fn = getattr(ours, name)
    if name == "compute_score":
        return fn
    if name == "acompute_score":
        async def two_workers(**kw):
            return await fn(**kw, workers=2)
        return two_workers
    return functools.partial(fn, workers=2)


def run_manager(kind: str, fn, tok, data, tmp: Path) -> list:
    """Per-sample (score, acc) from one manager call; wall time measured around the call only."""
    from verl.workers.reward_manager import BatchRewardManager, NaiveRewardManager

    if kind == "loop":
        return run_reward_loop(fn, tok, data, tmp)
    manager = (BatchRewardManager if kind == "batch" else NaiveRewardManager)(tok, 0, compute_score=fn)
    gc.collect()   # every scorer starts from a collected heap: one full collection of torch's ~420k objects
    start = time.perf_counter()   # costs ~0.5 s and would land in whichever window the warm-up left it to
    out = manager(data, return_dict=True)
    wall = time.perf_counter() - start
    lengths = data.batch["attention_mask"][:, 1:].sum(-1)
    scores = out["reward_tensor"][range(len(data)), lengths - 1].tolist()
    acc = out["reward_extra_info"].get("acc", scores)
    return [wall, [float(s) for s in scores], [float(a) for a in acc]]


def run_reward_loop(fn, tok, data, tmp: Path) -> list:
    import asyncio

    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager as LoopNaive

    manager = LoopNaive(config=None, tokenizer=tok, compute_score=fn)

    async def all_rows():   # as RewardLoopWorker.compute_score_batch: one task per sample, gathered
        return await asyncio.gather(*(manager.run_single(data[i:i + 1]) for i in range(len(data))))

    gc.collect()
    start = time.perf_counter()
    outputs = manager.loop.run_until_complete(all_rows())
    wall = time.perf_counter() - start
    return [wall, [float(o["reward_score"]) for o in outputs], [float(o["reward_extra_info"]["acc"]) for o in outputs]]


def child_math(name: str, out_path: Path) -> None:
    kind, source, fn_name, extra = MATH_SCORERS[name]
    pairs, _ = load_pairs()
    tok = byte_tokenizer()
    assert all(tok.decode(tok(r)["input_ids"]) == r for _, r in pairs[:50]), "tokenizer does not round-trip"
    fn = score_fn(fn_name)
    # Not the 800, and symbolic, so a scorer's one-time start (imports, parser tables, our worker processes) is
    # paid here and not timed: a training run pays it once, at its first step.
    warm = [(source, f"so \\boxed{{x+{i}}}", f"{i}+x", extra) for i in range(16)]
    run_manager(kind, fn, tok, data_proto(tok, warm), out_path.parent)
    result = run_manager(kind, fn, tok, data_proto(tok, [(source, r, g, extra) for g, r in pairs]), out_path.parent)
    out_path.write_text(json.dumps(result))


CODE_TESTS = {"inputs": [f"{n}\n" for n in range(1, 21)], "outputs": [f"{n * (n + 1) // 2}\n" for n in range(1, 21)]}
CODE_VARIANTS = {   # 64 completions for "print 1 + 2 + ... + n": (program, how many, passes all)
    "n = int(input())\nprint(n * (n + 1) // 2)": (20, True),
    "n = int(input())\nprint(sum(range(n + 1)))": (20, True),
    "import sys\nn = int(sys.stdin.readline())\nt = 0\nfor i in range(1, n + 1):\n    t += i\nprint(t)": (8, True),
    "n = int(input())\nprint(n * (n - 1) // 2)": (8, False),
    "n = int(input())\nraise ValueError(n)": (4, False),
    "n = int(input())\nprint('answer:', n * (n + 1) // 2)": (4, False),
}
CODE_SCORERS = {"verl prime_code (naive, unsandboxed)": ("naive", None),
                "ours, naive, Docker sandbox": ("naive", "compute_score"),
                "ours, batch, 2 workers, Docker sandbox": ("batch", "compute_score_batch")}


def code_rows() -> list[tuple]:
    rows = []
    for program, (count, _) in CODE_VARIANTS.items():
        rows += [("codecontests", f"```python\n{program}\n```", json.dumps(CODE_TESTS), {})] * count
    return rows


def child_code(name: str, out_path: Path) -> None:
    kind, fn_name = CODE_SCORERS[name]
    tok = byte_tokenizer()
    fn = score_fn(fn_name)
    rows = code_rows()
    run_manager(kind, fn, tok, data_proto(tok, rows[:2]), out_path.parent)
    out_path.write_text(json.dumps(run_manager(kind, fn, tok, data_proto(tok, rows), out_path.parent)))


def child_overhead(name: str, out_path: Path) -> None:
    """The same 800 calls, serially: graders.math.grade itself, then our verl adapter called directly."""
    pairs, _ = load_pairs()
    if name == "graders.math.grade":
        from graders.math import grade

        call = lambda g, r: grade(gold=g, response=r, mode="reward")  # noqa: E731
    else:
        from graders.rewards.verl import compute_score

        call = lambda g, r: compute_score("lighteval/MATH", r, g)  # noqa: E731
    for i in range(16):   # as child_math: symbolic, so the worker processes start here
        call(f"{i}+x", f"so \\boxed{{x+{i}}}")
    gc.collect()
    start = time.perf_counter()
    for g, r in pairs:
        call(g, r)
    out_path.write_text(json.dumps([time.perf_counter() - start]))


CHILDREN = {"math": child_math, "code": child_code, "overhead": child_overhead}

if __name__ == "__main__":
    section, name, out = sys.argv[1:4]
    CHILDREN[section](name, Path(out))
