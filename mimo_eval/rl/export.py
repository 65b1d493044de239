"""`mimo-eval export verl|trl CONFIG.yaml --out DIR`: the same recipe, data and reward, on a framework that scales.

verl (pinned: 0.9.1; tests/test_rl_export.py runs verl's own config validation on the written launch) gets these
files, and no verl code:
- `reward_fn.py`: registers the config's data-source routes and re-exports `graders.rewards.verl.compute_score`
  (and its async / batch forms), verl's `custom_reward_function`;
- `overrides.txt`: one Hydra override per line (no KL, clip-higher, token-mean, GRPO advantages, filter_groups
  dynamic sampling, batch / mini-batch / micro-batch, lr, temperature / top-p, G, lengths, rollout tensor
  parallel, validation, logger, LoRA);
- `run_verl.sh`: `python -m verl.trainer.main_ppo $(cat overrides.txt)` plus the cluster size you pass;
- `model/` when the config builds its model (`model: llama-config`, the bundled example): the initial weights and
  tokenizer, saved with save_pretrained, since verl loads a model by path.
What verl 0.9.1 does differently, said in run_verl.sh and docs/training.md:
- dynamic sampling: its V1 ReplayBuffer fetches prompts one at a time (`data.gen_batch_size` is forced to 1),
  refills twice the number of filtered groups with at most `max_inflight_gen_batches` train batches in flight,
  and never gives up: `max_num_gen_batches` is ignored (it logs a warning), so our `max_gen_rounds` has no
  equivalent and neither key is written;
- its PPO loss always applies dual-clip (`clip_ratio_c`, default 3.0), which ours applies only with `dual_clip`:
  without it the export writes clip_ratio_c=1e9, above the largest ratio verl computes (it clamps the log-ratio
  at 20, so ratio <= e^20 ~ 4.9e8), so the bound never binds and the two losses are equal (exactness test);
- no easy-data pool: its curriculum-sampler hook (`data.sampler.class_path`) is gone from 0.9.1's config, and
  `trainer.v1.sampler.custom_sampler` is a replay-buffer sampler with other semantics; no continuous rollout with
  FIFO early termination either (research/rl_loop.md §4.4).

TRL (1.16.0) gets `train_trl.py` with the equivalent `GRPOConfig` and our reward (`graders.rewards.trl.reward`);
its docstring lists what GRPOTrainer lacks and where its loss differs (see TRAIN_TRL).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from mimo_eval.rl.config import ConfigError, RLConfig

VERL_VERSION = "0.9.1"
TRL_VERSION = "1.16.0"


NO_DUAL_CLIP = 1e9   # > e^20, the largest ratio verl 0.9.1 computes: its dual clip then never binds


def verl_overrides(cfg: RLConfig, reward_fn: str, model_path: str) -> list[str]:
    a, r = "actor_rollout_ref.actor", "actor_rollout_ref.rollout"
    if cfg.loss_agg not in ("token-mean", "seq-mean-token-mean"):
        raise ConfigError(f"loss_agg: {cfg.loss_agg} has no verl equivalent")
    out = [
        f"data.train_files={cfg.data}", f"data.val_files={cfg.val_data or cfg.data}",
        f"data.train_batch_size={cfg.train_batch}", f"data.max_prompt_length={cfg.max_prompt_tokens}",
        f"data.max_response_length={cfg.max_new_tokens}", f"data.seed={cfg.seed}",
        f"actor_rollout_ref.model.path={model_path}",
        f"actor_rollout_ref.model.enable_gradient_checkpointing={cfg.gradient_checkpointing is not False}",
        "algorithm.adv_estimator=grpo", f"algorithm.norm_adv_by_std_in_grpo={cfg.scale_rewards == 'group'}",
        "algorithm.use_kl_in_reward=False", "algorithm.kl_ctrl.kl_coef=0.0",
        f"{a}.use_kl_loss={cfg.beta > 0}", f"{a}.kl_loss_coef={cfg.beta}", f"{a}.kl_loss_type=low_var_kl",
        f"{a}.clip_ratio_low={cfg.eps_low}", f"{a}.clip_ratio_high={cfg.eps_high}",
        f"{a}.clip_ratio_c={cfg.dual_clip if cfg.dual_clip is not None else NO_DUAL_CLIP}",
        f"{a}.loss_agg_mode={cfg.loss_agg}", f"{a}.entropy_coeff=0",
        f"{a}.ppo_mini_batch_size={cfg.mini_batch}", f"{a}.ppo_epochs=1",
        f"{a}.optim.lr={cfg.lr}", f"{a}.optim.weight_decay={cfg.weight_decay}", f"{a}.grad_clip={cfg.grad_clip}",
        f"{r}.name=vllm", f"{r}.n={cfg.group_size}", f"{r}.temperature={cfg.temperature}", f"{r}.top_p={cfg.top_p}",
        f"{r}.tensor_model_parallel_size={cfg.tensor_parallel}",
        f"{r}.gpu_memory_utilization={cfg.vllm_gpu_memory_utilization}",
        f"reward.custom_reward_function.path={reward_fn}", "reward.custom_reward_function.name=compute_score",
        f"trainer.total_training_steps={cfg.steps}", f"trainer.save_freq={cfg.save_every}",
        "trainer.resume_mode=auto", f"trainer.experiment_name={Path(cfg.output_dir).name}",
    ]
    out += _micro_batches(cfg) + _validation(cfg) + _logger(cfg)
    if cfg.lora_rank:
        out += [f"actor_rollout_ref.model.lora_rank={cfg.lora_rank}",
                f"actor_rollout_ref.model.lora_alpha={cfg.lora_alpha}",
                f"actor_rollout_ref.model.target_modules={cfg.lora_target_modules}"]
    if cfg.dynamic_sampling:  # verl 0.9.1 refills until the batch is full; max_num_gen_batches would be ignored
        out += ["algorithm.filter_groups.enable=True", "algorithm.filter_groups.metric=acc"]
    return out


def _micro_batches(cfg: RLConfig) -> list[str]:
    """Sequences per forward on one GPU: micro_batch as given; 0 (ours: the whole mini-batch) becomes verl's
    token-budget batching, twice the longest sequence per GPU as verl's DAPO recipe sets it."""
    if cfg.micro_batch:
        return [f"actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu={cfg.micro_batch}",
                f"actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu={cfg.micro_batch}",
                f"actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu={cfg.micro_batch}"]
    return ["actor_rollout_ref.actor.use_dynamic_bsz=True",
            f"actor_rollout_ref.actor.ppo_max_token_len_per_gpu={2 * (cfg.max_prompt_tokens + cfg.max_new_tokens)}"]


