"""`mimo-eval export verl|trl CONFIG.yaml --out DIR`: the same recipe, data and reward, on a framework that scales.

verl (pinned: 0.9.1, the version the override test composes against) gets three files, and no verl code:
- `reward_fn.py`: registers the config's data-source routes and re-exports `graders.rewards.verl.compute_score`
  (and its async / batch forms), verl's `custom_reward_function`;
- `overrides.txt`: one Hydra override per line (no KL, clip-higher, token-mean, GRPO advantages, filter_groups
  dynamic sampling with its generation-batch guard, batch / mini-batch, lr, temperature / top-p, G, lengths);
- `run_verl.sh`: `python -m verl.trainer.main_ppo $(cat overrides.txt)` plus the cluster size you pass.
What verl 0.9.1 lacks: the easy-data pool. Its curriculum-sampler hook (`data.sampler.class_path`) is gone from
0.9.1's config, and `trainer.v1.sampler.custom_sampler` is a replay-buffer sampler with other semantics, so no
sampler is written; the script says so. Continuous rollout with FIFO early termination has no verl switch
either (research/rl_loop.md §4.4).

TRL (1.16.0) gets `train_trl.py` with the equivalent `GRPOConfig` and our reward (`graders.rewards.trl.reward`);
its docstring lists what GRPOTrainer lacks: dynamic sampling (trl #3708) and the easy pool.
"""
from __future__ import annotations

import json
from pathlib import Path

from mimo_eval.rl.config import ConfigError, RLConfig

VERL_VERSION = "0.9.1"
TRL_VERSION = "1.16.0"


def verl_overrides(cfg: RLConfig, reward_fn: str) -> list[str]:
    a, r = "actor_rollout_ref.actor", "actor_rollout_ref.rollout"
    if cfg.loss_agg not in ("token-mean", "seq-mean-token-mean"):
        raise ConfigError(f"loss_agg: {cfg.loss_agg} has no verl equivalent")
    out = [
        f"data.train_files={cfg.data}", f"data.val_files={cfg.data}",
        f"data.train_batch_size={cfg.train_batch}", f"data.max_prompt_length={cfg.max_prompt_tokens}",
        f"data.max_response_length={cfg.max_new_tokens}", f"data.seed={cfg.seed}",
        f"actor_rollout_ref.model.path={cfg.model}",
        "algorithm.adv_estimator=grpo", f"algorithm.norm_adv_by_std_in_grpo={cfg.scale_rewards == 'group'}",
        "algorithm.use_kl_in_reward=False", "algorithm.kl_ctrl.kl_coef=0.0",
        f"{a}.use_kl_loss={cfg.beta > 0}", f"{a}.kl_loss_coef={cfg.beta}", f"{a}.kl_loss_type=low_var_kl",
        f"{a}.clip_ratio_low={cfg.eps_low}", f"{a}.clip_ratio_high={cfg.eps_high}",
        f"{a}.loss_agg_mode={cfg.loss_agg}", f"{a}.entropy_coeff=0",
        f"{a}.ppo_mini_batch_size={cfg.mini_batch}", f"{a}.ppo_epochs=1",
        f"{a}.optim.lr={cfg.lr}", f"{a}.optim.weight_decay={cfg.weight_decay}", f"{a}.grad_clip={cfg.grad_clip}",
        f"{r}.name=vllm", f"{r}.n={cfg.group_size}", f"{r}.temperature={cfg.temperature}", f"{r}.top_p={cfg.top_p}",
        f"{r}.gpu_memory_utilization={cfg.vllm_gpu_memory_utilization}",
        f"reward.custom_reward_function.path={reward_fn}", "reward.custom_reward_function.name=compute_score",
        f"trainer.total_training_steps={cfg.steps}", f"trainer.save_freq={cfg.save_every}",
        "trainer.resume_mode=auto",
    ]
    if cfg.dynamic_sampling:  # MiMo's over-sample-and-filter; verl draws gen batches of 3x and refills
        out += ["algorithm.filter_groups.enable=True", "algorithm.filter_groups.metric=acc",
                f"algorithm.filter_groups.max_num_gen_batches={cfg.max_gen_rounds}",
                f"data.gen_batch_size={3 * cfg.train_batch}"]
    return out


REWARD_FN = '''"""verl reward for this run, written by `mimo-eval export verl` (needs mimo-eval installed in verl's env)."""
from graders.rewards.routing import register
from graders.rewards.verl import acompute_score, compute_score, compute_score_batch  # noqa: F401

for _source, _kind in {routes}.items():
    register(_source, _kind)
'''

