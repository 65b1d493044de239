"""RLConfig and `mimo-eval train` errors (mimo_eval/rl/config.py, mimo_eval/cli/rl_commands.py): each bad key or
value is one line naming it, exit status 2; the config is written whole into the run directory.

    python -m pytest -q tests/test_rl_config.py
"""
from __future__ import annotations

import pytest

from mimo_eval.cli import main
from mimo_eval.rl.config import ConfigError, from_mapping

BASE = {"model": "llama-config", "model_config": {"hidden_size": 8}}


@pytest.mark.parametrize("bad, named", [
    ({"learning_rate": 1e-6}, "unknown config key 'learning_rate'"),     # TRL's name, not ours
    ({"lr": "fast"}, "lr: expected a number"),
    ({"steps": 2.5}, "steps: expected an integer"),
    ({"dynamic_sampling": "yes"}, "dynamic_sampling: expected true or false"),
    ({"loss_agg": "sum"}, "loss_agg: 'sum' is not one of"),
    ({"train_batch": 32, "mini_batch": 5}, "mini_batch: 5 must divide"),
    ({"group_size": 1}, "group_size: must be >= 2"),
    ({"easy_alpha": 1.5}, "easy_alpha"),
    ({"adam_betas": [0.9]}, "adam_betas: expected a list of numbers"),
    ({"dtype": "bfloat16"}, "dtype: replaced by precision"),               # the old key says where it went
    ({"precision": "bf16"}, "precision: 'bf16' is not one of"),            # pure bf16 weights lose lr-1e-6 updates
    ({"dual_clip": 1.0}, "dual_clip: the bound must be > 1"),
    ({"eval_every": 10}, "eval_benchmarks: eval_every > 0 needs benchmarks"),
    ({"eval_benchmarks": {"aime24": -1}}, "eval_benchmarks: each value is a problem count"),
    ({"lora_rank": -4}, "lora_rank: must be >= 0"),
])
def test_bad_values_are_named(bad, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(")):
        from_mapping({**BASE, **bad})


def test_yaml_numbers_become_the_declared_types():
    cfg = from_mapping({**BASE, "lr": 1, "adam_betas": [0.9, 0.95], "reward_timeout_s": None})
    assert (cfg.lr, cfg.adam_betas, cfg.reward_timeout_s) == (1.0, (0.9, 0.95), None)


def test_cli_reports_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("model: llama-config\nmodel_config: {hidden_size: 8}\nbatch: 3\n")
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown config key 'batch'" in err


def test_resuming_with_a_changed_recipe_is_refused(tmp_path):
    pytest.importorskip("torch")
    from mimo_eval.rl.trainer import _check_run_dir

    cfg = from_mapping({**BASE, "output_dir": str(tmp_path)})
    _check_run_dir(tmp_path, cfg)
    assert (tmp_path / "config.json").is_file()
    _check_run_dir(tmp_path, from_mapping({**BASE, "output_dir": str(tmp_path), "steps": 500}))  # longer run: fine
    with pytest.raises(ConfigError, match="different 'lr'"):
        _check_run_dir(tmp_path, from_mapping({**BASE, "output_dir": str(tmp_path), "lr": 1e-3}))


def test_a_run_from_before_a_new_key_resumes_at_its_default(tmp_path):
    """config.json written before the rollout keys existed: they count at their defaults, a changed one is refused."""
    import json

    pytest.importorskip("torch")

    from mimo_eval.rl.trainer import _check_run_dir

    cfg = from_mapping({**BASE, "output_dir": str(tmp_path)})
    _check_run_dir(tmp_path, cfg)
    old = json.loads((tmp_path / "config.json").read_text())
    for key in ("rollout", "rollout_capacity", "rollout_margin_sd", "async_reward", "early_termination"):
        del old[key]
    (tmp_path / "config.json").write_text(json.dumps(old))
    _check_run_dir(tmp_path, cfg)
    (tmp_path / "config.json").write_text(json.dumps(old))
    with pytest.raises(ConfigError, match="different 'early_termination'"):
        _check_run_dir(tmp_path, from_mapping({**BASE, "output_dir": str(tmp_path), "early_termination": False}))
