"""Building the policy (and, when beta > 0, a frozen reference) and turning a problem into prompt token ids."""
from __future__ import annotations

from typing import Any

from mimo_eval.rl.config import ConfigError, RLConfig
from mimo_eval.rl.data import DataError, Problem


def resolve_device(cfg: RLConfig) -> tuple[str, Any]:
    import torch

    device = cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device: {device!r} asked for but CUDA is not available")
    dtype = cfg.dtype if cfg.dtype != "auto" else ("bfloat16" if device.startswith("cuda") else "float32")
    return device, getattr(torch, dtype)


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

    device, dtype = resolve_device(cfg)
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
    use_gc = cfg.gradient_checkpointing if cfg.gradient_checkpointing is not None else device.startswith("cuda")
    if trainable and use_gc:
        model.gradient_checkpointing_enable()
    if not trainable:
        model.eval().requires_grad_(False)
    return model


def render(tokenizer, problem: Problem) -> str:
    """The prompt text: the chat template with the generation prompt."""
    return tokenizer.apply_chat_template(list(problem.messages), tokenize=False, add_generation_prompt=True)


def encoder(tokenizer, max_prompt_tokens: int):
    """problem -> prompt ids (chat template with the generation prompt), cached per problem."""
    cache: dict[int, tuple[int, ...]] = {}

    def encode(problem: Problem) -> tuple[int, ...]:
        if problem.index not in cache:
            text = render(tokenizer, problem)
            ids = tuple(tokenizer(text, add_special_tokens=False)["input_ids"])
            if len(ids) > max_prompt_tokens:
                raise DataError(f"row {problem.index}: prompt has {len(ids)} tokens, over max_prompt_tokens "
                                f"({max_prompt_tokens}); raise it or filter the data")
            cache[problem.index] = ids
        return cache[problem.index]

    return encode
