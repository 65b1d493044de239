"""Building the policy (and, when beta > 0, a frozen reference), its precision, and prompt token ids.

Precision as verl (FSDP mixed precision) and TRL (`bf16=True`) train: the trainable weights and AdamW's state stay
fp32, the forward and backward run under bf16 autocast. Loading the weights themselves in bf16 and stepping them
with AdamW loses the update: at lr 1e-6 a step is far below bf16's resolution (8 bits of mantissa), so most weights
never move (tests/test_rl_precision.py). The frozen reference holds bf16 weights under bf16-mixed: it is never
updated.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any

from mimo_eval.rl.config import ConfigError, RLConfig
from mimo_eval.rl.data import Problem


def resolve_device(cfg: RLConfig) -> tuple[str, Any]:
    """(device, compute dtype): bf16 under bf16-mixed (what a rollout engine should run in), else fp32."""
    import torch

    device = cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device: {device!r} asked for but CUDA is not available")
    return device, torch.bfloat16 if mixed_precision(cfg, device) else torch.float32


def mixed_precision(cfg: RLConfig, device: str) -> bool:
    return cfg.precision == "bf16-mixed" or (cfg.precision == "auto" and device.startswith("cuda"))


def autocast(cfg: RLConfig, device: str):
    """The compute context of every forward (rollouts, log-probs): bf16 autocast under bf16-mixed."""
    import torch

    if not mixed_precision(cfg, device):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)


def set_determinism(cfg: RLConfig, device: str) -> None:
    """Deterministic kernels where they work: on CPU by default (bitwise resume); on CUDA only when asked, and then
    with the cuBLAS workspace setting that CUDA's deterministic matmuls require (without it the first matmul
    raises). The variable must be set before cuBLAS initialises, so this runs before the model is built."""
    import torch

    on = cfg.deterministic if cfg.deterministic is not None else not device.startswith("cuda")
    if on and device.startswith("cuda"):
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(on)


def build_tokenizer(cfg: RLConfig):
    name = cfg.tokenizer or cfg.model
    if name == "toy-digits":
        from mimo_eval.rl.toy import build_tokenizer as toy_tokenizer

        return toy_tokenizer()
    if name == "llama-config":
        raise ConfigError("tokenizer: a model built from model_config needs a tokenizer (a path, or 'toy-digits')")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name)
    if tokenizer.eos_token_id is None:
        raise ConfigError(f"tokenizer: {name} has no eos token, so rollouts could never end")
    return tokenizer


def build_model(cfg: RLConfig, tokenizer, *, trainable: bool = True):
    import torch

    device = resolve_device(cfg)[0]
    # master weights in fp32; only a frozen model under bf16 autocast may hold bf16 weights
    dtype = torch.bfloat16 if not trainable and mixed_precision(cfg, device) else torch.float32
    if cfg.model == "llama-config":
        from transformers import LlamaConfig, LlamaForCausalLM

        config = LlamaConfig(**{"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id,
                                "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id,
                                **cfg.model_config})
        torch.manual_seed(cfg.seed)  # the initial weights are part of the run's seed
        model = LlamaForCausalLM(config).to(dtype)
    else:
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=dtype)
    model.to(device)
    if not trainable:
        return model.eval().requires_grad_(False)
    use_gc = cfg.gradient_checkpointing if cfg.gradient_checkpointing is not None else device.startswith("cuda")
    if use_gc and hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5 renamed it
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    elif use_gc:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if cfg.lora_rank:
        model = _with_lora(cfg, model)
    return model


def render(tokenizer, problem: Problem) -> str:
    """The prompt text: the chat template with the generation prompt."""
    return tokenizer.apply_chat_template(list(problem.messages), tokenize=False, add_generation_prompt=True)


def _with_lora(cfg: RLConfig, model):
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ConfigError("lora_rank > 0 needs peft: pip install 'mimo-eval[lora]'") from None
    target: Any = cfg.lora_target_modules
    if target != "all-linear":
        target = [t.strip() for t in target.split(",") if t.strip()]
    return get_peft_model(model, LoraConfig(r=cfg.lora_rank, lora_alpha=cfg.lora_alpha, target_modules=target,
                                            lora_dropout=0.0, task_type="CAUSAL_LM"))


def save_pretrained(model, tokenizer, path) -> None:
    """A model the harness loads (`mimo-eval run --backend hf --model PATH`): LoRA adapters are merged into a copy
    of the weights first, so the folder is a plain transformers checkpoint."""
    import copy

    if hasattr(model, "merge_and_unload"):  # peft
        model = copy.deepcopy(model).merge_and_unload()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


def encoder(tokenizer, max_prompt_tokens: int):
    """problem -> prompt ids (chat template with the generation prompt), cached per problem; None for a prompt
    longer than max_prompt_tokens (the caller skips and counts it)."""
    cache: dict[int, tuple[int, ...]] = {}

    def encode(problem: Problem) -> tuple[int, ...] | None:
        if problem.index not in cache:
            text = render(tokenizer, problem)
            cache[problem.index] = tuple(tokenizer(text, add_special_tokens=False)["input_ids"])
        ids = cache[problem.index]
        return ids if len(ids) <= max_prompt_tokens else None

    return encode
