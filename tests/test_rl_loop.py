"""The bundled loop end to end on CPU (mimo_eval/rl/trainer.py): a config-built 0.1M-parameter Llama, the in-code
tokenizer, the toy task of examples/rl_toy.yaml, the real RewardPool and the real math grader.

    python -m pytest -q tests/test_rl_loop.py

- reward goes up: mean reward of the last 10 steps beats the first 10 by >= 0.08 on each of three seeds (the
  task starts near 0.05; measured 0.048 -> 0.194, 0.057 -> 0.237, 0.052 -> 0.190 for seeds 0, 1, 2);
- resume: N steps + checkpoint + resume + N steps gives the same losses as 2N uninterrupted (within 1e-6), also
  when the resume lands on an epoch boundary (verl #5725), and after a `kill -9` of a CLI run.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
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
    return load_config(EXAMPLE, {"progress": False, "output_dir": str(tmp), **over})


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reward_goes_up(tmp_path, pool, seed):
    rows = _rows(train(_cfg(tmp_path, seed=seed), rewards=pool))
    rewards = [r["reward/mean"] for r in rows]
    first, last = sum(rewards[:10]) / 10, sum(rewards[-10:]) / 10
    # a random policy stays near 0.05; measured +0.15, +0.18, +0.14 (seeds 0, 1, 2), so the margin is set below those
    assert last >= first + 0.08, (seed, first, last)


def _losses(run_dir: Path) -> list[float | None]:
    return [r["loss"] for r in _rows(run_dir)]


# 19 prompts, chunks of 4: each step draws 4-16 prompts, so 6 steps cross at least one epoch boundary
@pytest.mark.parametrize("split", [3, 1])
def test_resume_equals_uninterrupted(tmp_path, pool, split):
    over = {"steps": 6, "save_every": split, "max_gen_rounds": 2}
    whole = train(_cfg(tmp_path / "whole", **over), rewards=pool)
    parts = _cfg(tmp_path / "parts", **over)
    train(parts, rewards=pool, until=split)
    train(parts, rewards=pool)
    a, b = _losses(whole), _losses(tmp_path / "parts")
    assert len(a) == len(b) == 6
    assert all((x is None and y is None) or abs(x - y) <= 1e-6 for x, y in zip(a, b)), (a, b)


def test_resume_on_an_epoch_boundary_keeps_training(tmp_path, pool):
    """A checkpoint taken exactly when the cursor has used up the epoch resumes into the next epoch."""
    cfg = _cfg(tmp_path, steps=4, save_every=1, max_gen_rounds=1, rollout_chunk=19, dynamic_sampling=False)
    train(cfg, rewards=pool, until=1)
    from mimo_eval.rl.checkpoint import load_latest

    assert load_latest(tmp_path)["cursor"]["position"] == 19  # the whole epoch drawn in step 1
    train(cfg, rewards=pool)
    assert [r["step"] for r in _rows(tmp_path)] == [1, 2, 3, 4]


def test_kill_9_then_resume(tmp_path, pool):
    over = {"steps": 8, "save_every": 2, "max_gen_rounds": 2}
    whole = train(_cfg(tmp_path / "whole", **over), rewards=pool)
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "mimo_eval.cli", "train", str(EXAMPLE), "--set", f"output_dir={run}",
           "--set", "progress=false"] + [f"--set={k}={v}" for k, v in over.items()]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 600
    while not (run / "latest").is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    done_at_kill = len(_rows(run))
    assert done_at_kill < 8
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=900)
    a, b = _losses(whole), _losses(run)
    assert len(b) == 8 and all((x is None and y is None) or abs(x - y) <= 1e-6 for x, y in zip(a, b)), (a, b)