RUN_SH = '''#!/usr/bin/env bash
# Written by `mimo-eval export verl` for verl=={version}. MiMo-7B's recipe through verl's own trainer.
# Not available in verl {version}: MiMo's easy-data pool (easy_alpha={alpha} in the source config) and the
# continuous rollout with FIFO early termination of the bundled scheduler.
#   NNODES=4 GPUS_PER_NODE=8 bash run_verl.sh [more hydra overrides]
set -euo pipefail
cd "$(dirname "$0")"
mapfile -t OVERRIDES < overrides.txt
exec python -m verl.trainer.main_ppo "${{OVERRIDES[@]}}" \\
    trainer.nnodes="${{NNODES:-1}}" trainer.n_gpus_per_node="${{GPUS_PER_NODE:-8}}" "$@"
'''


def export_verl(cfg: RLConfig, out: Path) -> list[Path]:
    if cfg.model == "llama-config":
        raise ConfigError("model: export verl needs a Hub id or a directory (verl loads the model by path)")
    out.mkdir(parents=True, exist_ok=True)
    reward_fn = out / "reward_fn.py"
    reward_fn.write_text(REWARD_FN.format(routes=json.dumps(dict(cfg.reward_routes))))
    overrides = out / "overrides.txt"
    overrides.write_text("\n".join(verl_overrides(cfg, str(reward_fn.resolve()))) + "\n")
    script = out / "run_verl.sh"
    script.write_text(RUN_SH.format(version=VERL_VERSION, alpha=cfg.easy_alpha))
    script.chmod(0o755)
    return [reward_fn, overrides, script]


def trl_config(cfg: RLConfig) -> dict:
    """GRPOConfig keyword arguments. One TRL generation = train_batch prompts x G; it is consumed in
    train_batch / mini_batch optimiser steps of mini_batch x G completions each."""
    return {"output_dir": cfg.output_dir, "seed": cfg.seed, "max_steps": cfg.steps,
            "learning_rate": cfg.lr, "weight_decay": cfg.weight_decay, "adam_beta1": cfg.adam_betas[0],
            "adam_beta2": cfg.adam_betas[1], "max_grad_norm": cfg.grad_clip, "warmup_steps": cfg.warmup_steps,
            "lr_scheduler_type": "constant_with_warmup" if cfg.warmup_steps else "constant",
            "beta": cfg.beta, "epsilon": cfg.eps_low, "epsilon_high": cfg.eps_high,
            "loss_type": "dapo" if cfg.loss_agg == "token-mean" else "grpo",
            "scale_rewards": "group" if cfg.scale_rewards == "group" else "none",
            "num_generations": cfg.group_size, "temperature": cfg.temperature, "top_p": cfg.top_p,
            "max_completion_length": cfg.max_new_tokens,
            "per_device_train_batch_size": cfg.mini_batch * cfg.group_size, "gradient_accumulation_steps": 1,
            "steps_per_generation": cfg.train_batch // cfg.mini_batch, "num_iterations": 1,
            "save_steps": cfg.save_every, "logging_steps": 1}


TRAIN_TRL = '''"""TRL {version} GRPOTrainer with this run's recipe and reward, written by `mimo-eval export trl`.

TRL lacks, compared with the bundled loop: dynamic sampling (drop groups with pass rate 0 or 1 and refill:
trl #3708 is open; here those groups get zero advantage and are trained on), MiMo's easy-data pool, and the
continuous rollout / FIFO early termination scheduler. A masked reward (None) is left out of its group's
baseline by TRL, as in our loop.
    python train_trl.py
"""
from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer

from graders.rewards.routing import register
from graders.rewards.trl import make_reward

for source, kind in {routes}.items():
    register(source, kind)

# verl layout -> TRL: "prompt" stays the chat messages, the gold moves to a column of its own
data = load_dataset("{loader}", data_files="{data}", split="train")
data = data.map(lambda row: {{"ground_truth": row["reward_model"]["ground_truth"]}})
config = GRPOConfig(**{config})
trainer = GRPOTrainer(model="{model}", args=config, train_dataset=data, reward_funcs=[make_reward("ground_truth")])
trainer.train()
'''


def export_trl(cfg: RLConfig, out: Path) -> list[Path]:
    if cfg.model == "llama-config":
        raise ConfigError("model: export trl needs a Hub id or a directory (TRL loads the model by name)")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "train_trl.py"
    path.write_text(TRAIN_TRL.format(version=TRL_VERSION, routes=json.dumps(dict(cfg.reward_routes)),
                                     loader="parquet" if cfg.data.endswith(".parquet") else "json", data=cfg.data,
                                     config=json.dumps(trl_config(cfg), indent=4), model=cfg.model))
    return [path]
