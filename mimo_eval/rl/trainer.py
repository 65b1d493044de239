"""The GRPO loop: collect a batch of informative groups, compute advantages, take the mini-batch updates.

    mimo-eval train examples/rl_toy.yaml        # or: python -m mimo_eval.cli train CONFIG.yaml

One step = `scheduler.collect(train_batch)` (rollouts, rewards, dynamic sampling, easy pool), then
train_batch / mini_batch optimiser steps over those groups (the same samples; the first is on-policy, later
ones are slightly off-policy and the ratio clip applies, as in MiMo's 512 / 32). mini_batch == train_batch is
the on-policy setting of MiMo-7B-RL-0530: one update, ratio 1, the clip never binds. The old log-probs come from
the training model itself, so a rollout engine's numerics (vLLM) never enter the ratio.

Precision (policy.py): fp32 master weights and AdamW state, every forward under bf16 autocast when `precision` is
bf16-mixed (the default on CUDA); backward and the optimiser step outside autocast. Besides the exact-resume
checkpoints, the policy is saved with save_pretrained to `output_dir/hf/step_N` (every hf_save_every steps and at
the end), a folder `mimo-eval run --backend hf --model` evaluates; evaluate.py runs the harness during training.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from mimo_eval.rl import algo, checkpoint
from mimo_eval.rl.batch import build_batch, micro_slices
from mimo_eval.rl.config import ConfigError, RLConfig
from mimo_eval.rl.data import EasyPool, PromptCursor, load_problems
from mimo_eval.rl.logs import MetricsLog
from mimo_eval.rl.policy import (autocast, build_model, build_tokenizer, encoder, render, resolve_device,
                                 save_pretrained, set_determinism)
from mimo_eval.rl.scheduler import ChunkedScheduler, Group

# keys that may change between a run and its resumption; anything else must match the run directory's config.
# max_prompt_tokens may: a run that skipped long prompts can go on with a larger limit.
RESUMABLE = ("steps", "save_every", "keep_checkpoints", "progress", "tensorboard", "reward_workers",
             "max_prompt_tokens", "hf_save_every", "eval_every", "eval_benchmarks", "eval_n", "eval_temperature",
             "eval_top_p", "eval_max_new_tokens", "wandb_project", "wandb_run_name", "logprob_chunk")


class GRPOLoop:
    def __init__(self, cfg: RLConfig, *, rewards=None, kind_for: Callable[[str], str] | None = None):
        import torch

        if not cfg.data:
            raise ConfigError("data: required: a verl-layout .jsonl/.parquet file or a Hub dataset id")
        self.cfg = cfg
        self.device = resolve_device(cfg)[0]
        set_determinism(cfg, self.device)  # before the first CUDA matmul
        self.tokenizer = build_tokenizer(cfg)
        self.model = build_model(cfg, self.tokenizer)
        self.ref = build_model(cfg, self.tokenizer, trainable=False) if cfg.beta > 0 else None
        self.problems = load_problems(cfg.data)
        trainable = [p for p in self.model.parameters() if p.requires_grad]  # LoRA: the adapters only
        self.optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, betas=cfg.adam_betas, weight_decay=cfg.weight_decay)
        warmup = max(cfg.warmup_steps, 1)
        self.lr_schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda k: min(1.0, (k + 1) / warmup))
        self._owns_rewards = rewards is None
        self.rewards = rewards if rewards is not None else _reward_pool(cfg)
        if kind_for is None:
            from graders.rewards.routing import kind_for, register

            for source, kind in cfg.reward_routes.items():
                register(source, kind)
        self.cursor = PromptCursor(len(self.problems), cfg.seed)
        self.pool = EasyPool(cfg.easy_alpha, cfg.seed)
        from mimo_eval.rl.engines import make_engine

        self.engine = make_engine(cfg, self.model, self.tokenizer, step=lambda: self.step)
        self.scheduler = make_scheduler(cfg, self.engine, rewards=self.rewards, problems=self.problems,
                                        encode=encoder(self.tokenizer, cfg.max_prompt_tokens), kind_for=kind_for,
                                        cursor=self.cursor, pool=self.pool,
                                        thinking_opened=_opens_thinking(self.tokenizer, self.problems))
        self.step = 0

    def train_step(self) -> dict[str, Any]:
        start = time.perf_counter()
        with autocast(self.cfg, self.device):  # the hf engine's rollouts compute as training does
            collected = self.scheduler.collect(self.cfg.train_batch)
        self.engine.sleep()
        t0 = time.perf_counter()
        metrics = dict(collected.metrics)
        if collected.groups:
            metrics.update(self._update(collected.groups))
        else:  # the round guard gave nothing to learn from: no update, the step still counts
            metrics.update({"loss": None, "skipped": 1})
        metrics["timing/train"] = time.perf_counter() - t0
        self.step += 1
        self.engine.sync_weights()   # after the count: a vLLM engine seeds the next rollouts with it
        step_s = time.perf_counter() - start
        generated = metrics["groups/generated"] * self.cfg.group_size
        busy = metrics["timing/gen"] + metrics["timing/train"]
        metrics.update({"timing/step": step_s, "throughput/completions_per_s": generated / step_s,
                        "throughput/tokens_per_s": metrics["tokens/generated"] / step_s,
                        # neither generating nor training: reward waits, scheduling, weight sync (MiMo Table 2)
                        "gpu_idle_frac": max(0.0, 1 - busy / step_s),
                        "timing/reward_wait_frac": metrics["timing/reward_wait"] / step_s,
                        "lr": self.lr_schedule.get_last_lr()[0]})
        return metrics

    def _update(self, groups: list[Group]) -> dict[str, Any]:
        import torch

        cfg = self.cfg
        batch = build_batch(groups, self.tokenizer.pad_token_id, cfg.scale_rewards)
        n_seq = batch["input_ids"].shape[0]
        per_mini = cfg.mini_batch * cfg.group_size
        minis = [range(s, min(s + per_mini, n_seq)) for s in range(0, n_seq, per_mini)]
        on_policy = len(minis) == 1
        old = None if on_policy else self._logprobs(self.model, batch)
        ref = self._logprobs(self.ref, batch) if self.ref is not None else None
        totals = {"loss": 0.0, "clip_ratio/low_mean": 0.0, "clip_ratio/high_mean": 0.0, "kl": 0.0,
                  "entropy": 0.0, "grad_norm": 0.0}
        n_micro = 0
        for mini in minis:
            mini_mask = batch["mask"][mini.start:mini.stop]
            tokens = float(mini_mask.sum().clamp(min=1))
            seqs = float((mini_mask.sum(dim=1) > 0).sum().clamp(min=1))  # sequences with loss tokens (as verl)
            for sl in micro_slices(mini, cfg.micro_batch or len(mini)):
                with autocast(cfg, self.device):
                    logp, ent = self._forward(self.model, batch, sl, with_entropy=True)   # fp32 [rows, T-1]
                mask = batch["mask"][sl].to(logp.device)
                loss, st = algo.policy_loss(
                    logp, logp.detach() if on_policy else old[sl].to(logp.device),
                    batch["advantages"][sl].to(logp.device), mask, eps_low=cfg.eps_low, eps_high=cfg.eps_high,
                    loss_agg=cfg.loss_agg, total_tokens=tokens, total_seqs=seqs, beta=cfg.beta,
                    ref_logp=None if ref is None else ref[sl].to(logp.device), dual_clip=cfg.dual_clip)
                loss.backward()
                n_micro += 1
                totals["loss"] += float(loss.detach())
                totals["clip_ratio/low_mean"] += st.clip_low
                totals["clip_ratio/high_mean"] += st.clip_high
                totals["kl"] += st.kl
                totals["entropy"] += float((ent * mask).sum() / mask.sum().clamp(min=1))
            totals["grad_norm"] += float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip))
            self.optimizer.step()
            self.lr_schedule.step()
            self.optimizer.zero_grad(set_to_none=True)
        out = {k: v / (len(minis) if k in ("loss", "grad_norm") else n_micro) for k, v in totals.items()}
        return {**out, **_batch_metrics(groups, batch), "updates": len(minis)}

    def _forward(self, model, batch, sl: slice, *, with_entropy: bool = False):
        """Log-probs (and entropy) of the response tokens of rows `sl`: [rows, T-1]."""
        return algo.response_logprobs(model, batch["input_ids"][sl].to(model.device),
                                      batch["attention_mask"][sl].to(model.device),
                                      batch["mask"][sl].to(model.device), temperature=self.cfg.temperature,
                                      chunk=self.cfg.logprob_chunk, with_entropy=with_entropy)

    def _logprobs(self, model, batch) -> "Any":
        """Per-token log-probs of the whole batch under `model`, no graph: the old policy's, or the reference's."""
        import torch

        chunks = []
        with torch.no_grad(), autocast(self.cfg, self.device):
            for sl in micro_slices(range(batch["input_ids"].shape[0]), self.cfg.micro_batch or 64):
                chunks.append(self._forward(model, batch, sl)[0].cpu())
        return torch.cat(chunks)

    def save_hf(self, run_dir: Path) -> Path:
        """save_pretrained model and tokenizer to run_dir/hf/step_N, written under a temporary name first."""
        import os
        import shutil

        final = run_dir / "hf" / f"step_{self.step}"
        tmp = final.with_name(f".{final.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        save_pretrained(self.model, self.tokenizer, tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        return final

    def evaluate(self, run_dir: Path) -> dict[str, float]:
        from mimo_eval.rl.evaluate import evaluate

        was_training = self.model.training
        self.model.eval()
        try:
            with autocast(self.cfg, self.device):
                return evaluate(self.engine, self.cfg, self.step, run_dir)
        finally:
            self.model.train(was_training)

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "lr_schedule": self.lr_schedule.state_dict(), "rng": checkpoint.rng_state(),
                "cursor": self.cursor.state_dict(), "easy_pool": self.pool.state_dict(),
                "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_schedule.load_state_dict(state["lr_schedule"])
        self.cursor.load_state_dict(state["cursor"])
        self.pool.load_state_dict(state["easy_pool"])
        self.scheduler.load_state_dict(state["scheduler"])
        checkpoint.set_rng_state(state["rng"])
        self.step = state["step"]

    def close(self) -> None:
        if self._owns_rewards:
            self.rewards.close()


def _batch_metrics(groups: list[Group], batch) -> dict[str, float]:
    lengths = [len(r.completion_ids) for g in groups for r in g.rollouts]
    kept_scores = [s for g in groups for s in g.scores if s is not None]
    return {"completions/mean_length": sum(lengths) / len(lengths), "completions/max_length": max(lengths),
            "completions/clipped_ratio": sum(r.truncated for g in groups for r in g.rollouts) / len(lengths),
            "reward/kept_mean": sum(kept_scores) / max(len(kept_scores), 1),
            "tokens/response": int(batch["mask"].sum())}


def _opens_thinking(tokenizer, problems) -> bool:
    """The template ends the prompt inside an open thinking block (R1-distill, QwQ): one template for the run, read
    from the first prompt; a rollout cut inside that thinking then has no answer (graders.math.extract)."""
    from graders.math.thinking import opens_thinking

    return bool(problems) and opens_thinking(render(tokenizer, problems[0]))


def make_scheduler(cfg: RLConfig, engine, **common):
    """`cfg.rollout`'s scheduler: continuous (stream.py) on the vllm engine, chunked (scheduler.py) on hf."""
    from mimo_eval.rl.stream import NAIVE, ContinuousScheduler, RolloutMode

    common.update(group_size=cfg.group_size, max_gen_rounds=cfg.max_gen_rounds,
                  dynamic_sampling=cfg.dynamic_sampling, reward_options=cfg.reward_options)
    rollout = cfg.rollout if cfg.rollout != "auto" else "continuous" if cfg.engine == "vllm" else "chunked"
    if rollout == "chunked":
        return ChunkedScheduler(engine=engine, chunk=cfg.rollout_chunk or max(cfg.train_batch // 2, 1), **common)
    mode = RolloutMode(True, cfg.async_reward, cfg.early_termination) if rollout == "continuous" else NAIVE
    return ContinuousScheduler(engine=engine, mode=mode, capacity=cfg.rollout_capacity,
                               margin_sd=cfg.rollout_margin_sd, **common)


def _reward_pool(cfg: RLConfig):
    from graders.rewards.pool import RewardPool

    return RewardPool(workers=cfg.reward_workers, timeout_s=cfg.reward_timeout_s)


def train(cfg: RLConfig, *, rewards=None, kind_for=None, until: int | None = None) -> Path:
    """Train in cfg.output_dir, resuming from its latest checkpoint; stop at cfg.steps (or `until`)."""
    run_dir = Path(cfg.output_dir)
    _check_run_dir(run_dir, cfg)
    loop = GRPOLoop(cfg, rewards=rewards, kind_for=kind_for)
    log = None
    try:
        state = checkpoint.load_latest(run_dir)
        if state is not None:
            loop.load_state_dict(state)
        log = MetricsLog(run_dir, tensorboard=cfg.tensorboard, progress=cfg.progress, total_steps=cfg.steps,
                         wandb=_wandb_settings(cfg))
        log.rewind(loop.step)
        stop = min(cfg.steps, until) if until is not None else cfg.steps
        while loop.step < stop:
            metrics = loop.train_step()
            if cfg.eval_every and loop.step % cfg.eval_every == 0:
                metrics.update(loop.evaluate(run_dir))
            log.write(loop.step, metrics)
            if loop.step % cfg.save_every == 0 or loop.step == stop:
                checkpoint.save(run_dir, loop.step, loop.state_dict(), cfg.keep_checkpoints)
            if (cfg.hf_save_every and loop.step % cfg.hf_save_every == 0) or loop.step == cfg.steps:
                loop.save_hf(run_dir)
    finally:
        if log is not None:
            log.close()
        loop.close()
    return run_dir


def _wandb_settings(cfg: RLConfig) -> dict | None:
    if not cfg.wandb_project:
        return None
    return {"project": cfg.wandb_project, "name": cfg.wandb_run_name or Path(cfg.output_dir).name,
            "config": cfg.to_json()}


def _check_run_dir(run_dir: Path, cfg: RLConfig) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "config.json"
    new = cfg.to_json()
    if path.is_file():
        # a key the run's config predates counts at its default (a run from an older version resumes)
        old = {**_defaults(), **json.loads(path.read_text())}
        changed = sorted(k for k in set(old) | set(new) if k not in RESUMABLE and old.get(k) != new.get(k))
        if changed:
            raise ConfigError(f"output_dir {run_dir} holds a run with a different {changed[0]!r} "
                              f"({old.get(changed[0])!r} there, {new.get(changed[0])!r} now): use a new output_dir")
    path.write_text(json.dumps(new, indent=2) + "\n")


def _defaults() -> dict[str, Any]:
    import dataclasses

    fields = {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
              for f in dataclasses.fields(RLConfig)}
    return json.loads(json.dumps(fields))
