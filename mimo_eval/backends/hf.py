"""Generation with transformers `generate`: small models, CPU, or one CUDA GPU. Needs `pip install 'mimo-eval[hf]'`.

The tokenizer's chat template is applied (`add_generation_prompt=True`) unless a request carries a raw prompt.
Requests are batched (left padding) and each sample draws from its own `torch.Generator` seeded with the request's
seed, so a sample does not depend on which other requests share its batch. transformers has no per-row generator,
so the sampling step lives in a logits processor: it applies temperature and top-p, draws one token per row from
that row's generator, and hands `generate` a one-hot row that greedy decoding then takes. Temperature 0 is greedy.
Other decoding settings from the model's generation_config (top_k, repetition penalty) are not applied, as with
vLLM given explicit sampling parameters.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Iterator, Sequence

from mimo_eval.backends.common import (BackendError, base_versions, missing_extra, package_version, prompt_token_ids,
                                       thinking_opened_by)
from mimo_eval.types import Completion, Request, SamplingParams


class HFBackend:
    name = "hf"

    def __init__(self, *, model: str, device: str = "auto", dtype: str = "auto", batch_size: int = 8,
                 trust_remote_code: bool = False):
        if batch_size < 1:
            raise BackendError(f"batch_size must be >= 1, got {batch_size}")
        if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().is_dir():
            raise BackendError(f"model directory {model} does not exist: give a directory with config.json and "
                               "tokenizer files (save_pretrained output) or a Hub model id")
        self.model, self.device, self.dtype = model, device, dtype
        self.batch_size, self.trust_remote_code = batch_size, trust_remote_code
        self._loaded: tuple[Any, Any] | None = None
        self._tokenizer_only: Any = None

    @classmethod
    def from_loaded(cls, model: Any, tokenizer: Any, *, name: str, batch_size: int = 8) -> "HFBackend":
        """A backend around a model already in memory, e.g. the RL loop's policy evaluated during training
        (mimo_eval/rl/evaluate.py); the caller puts it in eval mode."""
        backend = cls(model=name, batch_size=batch_size)
        backend._loaded = (model, tokenizer)
        return backend

    def generate(self, requests: Sequence[Request], sampling: SamplingParams) -> Iterator[Completion]:
        import torch
        from transformers import LogitsProcessorList

        model, tokenizer = self._load()
        eos_ids = _eos_ids(model, tokenizer)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]
        for start in range(0, len(requests), self.batch_size):
            batch = requests[start:start + self.batch_size]
            input_ids, attention_mask = _left_pad([prompt_token_ids(tokenizer, r) for r in batch], pad_id)
            sampler = PerSampleSampler([r.seed for r in batch], sampling.temperature, sampling.top_p)
            with torch.inference_mode():
                output = model.generate(
                    input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                    max_new_tokens=sampling.max_tokens, do_sample=False, num_beams=1, pad_token_id=pad_id,
                    eos_token_id=eos_ids, logits_processor=LogitsProcessorList([sampler]),
                    repetition_penalty=1.0, no_repeat_ngram_size=0,  # explicit: the model's defaults must not leak in
                )
            new_tokens = output[:, input_ids.shape[1]:].tolist()  # [B, T_new]
            for request, tokens in zip(batch, new_tokens):
                yield _completion(request, tokens, eos_ids, tokenizer)

    def versions(self) -> dict[str, str]:
        return {**base_versions(), **{name: package_version(name) for name in ("torch", "transformers")}}

    def config(self) -> dict:
        return {"backend": self.name, "model": self.model, "device": self.device, "dtype": self.dtype,
                "batch_size": self.batch_size, "trust_remote_code": self.trust_remote_code}

    def thinking_opened(self, request: Request) -> bool:
        """Rendered with the model's own chat template; the tokenizer alone is loaded (the model waits for generate)."""
        if self._loaded is not None:
            return thinking_opened_by(self._loaded[1], request)
        if self._tokenizer_only is None:
            if importlib.util.find_spec("transformers") is None:
                raise missing_extra("transformers", "hf")
            from transformers import AutoTokenizer

            try:
                self._tokenizer_only = AutoTokenizer.from_pretrained(self.model, trust_remote_code=self.trust_remote_code)
            except (OSError, ValueError) as e:
                raise BackendError(f"cannot load the tokenizer of {self.model!r} ({type(e).__name__}): give a local "
                                   "model directory or a Hub id this machine can download") from None
        return thinking_opened_by(self._tokenizer_only, request)

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is not None:
            return self._loaded
        for module in ("torch", "transformers"):
            if importlib.util.find_spec(module) is None:
                raise missing_extra(module, "hf")
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self.device if self.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = self.dtype if self.dtype != "auto" else ("bfloat16" if device.startswith("cuda") else "float32")
        # transformers renamed torch_dtype to dtype in 4.56
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        try:  # the model first: its OSError says best what is missing
            model = AutoModelForCausalLM.from_pretrained(
                self.model, trust_remote_code=self.trust_remote_code, **{dtype_key: getattr(torch, dtype)})
            tokenizer = AutoTokenizer.from_pretrained(self.model, trust_remote_code=self.trust_remote_code)
        except (OSError, ValueError) as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BackendError(f"cannot load model {self.model!r} ({reason}): give a local model directory "
                               "(save_pretrained output) or a Hub id this machine can download") from None
        model.to(device).eval()
        self._loaded = (model, tokenizer)
        return self._loaded


