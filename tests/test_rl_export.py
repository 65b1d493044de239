"""`mimo-eval export verl|trl` (mimo_eval/rl/export.py): the written launch passes verl 0.9.1's own config
validation (Hydra composition, then `validate_config`, verl's config dataclasses and its reward-function loader:
tools/verl_compose.py) and every override reads back as written, for MiMo's numbers, for a config with
micro-batches, validation data, wandb, dual-clip and rollout TP 2, and for the bundled example (whose config-built
model is saved for verl to load); the TRL config builds a real GRPOConfig.

    python -m pytest -q tests/test_rl_export.py        # ~1 min; MIMO_VERL_PYTHON=... to use another verl env

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
import yaml

from conftest import in_ci
from mimo_eval.rl.config import from_mapping, load_config
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


EXAMPLE = ROOT / "examples" / "rl_toy.yaml"
TUNED = {**MIMO.to_json(), "micro_batch": 4, "val_data": "/data/aime24.parquet",
         "eval_every": 20, "eval_benchmarks": {"aime24": 0}, "eval_n": 4, "wandb_project": "mimo", "dual_clip": 3.0,
         "tensor_parallel": 2}   # not lora_rank: verl checks it against vLLM's limits, and vLLM is not in .venvs/verl


def _validate(python: str, out: Path) -> dict:
    """verl's own checks on the written launch, with run_verl.sh's default cluster (1 node x 8 GPUs)."""
    proc = subprocess.run([python, str(ROOT / "tools" / "verl_compose.py"), str(out / "overrides.txt"),
                           "trainer.nnodes=1", "trainer.n_gpus_per_node=8"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["verl"] == "0.9.1" and report["validated"] is True
    for line in (out / "overrides.txt").read_text().splitlines():
        key, value = line.split("=", 1)
        got = report["values"][key]
        assert str(got) == value or yaml.safe_load(value) == got, (key, value, got)
    return dict(line.split("=", 1) for line in (out / "overrides.txt").read_text().splitlines())


@pytest.mark.parametrize("name", ["mimo", "tuned"])
def test_verl_launch_passes_verls_own_validation(tmp_path, name):
    python = _verl_python()
    cfg = MIMO if name == "mimo" else from_mapping(TUNED)
    export_verl(cfg, tmp_path)
    written = _validate(python, tmp_path)
    if name == "mimo":   # micro_batch 0 (the whole mini-batch): verl's token-budget batching, no validation
        assert written["actor_rollout_ref.actor.use_dynamic_bsz"] == "True"
        assert written["trainer.test_freq"] == "-1" and written["trainer.logger"] == "[console]"
        assert written["actor_rollout_ref.actor.clip_ratio_c"] == "1000000000.0"   # dual clip never binds
    else:
        assert written["actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu"] == "4"
        assert written["actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu"] == "4"
        assert written["data.val_files"] == "/data/aime24.parquet" and written["trainer.test_freq"] == "20"
        assert written["trainer.logger"] == "[console,wandb]" and written["trainer.project_name"] == "mimo"
        assert written["actor_rollout_ref.actor.clip_ratio_c"] == "3.0"
        assert written["actor_rollout_ref.rollout.tensor_model_parallel_size"] == "2"
    assert not any(k.endswith(("max_num_gen_batches", "gen_batch_size")) for k in written)  # ignored by 0.9.1


def test_the_bundled_example_exports_and_validates(tmp_path):
    """model: llama-config is built and saved (weights + tokenizer) for verl to load by path."""
    python = _verl_python()
    pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    written = export_verl(load_config(EXAMPLE), tmp_path)
    assert tmp_path / "model" in written
    overrides = _validate(python, tmp_path)
    assert overrides["actor_rollout_ref.model.path"] == str((tmp_path / "model").resolve())
    AutoModelForCausalLM.from_pretrained(tmp_path / "model")
    assert AutoTokenizer.from_pretrained(tmp_path / "model").eos_token == "</s>"


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
    assert "steps_per_generation (here 16)" in script     # where TRL's dapo normaliser differs from ours