def _validation(cfg: RLConfig) -> list[str]:
    """verl validates on val_data with our evaluation settings; without val_data it never validates (it still
    reads data.val_files, so that points at the training file)."""
    if not cfg.val_data:
        return ["trainer.val_before_train=False", "trainer.test_freq=-1"]
    v = "actor_rollout_ref.rollout.val_kwargs"
    return ["trainer.val_before_train=True", f"trainer.test_freq={cfg.eval_every or cfg.save_every}",
            f"{v}.do_sample=True", f"{v}.temperature={cfg.eval_temperature}", f"{v}.top_p={cfg.eval_top_p}",
            f"{v}.n={cfg.eval_n}"]


def _logger(cfg: RLConfig) -> list[str]:
    if not cfg.wandb_project:
        return ["trainer.logger=[console]"]
    return ["trainer.logger=[console,wandb]", f"trainer.project_name={cfg.wandb_project}"]


REWARD_FN = '''"""verl reward for this run, written by `mimo-eval export verl` (needs mimo-eval installed in verl's env)."""
from graders.rewards.routing import register
from graders.rewards.verl import acompute_score, compute_score, compute_score_batch  # noqa: F401

for _source, _kind in {routes}.items():
    register(_source, _kind)
'''

RUN_SH = '''#!/usr/bin/env bash
# Written by `mimo-eval export verl` for verl=={version}. MiMo-7B's recipe through verl's own trainer.
# Not available in verl {version}: MiMo's easy-data pool (easy_alpha={alpha} in the source config) and the
# continuous rollout with FIFO early termination of the bundled scheduler. Dynamic sampling refills until the
# batch is full (verl ignores max_num_gen_batches; max_gen_rounds={rounds} has no equivalent).
#   NNODES=4 GPUS_PER_NODE=8 bash run_verl.sh [more hydra overrides]
set -euo pipefail
cd "$(dirname "$0")"
mapfile -t OVERRIDES < overrides.txt
exec python -m verl.trainer.main_ppo "${{OVERRIDES[@]}}" \\
    trainer.nnodes="${{NNODES:-1}}" trainer.n_gpus_per_node="${{GPUS_PER_NODE:-8}}" "$@"
'''


def export_verl(cfg: RLConfig, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    model_path = cfg.model
    if cfg.model == "llama-config":  # verl loads by path: save the config-built initial model and its tokenizer
        model_path = str(_save_initial_model(cfg, out / "model").resolve())
        written.append(out / "model")
    reward_fn = out / "reward_fn.py"
    reward_fn.write_text(REWARD_FN.format(routes=json.dumps(dict(cfg.reward_routes))))
    overrides = out / "overrides.txt"
    overrides.write_text("\n".join(verl_overrides(cfg, str(reward_fn.resolve()), model_path)) + "\n")
    script = out / "run_verl.sh"
    script.write_text(RUN_SH.format(version=VERL_VERSION, alpha=cfg.easy_alpha, rounds=cfg.max_gen_rounds))
    script.chmod(0o755)
    return [reward_fn, overrides, script, *written]


def _save_initial_model(cfg: RLConfig, path: Path) -> Path:
    from mimo_eval.rl.policy import build_model, build_tokenizer, save_pretrained

    tokenizer = build_tokenizer(cfg)
    init = dataclasses.replace(cfg, device="cpu", lora_rank=0, gradient_checkpointing=False)
    save_pretrained(build_model(init, tokenizer), tokenizer, path)
    return path


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
Loss normalisation: TRL's "dapo" divides each optimiser step's token sum by the generation batch's token count
divided by steps_per_generation (here {spg}), i.e. by the average tokens per update, where the bundled loop and
verl divide by that update's own token count. With steps_per_generation 1 they are equal; with more, an update
whose completions are longer than average weighs proportionally more in TRL (same direction, other step size).
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
    out.mkdir(parents=True, exist_ok=True)
    written = []
    model_path = cfg.model
    if cfg.model == "llama-config":  # TRL loads by name too
        model_path = str(_save_initial_model(cfg, out / "model").resolve())
        written.append(out / "model")
    path = out / "train_trl.py"
    path.write_text(TRAIN_TRL.format(version=TRL_VERSION, routes=json.dumps(dict(cfg.reward_routes)),
                                     loader="parquet" if cfg.data.endswith(".parquet") else "json", data=cfg.data,
                                     config=json.dumps(trl_config(cfg), indent=4), model=model_path,
                                     spg=cfg.train_batch // cfg.mini_batch))
    return [path, *written]
