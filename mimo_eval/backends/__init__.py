"""Generation backends: one class per engine behind `mimo_eval.types.Backend`, picked by name.

    backend = make_backend("openai", model="XiaomiMiMo/MiMo-7B-RL", base_url="http://localhost:8000/v1")
    for completion in backend.generate(requests, SamplingParams()):
        store.append(completion)

The modules are light: vllm, torch and transformers are imported inside the methods that need them.
"""
from __future__ import annotations

from mimo_eval.backends.common import BackendError
from mimo_eval.backends.hf import HFBackend
from mimo_eval.backends.openai import OpenAIBackend
from mimo_eval.backends.replay import ReplayBackend
from mimo_eval.backends.vllm import VLLMBackend

BACKENDS = {
    "vllm": VLLMBackend,
    "openai": OpenAIBackend,
    "hf": HFBackend,
    "replay": ReplayBackend,
}


def make_backend(name: str, **options):
    """The backend called `name`, built with its own constructor's keyword options."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return BACKENDS[name](**options)


__all__ = ["BACKENDS", "BackendError", "HFBackend", "OpenAIBackend", "ReplayBackend", "VLLMBackend", "make_backend"]
