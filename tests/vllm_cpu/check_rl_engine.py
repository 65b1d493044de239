"""The RL rollout engine on vLLM's CPU build (mimo_eval/rl/engines.py: VLLMEngine) inside the bundled loop, on the
toy task of examples/rl_toy.yaml (a config-built Llama, 2 heads of 32, tied embeddings).

Runs INSIDE .venvs/vllm, started by tests/test_vllm.py; by hand:
    PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 .venvs/vllm/bin/python -m pytest -q tests/vllm_cpu/check_rl_engine.py

- Weight sync: after each of 3 optimiser steps, vLLM's log-probs of a fixed batch equal the trainer's within 1e-3
  in fp32, with tied (the toy's) and untied embeddings. vLLM's reload alone leaves a tied model's output head on
  the old weights on CPU (its packed copy), which the engine re-processes: shown by syncing without that step.
- Seeds: a prompt drawn twice in one step, again later in the step, or at the next step gets other samples; the
  same (step, prompt, draw) gets the same samples again (what a resumed step draws).
- Resume: 2 steps, a new process's worth of loop (engine restarted from the initial weights), 2 more steps give
  the losses of 4 uninterrupted steps: the engine syncs the restored policy before its first rollout and the
  resumed steps draw the same seeds.
- tools/gpu_check.py's reduced mode (`--cpu`) with its vLLM parts: engine sync gap and the backend run.
- Learning: 60 toy steps with `engine: vllm` raise the mean reward (last 10 vs first 10 steps) by at least 0.08,
  the bar tests/test_rl_loop.py sets for the hf engine; the hf engine's run is printed beside it.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mimo_eval.rl import algo
from mimo_eval.rl.config import load_config
from mimo_eval.rl.trainer import GRPOLoop, train

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "rl_toy.yaml"
VLLM = {"engine": "vllm", "vllm_kwargs": {"enforce_eager": True}, "progress": False}


def toy_config(tmp: Path, **over):
    return load_config(EXAMPLE, {**VLLM, "output_dir": str(tmp), **over})


def untied(model_config: dict) -> dict:
    return {**model_config, "tie_word_embeddings": False}


@pytest.fixture(scope="module", params=["tied", "untied"])
def loop(request, tmp_path_factory):
    base = load_config(EXAMPLE).model_config
    over = {} if request.param == "tied" else {"model_config": untied(dict(base))}
    loop = GRPOLoop(toy_config(tmp_path_factory.mktemp(request.param), **over))
    yield loop
    loop.close()


def fixed_batch(loop) -> list[tuple[int, ...]]:
    """Four prompts, each followed by an answer and the end token: the sequences both sides score."""
    tok = loop.tokenizer
    answers = ["\\boxed{3}", "so the answer is \\boxed{7}", "\\boxed{1} \\boxed{2}", "A 5"]
    return [tuple(loop.scheduler.encode(p)) + tuple(tok(a, add_special_tokens=False)["input_ids"])
            + (tok.eos_token_id,) for p, a in zip(loop.problems, answers)]


def trainer_logprobs(loop, sequences) -> list[list[float]]:
    out = []
    with torch.no_grad():
        for seq in sequences:
            ids = torch.tensor([seq])
            logp, _ = algo.response_logprobs(loop.model, ids, torch.ones_like(ids), torch.ones(1, len(seq) - 1))  # [1, T-1]
            out.append(logp[0].tolist())
    return out


def sync_gap(loop, sequences) -> float:
    ours, theirs = trainer_logprobs(loop, sequences), loop.engine.score(sequences)
    return max(abs(a - b) for x, y in zip(ours, theirs) for a, b in zip(x, y))


def test_logprobs_match_the_trainer_after_each_step(loop):
    batch = fixed_batch(loop)
    gaps = [sync_gap(loop, batch)]
    for _ in range(3):
        metrics = loop.train_step()
        assert metrics.get("skipped") != 1, "no update was made, so the sync was not exercised"
        gaps.append(sync_gap(loop, batch))
    print("sync gap (max |logp vLLM - logp trainer|) at steps 0-3:", " ".join(f"{g:.2e}" for g in gaps))
    assert max(gaps) <= 1e-3, gaps


def test_tied_head_needs_reprocessing_after_vllm_reload(loop):
    """What the engine's extra step fixes: vLLM's reload alone keeps a tied head's packed copy of old weights."""
    if not loop.engine.tied:
        pytest.skip("untied: vLLM's reload alone is enough")
    batch = fixed_batch(loop)
    embedding = loop.model.get_input_embeddings().weight
    saved = embedding.detach().clone()
    with torch.no_grad():
        embedding.add_(0.5 * torch.randn_like(embedding))
    weights = [(n, p.detach()) for n, p in loop.model.named_parameters()]
    loop.engine.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(weights)})
    loop.engine.llm.reset_prefix_cache()
    assert sync_gap(loop, batch) > 1e-2
    loop.engine.sync_weights()
    assert sync_gap(loop, batch) <= 1e-3
    with torch.no_grad():
        embedding.copy_(saved)   # the tests after this one sample from the trained policy
    loop.engine.sync_weights()


