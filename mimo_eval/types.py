"""The harness vocabulary: sampling settings, generation requests and completions, the backend protocol."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.6      # MiMo-7B's evaluation settings
    top_p: float = 0.95
    max_tokens: int = 32768
    seed: int = 0


@dataclass(frozen=True)
class Request:
    problem_id: str
    sample_index: int
    messages: tuple[dict, ...]    # chat turns [{"role": ..., "content": ...}]
    seed: int                     # per-sample seed derived from (run seed, problem, index)
    prompt: str | None = None     # raw prompt text (base models, completion mode): when set, no chat template
    chat_template_kwargs: dict | None = None   # extra chat template variables, e.g. {"enable_thinking": False}


@dataclass(frozen=True)
class Completion:
    problem_id: str
    sample_index: int
    text: str
    finish_reason: str | None = None   # "stop", "length", ...
    num_tokens: int | None = None
    seed: int | None = None
    reasoning: str | None = None       # thinking text a server split off (vLLM --reasoning-parser), kept, not graded
    server: str | None = None          # which server produced it (the openai backend's base URL)
    model: str | None = None           # the model name as that server reports it in its answer


class Backend(Protocol):
    name: str

    def generate(self, requests: Sequence[Request], sampling: SamplingParams) -> Iterator[Completion]:
        """Yield completions as they finish (any order), one per request."""
        ...

    def versions(self) -> dict[str, str]:
        """Engine versions to record in config.json."""
        ...

    def config(self) -> dict:
        """The backend's settings (JSON-serialisable, no secrets) to record in config.json."""
        ...

    def thinking_opened(self, request: Request) -> bool | None:
        """Whether the prompt this backend sends for `request` ends inside an open thinking block (R1-distill and
        QwQ templates end it with `<think>`), so a response cut mid-thinking carries no marker; None: unknown."""
        ...
