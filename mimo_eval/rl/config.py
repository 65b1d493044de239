"""The RL run's configuration: one frozen dataclass, read from YAML, written whole into the run directory.

Defaults follow MiMo-7B's recipe (arXiv 2505.07608 §3.3) scaled to one machine; the sources are in
research/rl_loop.md §1 and §4.4. Values MiMo does not publish are marked: eps 0.2 / 0.28 are DAPO's, the group
size 8 is ours (DAPO and verl's MiMo example use 16). `load_config` rejects an unknown key or a bad value with a
one-line error naming it.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class RLConfig:
    # policy: a Hub id or save_pretrained directory, or "llama-config" = a fresh LlamaConfig(**model_config)
    model: str = ""
    model_config: Mapping[str, Any] = field(default_factory=dict)
    tokenizer: str = ""                # "" = the model's; "toy-digits" = the in-code tokenizer of mimo_eval.rl.toy
    data: str = ""                     # verl RL layout, .jsonl or .parquet
    val_data: str = ""                 # verl layout too: the exported verl run's val_files ("" = no verl validation)
    output_dir: str = "runs/rl"
    seed: int = 0
    steps: int = 100
    # batch sizes count prompts (groups), as verl's train_batch_size / ppo_mini_batch_size do
    train_batch: int = 32              # MiMo: 512
    mini_batch: int = 8                # MiMo: 32 (16 updates per rollout batch); = train_batch is on-policy (RL-0530)
    micro_batch: int = 0               # sequences per forward/backward; 0 = the whole mini-batch
    group_size: int = 8                # G, rollouts per prompt (MiMo: unstated; DAPO: 16)
    # optimiser (MiMo names only lr 1e-6; AdamW and grad clip 1.0 are its pre-training settings)
    lr: float = 1e-6
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 0
    grad_clip: float = 1.0
    # objective
    eps_low: float = 0.2               # DAPO values; MiMo states clip-higher but no numbers
    eps_high: float = 0.28
    loss_agg: str = "token-mean"       # or "seq-mean-token-mean" (GRPO paper); token-mean is MiMo Eq. 1
    beta: float = 0.0                  # KL coefficient; MiMo removes the KL term. > 0 loads a frozen reference
    dual_clip: float | None = None     # dual-clip PPO bound c > 1 (verl's clip_ratio_c); None = off (MiMo, DAPO, TRL)
    scale_rewards: str = "group"       # "group": (r - mean) / std, MiMo Eq. 2; "none": r - mean (Dr. GRPO)
    # rollout
    engine: str = "hf"                 # "hf" (the policy module itself) or "vllm" (colocated, in-process)
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 1024
    max_prompt_tokens: int = 1024      # a longer prompt is skipped and counted (prompts/skipped_too_long)
    # "auto": continuous for engine vllm (mimo_eval/rl/stream.py: a request per sequence, async rewards, FIFO early
    # termination that aborts), chunked for hf (scheduler.py); "naive": naive dynamic sampling on the vllm engine
    # (whole batches, graded once generated, filtered, repeated: the baseline of tools/bench_rollout.py)
    rollout: str = "auto"
    rollout_chunk: int = 0             # chunked: prompts per generation call; 0 = train_batch // 2
    rollout_capacity: int = 0          # continuous: sequences in flight; 0 = the engine's max_num_seqs
    rollout_margin_sd: float = 1.0     # continuous: launch until kept + expected - this many std devs >= batch
    async_reward: bool = True          # continuous: a finished sequence goes to the reward pool at once
    early_termination: bool = True     # continuous: abort what is in flight once the batch is decided (FIFO)
    dynamic_sampling: bool = True      # drop groups whose scores are all equal (pass rate 0 or 1), refill
    max_gen_rounds: int = 10           # guard (verl's max_num_gen_batches): generation rounds per step (chunked,
                                       # naive) or max_gen_rounds x train_batch groups (continuous); then train
    easy_alpha: float = 0.1            # MiMo §3.3.2: probability of drawing from the easy pool; 0 disables it
    vllm_gpu_memory_utilization: float = 0.3
    tensor_parallel: int = 1           # rollout tensor-parallel size of the exported verl run (this loop: one device)
    vllm_kwargs: Mapping[str, Any] = field(default_factory=dict)  # more vllm.LLM(...) arguments (engine: vllm)
    # rewards (graders.rewards.RewardPool)
    reward_workers: int = 2
    reward_timeout_s: float | None = None
    reward_options: Mapping[str, Any] = field(default_factory=dict)
    reward_routes: Mapping[str, str] = field(default_factory=dict)  # data_source (or fnmatch pattern) -> "math"|"code"
    # runtime
    device: str = "auto"
    # "bf16-mixed": fp32 master weights and AdamW state, bf16 autocast compute (what verl and TRL do); "fp32";
    # "auto" = bf16-mixed on CUDA, fp32 on CPU. Pure bf16 weights are not offered: at lr 1e-6 most AdamW steps
    # are below bf16's resolution and are lost.
    precision: str = "auto"
    gradient_checkpointing: bool | None = None  # None = on for CUDA
    logprob_chunk: int = 1024          # response tokens per chunk of the LM head (log-probs, entropy)
    # torch.use_deterministic_algorithms; None = on for CPU (bitwise resume), off on CUDA. On CUDA, true sets
    # CUBLAS_WORKSPACE_CONFIG=:4096:8 (cuBLAS refuses deterministic mode without it) and runs slower.
    deterministic: bool | None = None
    lora_rank: int = 0                 # > 0: train LoRA adapters through peft (extra [lora]) instead of all weights
    lora_alpha: float = 32.0
    lora_target_modules: str = "all-linear"
    save_every: int = 50
    keep_checkpoints: int = 2
    hf_save_every: int = 0             # save_pretrained to output_dir/hf/step_N every K steps; 0 = at the end only
    # evaluation during training with the harness (mimo_eval.harness.run): benchmark -> problem count (0 = all)
    eval_every: int = 0                # 0 = never
    eval_benchmarks: Mapping[str, int] = field(default_factory=dict)
    eval_n: int = 1                    # samples per problem
    eval_temperature: float = 0.6      # MiMo's evaluation settings
    eval_top_p: float = 0.95
    eval_max_new_tokens: int = 0       # 0 = max_new_tokens
    tensorboard: bool = False
    wandb_project: str = ""            # "" = no wandb (extra [wandb]); WANDB_MODE etc. are read by wandb itself
    wandb_run_name: str = ""
    progress: bool = True

    def __post_init__(self):
        _check(self)

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))


_CHOICES = {"loss_agg": ("token-mean", "seq-mean-token-mean"), "scale_rewards": ("group", "none"),
            "engine": ("hf", "vllm"), "precision": ("auto", "fp32", "bf16-mixed"),
            "rollout": ("auto", "continuous", "naive", "chunked")}
_POSITIVE = ("steps", "train_batch", "mini_batch", "group_size", "max_new_tokens", "max_prompt_tokens",
             "max_gen_rounds", "reward_workers", "save_every", "keep_checkpoints", "logprob_chunk", "eval_n",
             "tensor_parallel")
_NON_NEGATIVE = ("hf_save_every", "eval_every", "eval_max_new_tokens", "lora_rank", "micro_batch", "rollout_chunk",
                 "rollout_capacity")


def _check(cfg: RLConfig) -> None:
    for name, allowed in _CHOICES.items():
        if getattr(cfg, name) not in allowed:
            raise ConfigError(f"{name}: {getattr(cfg, name)!r} is not one of {', '.join(allowed)}")
    for name in _POSITIVE:
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name}: must be >= 1, got {getattr(cfg, name)}")
    for name in _NON_NEGATIVE:
        if getattr(cfg, name) < 0:
            raise ConfigError(f"{name}: must be >= 0, got {getattr(cfg, name)}")
    if cfg.dual_clip is not None and cfg.dual_clip <= 1:
        raise ConfigError(f"dual_clip: the bound must be > 1 (verl's clip_ratio_c; 3.0 is its default), "
                          f"got {cfg.dual_clip}")
    if cfg.eval_every and not cfg.eval_benchmarks:
        raise ConfigError("eval_benchmarks: eval_every > 0 needs benchmarks, e.g. {math500: 100} (name -> problems)")
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in cfg.eval_benchmarks.values()):
        raise ConfigError(f"eval_benchmarks: each value is a problem count >= 0 (0 = all), "
                          f"got {dict(cfg.eval_benchmarks)}")
    if cfg.rollout_margin_sd < 0:
        raise ConfigError(f"rollout_margin_sd: must be >= 0, got {cfg.rollout_margin_sd}")
    if cfg.rollout in ("continuous", "naive") and cfg.engine != "vllm":
        raise ConfigError(f"rollout: {cfg.rollout} needs engine: vllm (one request per sequence); the hf engine "
                          "generates in blocking batches: rollout: chunked (or auto)")
    if cfg.train_batch % cfg.mini_batch:
        raise ConfigError(f"mini_batch: {cfg.mini_batch} must divide train_batch ({cfg.train_batch})")
    if cfg.group_size < 2:
        raise ConfigError(f"group_size: must be >= 2 (a group of one has no baseline), got {cfg.group_size}")
    if not 0.0 <= cfg.easy_alpha < 1.0:
        raise ConfigError(f"easy_alpha: a probability in [0, 1) is needed, got {cfg.easy_alpha}")
    if cfg.eps_low < 0 or cfg.eps_high < 0 or cfg.eps_low >= 1:
        raise ConfigError(f"eps_low/eps_high: need 0 <= eps_low < 1 and eps_high >= 0, got {cfg.eps_low}/{cfg.eps_high}")
    if cfg.beta < 0 or cfg.lr <= 0 or not 0 < cfg.top_p <= 1 or cfg.temperature <= 0:
        raise ConfigError("beta >= 0, lr > 0, 0 < top_p <= 1 and temperature > 0 are required")
    if not cfg.model:
        raise ConfigError("model: required: a Hub id, a save_pretrained directory, or 'llama-config' with model_config")
    if cfg.model == "llama-config" and not cfg.model_config:
        raise ConfigError("model_config: model 'llama-config' needs LlamaConfig keyword arguments")


def from_mapping(values: Mapping[str, Any], *, base_dir: Path | None = None) -> RLConfig:
    """Build a config; a relative `data` path is taken from the YAML file's folder."""
    hints = typing.get_type_hints(RLConfig)
    unknown = sorted(set(values) - set(hints))
    if unknown == ["dtype"]:
        raise ConfigError("dtype: replaced by precision (bf16-mixed keeps fp32 master weights; fp32)")
    if unknown:
        raise ConfigError(f"unknown config key {unknown[0]!r}; known keys: {', '.join(hints)}")
    kwargs = {name: _coerce(name, value, hints[name]) for name, value in values.items()}
    for key in ("data", "val_data"):
        if base_dir is not None and kwargs.get(key) and not Path(kwargs[key]).is_absolute():
            kwargs[key] = str((base_dir / kwargs[key]).resolve())
    return RLConfig(**kwargs)


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """YAML gives ints for floats and lists for tuples; any other type mismatch is an error naming the key."""
    kind = hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # "float | None"
        if value is None:
            return None
        kind = next(a for a in typing.get_args(hint) if a is not type(None))
    args = typing.get_args(kind)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is bool and isinstance(value, bool) or kind is str and isinstance(value, str):
        return value
    if kind is int and number and float(value).is_integer():
        return int(value)
    if kind is float and number:
        return float(value)
    if typing.get_origin(kind) is tuple and isinstance(value, (list, tuple)) and len(value) == len(args) \
            and all(isinstance(v, (int, float)) for v in value):
        return tuple(float(v) for v in value)
    if typing.get_origin(kind) in (Mapping, dict, collections.abc.Mapping) and isinstance(value, dict):
        return dict(value)
    raise ConfigError(f"{name}: expected {_describe(kind)}, got {value!r}")


def _describe(kind: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        kind, "a list of numbers" if typing.get_origin(kind) is tuple else "a mapping")


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RLConfig:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of config keys")
    return from_mapping({**values, **(overrides or {})}, base_dir=path.parent)
