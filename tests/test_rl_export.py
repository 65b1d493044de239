"""`mimo-eval export verl|trl` (mimo_eval/rl/export.py): the written overrides compose in verl's own Hydra config
and read back as written; the TRL config builds a real GRPOConfig.

    MIMO_VERL_PYTHON=/path/to/verl-env/bin/python python -m pytest -q tests/test_rl_export.py

verl (0.9.1) is found through MIMO_VERL_PYTHON, else `.venvs/verl/bin/python` under the repository root (what
tools/setup_frameworks.sh creates). Missing: skipped locally, a failure in CI (conftest.in_ci: CI=true, or what
.ci/run sets).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import in_ci
from mimo_eval.rl.config import from_mapping
from mimo_eval.rl.export import export_trl, export_verl, trl_config

ROOT = Path(__file__).resolve().parents[1]
MIMO = from_mapping({  # MiMo-7B's published numbers (§3.3.3); eps DAPO's; G 16 as DAPO and verl's MiMo example
    "model": "XiaomiMiMo/MiMo-7B-Base", "data": "/data/dapo_math_17k.parquet", "train_batch": 512,
    "mini_batch": 32, "group_size": 16, "lr": 1e-6, "max_new_tokens": 32768 - 1024, "reward_routes": {"toy": "math"}})


def _verl_python() -> str:
    candidate = os.environ.get("MIMO_VERL_PYTHON") or str(ROOT / ".venvs" / "verl" / "bin" / "python")
    if not Path(candidate).is_file():
        if in_ci():
            pytest.fail(f"verl {candidate} is missing: set MIMO_VERL_PYTHON or run tools/setup_frameworks.sh")
        pytest.skip(f"no verl interpreter at {candidate} (set MIMO_VERL_PYTHON)")
    return candidate


def test_verl_overrides_compose_in_verls_config(tmp_path):
    python = _verl_python()
    export_verl(MIMO, tmp_path)
    proc = subprocess.run([python, str(ROOT / "tools" / "verl_compose.py"), str(tmp_path / "overrides.txt")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["verl"] == "0.9.1"
    for line in (tmp_path / "overrides.txt").read_text().splitlines():
        key, value = line.split("=", 1)
        assert str(report["values"][key]) == value, key


def test_verl_export_carries_mimos_recipe(tmp_path):
    export_verl(MIMO, tmp_path)
    overrides = dict(line.split("=", 1) for line in (tmp_path / "overrides.txt").read_text().splitlines())
    expected = {"actor_rollout_ref.actor.use_kl_loss": "False", "algorithm.kl_ctrl.kl_coef": "0.0",
                "actor_rollout_ref.actor.clip_ratio_low": "0.2", "actor_rollout_ref.actor.clip_ratio_high": "0.28",
                "actor_rollout_ref.actor.loss_agg_mode": "token-mean", "algorithm.filter_groups.enable": "True",
                "data.train_batch_size": "512", "actor_rollout_ref.actor.ppo_mini_batch_size": "32",
                "actor_rollout_ref.actor.optim.lr": "1e-06", "actor_rollout_ref.rollout.temperature": "1.0",
                "actor_rollout_ref.rollout.top_p": "1.0", "actor_rollout_ref.rollout.n": "16"}
    assert {k: overrides[k] for k in expected} == expected
    assert "easy-data pool" in (tmp_path / "run_verl.sh").read_text()


def test_verl_reward_module_scores_through_our_grader(tmp_path):
    """The written reward_fn.py imports, registers the config's routes and grades like verl calls it."""
    export_verl(MIMO, tmp_path)
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import reward_fn; "
            "print(reward_fn.compute_score(data_source='toy', solution_str='so \\\\boxed{4}', ground_truth='4')['score'])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "1.0"


def test_trl_config_is_a_valid_grpo_config(tmp_path):
    trl = pytest.importorskip("trl")
    kwargs = trl_config(MIMO)
    config = trl.GRPOConfig(**{**kwargs, "output_dir": str(tmp_path), "use_cpu": True})
    assert (config.epsilon, config.epsilon_high, config.beta, config.loss_type) == (0.2, 0.28, 0.0, "dapo")
    assert config.num_generations == 16 and config.steps_per_generation == 16
    assert config.per_device_train_batch_size == 32 * 16
    script = export_trl(MIMO, tmp_path)[0].read_text()
    compile(script, "train_trl.py", "exec")
    assert "dynamic sampling" in script and "#3708" in script