def completions(groups) -> list[tuple]:
    return [tuple(r.completion_ids for r in group) for group in groups]


def test_a_prompt_drawn_again_gets_other_samples(loop):
    engine = loop.engine
    prompt = loop.scheduler.encode(loop.problems[0])
    first, second = completions(engine.generate([prompt, prompt], 8))   # draws 0 and 1 of this step
    (third,) = completions(engine.generate([prompt], 8))                # draw 2: a later chunk of the same step
    assert len({first, second, third}) == 3
    engine.draws_step = -1   # as a resumed run starting this step again
    (again,) = completions(engine.generate([prompt], 8))
    assert again == first
    loop.step += 1           # the next step (the weights are the same: only the step seeds differ)
    (later,) = completions(engine.generate([prompt], 8))
    loop.step -= 1
    assert later not in (first, second, third)


def test_resume_with_the_vllm_engine_equals_uninterrupted(tmp_path):
    over = {"steps": 4, "save_every": 2, "max_gen_rounds": 2}
    whole = train(toy_config(tmp_path / "whole", **over))
    parts = toy_config(tmp_path / "parts", **over)
    train(parts, until=2)
    train(parts)
    losses = [[json.loads(line)["loss"] for line in (d / "metrics.jsonl").read_text().splitlines()]
              for d in (whole, tmp_path / "parts")]
    assert len(losses[0]) == len(losses[1]) == 4 and any(x is not None for x in losses[0][2:])
    assert all((a is None and b is None) or abs(a - b) <= 1e-5 for a, b in zip(*losses)), losses


def metric_rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def reward_rise(rows: list[dict]) -> tuple[float, float]:
    rewards = [r["reward/fresh_mean"] for r in rows]   # easy-pool re-draws rise without learning
    return sum(rewards[:10]) / 10, sum(rewards[-10:]) / 10


def test_toy_reward_rises_with_the_vllm_engine(tmp_path):
    rows = metric_rows(train(toy_config(tmp_path / "vllm")))
    (first, last), hf = reward_rise(rows), reward_rise(metric_rows(train(toy_config(tmp_path / "hf", engine="hf"))))
    val = [r["val/toy_add/pass@1"] for r in rows if "val/toy_add/pass@1" in r]
    print(f"toy, 60 steps, seed 0, fresh reward first 10 -> last 10: vllm {first:.3f} -> {last:.3f}, "
          f"hf {hf[0]:.3f} -> {hf[1]:.3f}; vllm evaluation during training (pass@1): {val}")
    assert last >= first + 0.08, (first, last)
    # the example evaluates every 20 steps through the harness's vLLM backend around the rollout engine
    assert len(val) == 3 and val[-1] > val[0], val


def test_gpu_check_reduced_mode_runs_its_vllm_parts():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py"), "--cpu"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    gap = re.search(r"engine vs trainer: (\S+)", proc.stdout)
    assert gap and float(gap.group(1)) <= 1e-3, proc.stdout
    assert re.search(r"vLLM backend: .* ok$", proc.stdout, re.M), proc.stdout
