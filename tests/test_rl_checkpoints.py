"""What the RL loop leaves behind (mimo_eval/rl/trainer.py, evaluate.py, policy.py), on CPU with the toy example.

    python -m pytest -q tests/test_rl_checkpoints.py        # ~1-2 min on a loaded 2-core machine

- save_pretrained folders output_dir/hf/step_N (every hf_save_every and at the end) that `mimo-eval run --backend
  hf --model` evaluates: the harness's samples of the saved model are the very samples the loop's own evaluation
  took at that step (same code path, same seeds), so the saved weights are the trained ones;
- evaluation during training logs val/toy_add/pass@1 and leaves an ordinary run directory;
- LoRA (peft): only the adapters train; the saved folder is a plain transformers model with the adapters merged;
- over-long prompts are skipped and counted, and a run resumes with a larger max_prompt_tokens;
- wandb (offline mode) receives the step metrics.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from graders.rewards.pool import RewardPool  # noqa: E402
from mimo_eval.rl.config import load_config  # noqa: E402
from mimo_eval.rl.trainer import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "rl_toy.yaml"


@pytest.fixture(scope="module")
def pool():
    with RewardPool(workers=2) as p:
        yield p


def _cfg(tmp: Path, **over):
    return load_config(EXAMPLE, {"progress": False, "output_dir": str(tmp), "eval_every": 0, **over})


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _texts(run_dir: Path) -> dict:
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    return {(r["problem_id"], r["sample_index"]): r["text"] for r in rows}


def test_saved_model_evaluates_through_the_harness_as_the_loop_did(tmp_path, pool):
    run = tmp_path / "run"
    train(_cfg(run, steps=4, hf_save_every=2, eval_every=4, eval_n=4), rewards=pool)
    assert sorted(p.name for p in (run / "hf").iterdir()) == ["step_2", "step_4"]
    in_loop = _rows(run)[-1]["val/toy_add/pass@1"]
    loop_run = run / "eval" / "step_4" / "step_4__toy_add"
    cmd = [sys.executable, "-m", "mimo_eval.cli", "run", "toy_add", "--backend", "hf", "--model",
           str(run / "hf" / "step_4"), "--n", "4", "--max-tokens", "2", "--out", str(tmp_path / "runs")]
    proc = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    harness_run = next((tmp_path / "runs").glob("*__toy_add"))
    summary = json.loads((harness_run / "summary.json").read_text())
    assert summary["pass@1"] == in_loop
    assert _texts(harness_run) == _texts(loop_run) and len(_texts(loop_run)) == 19 * 4


def test_lora_trains_adapters_only_and_saves_a_merged_model(tmp_path, pool):
    pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    run = tmp_path / "lora"
    train(_cfg(run, steps=2, lora_rank=4, lora_alpha=8, lr=0.01, max_gen_rounds=2), rewards=pool)
    state = torch.load(run / "checkpoint-2" / "state.pt", weights_only=False)
    trained = {k for group in state["optimizer"]["param_groups"] for k in group["params"]}
    assert len(trained) == 2 * 7 * 2        # A and B of q, k, v, o, gate, up, down in each of 2 layers
    saved = AutoModelForCausalLM.from_pretrained(run / "hf" / "step_2")
    names = {n for n, _ in saved.named_parameters()}
    assert not any("lora" in n for n in names)
    from mimo_eval.rl.policy import build_model, build_tokenizer

    cfg = _cfg(run, steps=2)
    base = build_model(cfg, build_tokenizer(cfg))    # the same seeded initial weights, no adapters
    moved = [n for n, p in saved.named_parameters() if not torch.equal(p, dict(base.named_parameters())[n])]
    assert moved and all("proj" in n for n in moved)   # the merged adapters changed the linear layers only


def _data_with_a_long_prompt(tmp_path: Path) -> Path:
    rows = (ROOT / "examples" / "rl_toy" / "train.jsonl").read_text().splitlines()
    long = json.loads(rows[0])
    long["prompt"][0]["content"] = " ".join(["Q"] * 40) + " 1 + 1 A"
    long["reward_model"]["ground_truth"] = "2"
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(rows + [json.dumps(long)]) + "\n")
    return path


def test_overlong_prompts_are_skipped_and_a_larger_limit_resumes(tmp_path, pool):
    data = _data_with_a_long_prompt(tmp_path)
    run = tmp_path / "run"
    train(_cfg(run, data=str(data), steps=2, save_every=1, max_gen_rounds=2), rewards=pool)
    assert sum(r["prompts/skipped_too_long"] for r in _rows(run)) >= 1
    train(_cfg(run, data=str(data), steps=3, save_every=1, max_gen_rounds=2, max_prompt_tokens=64), rewards=pool)
    rows = _rows(run)
    assert [r["step"] for r in rows] == [1, 2, 3] and rows[-1]["prompts/skipped_too_long"] == 0


def test_wandb_offline_receives_the_metrics(tmp_path, pool, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run = tmp_path / "run"
    train(_cfg(run, steps=2, max_gen_rounds=2, wandb_project="mimo-eval-test"), rewards=pool)
    run_id = (run / "wandb_id").read_text().strip()
    offline = list((run / "wandb").glob(f"offline-run-*-{run_id}"))
    assert len(offline) == 1 and any(offline[0].glob("*.wandb"))
