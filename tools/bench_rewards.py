"""Our rewards next to verl 0.9.1's own scorers, each inside verl's own reward managers on CPU, in one run.

    .venvs/verl/bin/python tools/bench_rewards.py [--out results/bench_rewards.md] [--repeats 3]   (PYTHONPATH=.; ~15 min)

Math: the 800 Qwen2.5-Math responses (../shared/data/math_grader_heldout, stored labels from Qwen's
math_equal), decoded by verl's managers from a byte-level tokenizer built in code (exact round trip).
Each scorer runs in a fresh process (no cache carries over from another scorer), --repeats times
(interleaved; the median run is reported, with the range), warmed on 16 other symbolic samples first
(imports, parser tables and our worker processes start there) and timed from a collected heap. Scorers:
verl's default for lighteval/MATH (`math_reward`), `math_dapo`, its Math-Verify scorer
(`verl.utils.reward_score.math_verify`) and our adapter, all in `NaiveRewardManager`; our batch adapter
in `BatchRewardManager` and our async adapter in the reward loop's `RewardLoopWorker`, with a pool of 2
workers. Accuracy = share scored correct (stored labels: 91.0%). Code: 64 completions x 20 stdin tests,
verl's CPU scorer (`prime_code`, unsandboxed) vs ours (Docker sandbox). Ratios against the anchors of
the same run are what count: absolute rates move with the machine's load.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWN_MISLABEL = "10{,}000"   # idx 72: response \\boxed{10000} stored as wrong (math_grader_heldout/README.md)
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


def child_path(tmp: Path, section: str, name: str) -> Path:
    import hashlib

    return tmp / (hashlib.sha1(f"{section}/{name}".encode()).hexdigest()[:12] + ".json")


def in_child(section: str, name: str, tmp: Path) -> list:
    out = child_path(tmp, section, name)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, __file__, "--child", section, name, "--tmp", str(tmp)], check=True, env=env,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def agreement_rows(results: dict, labels: list[bool], pairs) -> list[list[str]]:
    """Each class of disagreement between our reward-mode adapter and a verl scorer, with who the labels favour."""
    from graders.math import grade

    verdicts = [grade(gold=g, response=r, mode="reward", timeout_s=10) for g, r in pairs]
    reasons = [("hedged" if v.detail.startswith("hedged") else v.reason) for v in verdicts]
    ours = [a > 0 for a in results["ours, reward mode (naive)"][2]]
    rows = []
    for name in ("verl math_reward (default)", "verl math_dapo", "verl math_verify"):
        theirs = [a > 0 for a in results[name][2]]
        mislabel = [p[0] == KNOWN_MISLABEL for p in pairs]
        classes = Counter((o, t, lab, why, bad) for o, t, lab, why, bad in
                          zip(ours, theirs, labels, reasons, mislabel) if o != t)
        rows.append([name, f"{sum(o == t for o, t in zip(ours, theirs))}/800", "", ""])
        for (o, t, lab, why, bad), n in classes.most_common():
            right = "ours" if (o == lab) != bad else name.split()[1]
            note = " (idx 72, a known wrong label)" if bad else ""
            rows.append(["", f"{n}", f"ours {int(o)} ({why}), verl {int(t)}, label {int(lab)}{note}", right])
    return rows


def table(console, md: list[str], title: str, header: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    t = Table(title=title)
    for h in header:
        t.add_column(h)
    for r in rows:
        t.add_row(*r)
    console.print(t)
    md += [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows] + [""]


def main() -> None:
    import tempfile

    from rich.console import Console

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_rewards.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh-process runs per math scorer, interleaved; the median run is reported")
    args = parser.parse_args()
    if args.child:
        section, name = args.child
        out = child_path(args.tmp, section, name)
        {"math": child_math, "code": child_code, "overhead": child_overhead}[section](name, out)
        return
    import verl

    console, md = Console(), [f"Made by `PYTHONPATH=. .venvs/verl/bin/python tools/bench_rewards.py` "
                              f"(verl {verl.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}).", ""]
    pairs, labels = load_pairs()
    overhead_paths = ("graders.math.grade", "adapter")
    runs: dict[str, list] = {name: [] for name in (*MATH_SCORERS, *overhead_paths)}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):   # interleaved, so a slow spell of this shared host hits every scorer
            for name in MATH_SCORERS:
                runs[name].append(in_child("math", name, Path(tmp)))
            for name in overhead_paths:
                runs[name].append(in_child("overhead", name, Path(tmp)))
        code = {name: in_child("code", name, Path(tmp)) for name in CODE_SCORERS}
    median = {name: sorted(r, key=lambda run: run[0])[len(r) // 2] for name, r in runs.items()}
    math = {name: median[name] for name in MATH_SCORERS}
    over = {name: median[name][0] for name in overhead_paths}
    mv_rate = 800 / math["verl math_verify"][0]
    sm_rate = 800 / math["verl math_reward (default)"][0]
    rows = []
    for name, (wall, _, acc) in math.items():
        correct = [a > 0 for a in acc]
        spread = "-".join(f"{800 / w:,.0f}" for w in (max(r[0] for r in runs[name]), min(r[0] for r in runs[name])))
        rows.append([name, f"{100 * sum(correct) / 800:.1f}%", f"{sum(c == lab for c, lab in zip(correct, labels))}/800",
                     f"{800 / wall:,.0f}", spread, f"{800 / wall / mv_rate:.1f}x", f"{800 / wall / sm_rate:.2f}x"])
    table(console, md, "Math: 800 Qwen2.5-Math responses through verl's managers (stored labels: 91.0% correct)",
          ["scorer", "scored correct", "agree with labels", "rewards/s (median)", f"range over {args.repeats} runs",
           "vs verl math_verify", "vs verl math_reward"], rows)
    table(console, md, "Agreement with our reward mode, and each disagreement class (who the stored labels favour)",
          ["verl scorer", "count", "class", "right"], agreement_rows(math, labels, pairs))
    expected = [p for p, (n, ok) in CODE_VARIANTS.items() for _ in range(n) if ok]
    verl_rate = 64 * 20 / code["verl prime_code (naive, unsandboxed)"][0]
    table(console, md, "Code: 64 completions x 20 stdin tests (48 completions pass all)",
          ["scorer", "all tests pass", "tests/s", "vs verl prime_code"],
          [[name, f"{sum(a >= 1.0 for a in acc)}/64 (expected {len(expected)})", f"{64 * 20 / wall:,.0f}",
            f"{64 * 20 / wall / verl_rate:.2f}x"] for name, (wall, _, acc) in code.items()])
    naive = math["ours, reward mode (naive)"][0]
    table(console, md, "Adapter overhead: the same 800 calls, serially",
          ["path", "s per 800", "vs graders.math.grade"],
          [["graders.math.grade(mode='reward')", f"{over['graders.math.grade']:.2f}", "1.00x"],
           ["graders.rewards.verl.compute_score, called directly", f"{over['adapter']:.2f}",
            f"{over['adapter'] / over['graders.math.grade']:.2f}x"],
           ["the same inside verl's NaiveRewardManager (+ decode)", f"{naive:.2f}",
            f"{naive / over['graders.math.grade']:.2f}x"]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# Rewards benchmark\n\n" + "\n".join(md))
    console.print(f"written to {args.out}")


if __name__ == "__main__":
    main()