class PerSampleSampler:
    """Logits processor: temperature, top-p, then one draw per row from that row's seeded generator, returned as a
    one-hot row (0 for the drawn token, -inf elsewhere) for greedy decoding to take."""

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float):
        self.seeds, self.temperature, self.top_p = list(seeds), temperature, top_p
        self.generators = None

    def __call__(self, input_ids, scores):
        import torch

        if self.temperature == 0:
            return scores  # greedy
        if self.generators is None:
            self.generators = [torch.Generator(device=scores.device).manual_seed(s % 2**63) for s in self.seeds]
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)  # [B, V]
        if self.top_p < 1.0:
            probs = _top_p_filter(probs, self.top_p)
        chosen = torch.cat([torch.multinomial(probs[i], 1, generator=g)
                            for i, g in enumerate(self.generators)])  # [B]
        one_hot = torch.full_like(scores, float("-inf"))
        one_hot[torch.arange(len(chosen), device=scores.device), chosen] = 0.0
        return one_hot


def _top_p_filter(probs, top_p: float):
    """Keep the smallest set of most likely tokens whose mass reaches top_p (the top token always stays)."""
    import torch

    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)  # [B, V]
    mass_before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs   # [B, V]
    sorted_probs = sorted_probs.masked_fill(mass_before >= top_p, 0.0)
    return torch.zeros_like(probs).scatter(-1, order, sorted_probs)


def _left_pad(rows: list[list[int]], pad_id: int):
    import torch

    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)       # [B, T]
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)         # [B, T]
    for i, row in enumerate(rows):
        input_ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
        attention_mask[i, width - len(row):] = 1
    return input_ids, attention_mask


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    configured = model.generation_config.eos_token_id
    ids = configured if isinstance(configured, list) else [configured]
    ids = [i for i in ids if i is not None] or [tokenizer.eos_token_id]
    if ids == [None]:
        raise BackendError(f"model {model.name_or_path!r} defines no end-of-sequence token: "
                           "set eos_token in its tokenizer")
    return ids


def _completion(request: Request, tokens: list[int], eos_ids: list[int], tokenizer: Any) -> Completion:
    stop_at = next((i for i, t in enumerate(tokens) if t in eos_ids), None)
    kept = tokens if stop_at is None else tokens[:stop_at + 1]  # the count includes the end token, as vLLM's does
    return Completion(problem_id=request.problem_id, sample_index=request.sample_index,
                      text=tokenizer.decode(kept, skip_special_tokens=True),
                      finish_reason="length" if stop_at is None else "stop", num_tokens=len(kept), seed=request.seed)
