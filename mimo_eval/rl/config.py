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
    scale_rewards: str = "group"       # "group": (r - mean) / std, MiMo Eq. 2; "none": r - mean (Dr. GRPO)
    # rollout
    engine: str = "hf"                 # "hf" (the policy module itself) or "vllm" (colocated, in-process)
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 1024
    max_prompt_tokens: int = 1024
    rollout_chunk: int = 0             # prompts per generation call; 0 = train_batch // 2 (continuous rollout)
    dynamic_sampling: bool = True      # drop groups whose scores are all equal (pass rate 0 or 1), refill
    max_gen_rounds: int = 10           # generation calls per step before training on what exists (verl's guard)
    easy_alpha: float = 0.1            # MiMo §3.3.2: probability of drawing from the easy pool; 0 disables it
    vllm_gpu_memory_utilization: float = 0.3
    vllm_kwargs: Mapping[str, Any] = field(default_factory=dict)  # more vllm.LLM(...) arguments (engine: vllm)
    # rewards (graders.rewards.RewardPool)
    reward_workers: int = 2
    reward_timeout_s: float | None = None
    reward_options: Mapping[str, Any] = field(default_factory=dict)
    reward_routes: Mapping[str, str] = field(default_factory=dict)  # data_source (or fnmatch pattern) -> "math"|"code"
    # runtime
    device: str = "auto"
    dtype: str = "auto"                # bf16 on CUDA, fp32 on CPU
    gradient_checkpointing: bool | None = None  # None = on for CUDA
    deterministic: bool = True         # torch.use_deterministic_algorithms (bitwise resume on CPU)
    save_every: int = 50
    keep_checkpoints: int = 2
    tensorboard: bool = False
    progress: bool = True

    def __post_init__(self):
        _check(self)

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))


_CHOICES = {"loss_agg": ("token-mean", "seq-mean-token-mean"), "scale_rewards": ("group", "none"),
            "engine": ("hf", "vllm"), "dtype": ("auto", "float32", "bfloat16", "float16")}
_POSITIVE = ("steps", "train_batch", "mini_batch", "group_size", "max_new_tokens", "max_prompt_tokens",
             "max_gen_rounds", "reward_workers", "save_every", "keep_checkpoints")


def _check(cfg: RLConfig) -> None:
    for name, allowed in _CHOICES.items():
        if getattr(cfg, name) not in allowed:
            raise ConfigError(f"{name}: {getattr(cfg, name)!r} is not one of {', '.join(allowed)}")
    for name in _POSITIVE:
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name}: must be >= 1, got {getattr(cfg, name)}")
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
    if unknown:
        raise ConfigError(f"unknown config key {unknown[0]!r}; known keys: {', '.join(hints)}")
    kwargs = {name: _coerce(name, value, hints[name]) for name, value in values.items()}
    if base_dir is not None and kwargs.get("data") and not Path(kwargs["data"]).is_absolute():
        kwargs["data"] = str((base_dir / kwargs["data"]).resolve())
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
