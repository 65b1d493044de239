"""Offline generation with vLLM's `LLM` engine (GPU). Needs `pip install 'mimo-eval[vllm]'`.

One vLLM request per sample: `SamplingParams(n=1, seed=request.seed)`. With `n=N` and one seed, vLLM draws all N
samples from one generator, so sample k changes when N changes, when a run is extended from 8 to 32 samples, or
when half a problem is resumed. A seed per sample keeps sample k the same in all those cases (for one vLLM version;
batch composition can still move low bits, vllm-project/vllm#17524). The prompt is shared through vLLM's prefix
cache, so the N copies cost about one prefill.

The chat template is applied here from the model's tokenizer (`add_generation_prompt=True`) and token ids are sent,
so the prompt is exactly what `mimo_eval.backends.common.render_prompt` shows. Requests go to `LLM.generate` in
chunks of `chunk_size`; each chunk's completions are yielded when it finishes, which is what the store saves.

Speculative decoding (MiMo's MTP layer): `num_speculative_tokens=1` becomes
`speculative_config={"method": "mtp", "num_speculative_tokens": 1}` (vLLM's MTP docs use MiMo-7B-Base as the
example; vLLM 0.9-0.11 call the method "mimo_mtp" or "deepseek_mtp": set `speculative_method`). XiaomiMiMo's vLLM
fork (0.7.3) takes `num_speculative_tokens` as a top-level `LLM` argument: pass it through `engine_kwargs`.
"""
from __future__ import annotations

import importlib.util
from typing import Any, Iterator, Sequence

from mimo_eval.backends.common import BackendError, base_versions, missing_extra, package_version, prompt_token_ids
from mimo_eval.types import Completion, Request, SamplingParams


class VLLMBackend:
    name = "vllm"

    def __init__(self, *, model: str, tensor_parallel_size: int = 1, num_speculative_tokens: int | None = None,
                 speculative_method: str = "mtp", max_model_len: int | None = None, dtype: str = "auto",
                 gpu_memory_utilization: float = 0.9, trust_remote_code: bool = False, seed: int = 0,
                 chunk_size: int = 1024, engine_kwargs: dict | None = None):
        if chunk_size < 1 or tensor_parallel_size < 1:
            raise BackendError("chunk_size and tensor_parallel_size must be >= 1")
        self.model, self.tensor_parallel_size = model, tensor_parallel_size
        self.num_speculative_tokens, self.speculative_method = num_speculative_tokens, speculative_method
        self.max_model_len, self.dtype, self.gpu_memory_utilization = max_model_len, dtype, gpu_memory_utilization
        self.trust_remote_code, self.seed, self.chunk_size = trust_remote_code, seed, chunk_size
        self.engine_kwargs = dict(engine_kwargs or {})
        self._llm = None

    def llm_kwargs(self) -> dict[str, Any]:
        """The keyword arguments for `vllm.LLM(...)`; engine_kwargs override the named options."""
        kwargs: dict[str, Any] = {
            "model": self.model, "tensor_parallel_size": self.tensor_parallel_size, "dtype": self.dtype,
            "gpu_memory_utilization": self.gpu_memory_utilization, "trust_remote_code": self.trust_remote_code,
            "seed": self.seed,
        }
        if self.max_model_len is not None:
            kwargs["max_model_len"] = self.max_model_len
        if self.num_speculative_tokens:
            kwargs["speculative_config"] = {"method": self.speculative_method,
                                            "num_speculative_tokens": self.num_speculative_tokens}
        return {**kwargs, **self.engine_kwargs}

    def generate(self, requests: Sequence[Request], sampling: SamplingParams) -> Iterator[Completion]:
        llm = self._engine()
        from vllm import SamplingParams as VLLMSamplingParams

        tokenizer = llm.get_tokenizer()
        for start in range(0, len(requests), self.chunk_size):
            chunk = requests[start:start + self.chunk_size]
            prompts = engine_prompts(tokenizer, chunk)
            params = [VLLMSamplingParams(**sampling_kwargs(r, sampling)) for r in chunk]
            outputs = llm.generate(prompts, params, use_tqdm=True)
            for request, output in zip(chunk, outputs):  # LLM.generate returns outputs in input order
                yield completion_from_output(request, output)

    def versions(self) -> dict[str, str]:
        return {**base_versions(), **{name: package_version(name) for name in ("vllm", "torch", "transformers")}}

    def config(self) -> dict:
        return {"backend": self.name, "chunk_size": self.chunk_size, "llm": self.llm_kwargs()}

    def _engine(self):
        """The engine, built on first use (loading a model takes minutes; config() and versions() need none)."""
        if self._llm is None:
            if importlib.util.find_spec("vllm") is None:
                raise missing_extra("vllm", "vllm")
            from vllm import LLM

            self._llm = LLM(**self.llm_kwargs())
        return self._llm


def engine_prompts(tokenizer: Any, requests: Sequence[Request]) -> list[dict[str, list[int]]]:
    """vLLM token prompts (`TokensPrompt` dicts), rendered as `LLM.chat` would: template text, no extra BOS."""
    return [{"prompt_token_ids": prompt_token_ids(tokenizer, r)} for r in requests]


def sampling_kwargs(request: Request, sampling: SamplingParams) -> dict[str, Any]:
    """The keyword arguments for vLLM's `SamplingParams` of one sample (n=1, the sample's own seed)."""
    return {"n": 1, "temperature": sampling.temperature, "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens, "seed": request.seed}


def completion_from_output(request: Request, output: Any) -> Completion:
    """A `Completion` from vLLM's `RequestOutput` (`.outputs[0]` is a `CompletionOutput`)."""
    sample = output.outputs[0]
    return Completion(problem_id=request.problem_id, sample_index=request.sample_index, text=sample.text,
                      finish_reason=sample.finish_reason, num_tokens=len(sample.token_ids), seed=request.seed)
