"""What the backends share: the error type, prompt rendering through a tokenizer's chat template (and whether it
opens a thinking block), version lookup, the GIL switch interval while an in-process engine is stepped."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from importlib import metadata
from typing import Any, Iterator

from mimo_eval.types import Request


class BackendError(RuntimeError):
    """Generation could not go on (server unreachable, engine missing, bad setting). The message is one line
    that says what to check; completions yielded before it was raised are complete and safe to keep."""


def package_version(distribution: str) -> str:
    """Installed version of a distribution, or "not installed"."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def base_versions() -> dict[str, str]:
    from mimo_eval import __version__

    return {"mimo-eval": __version__}


def missing_extra(module: str, extra: str) -> BackendError:
    return BackendError(f"{module} is not installed: pip install 'mimo-eval[{extra}]'")


def render_prompt(tokenizer: Any, request: Request) -> str:
    """The text the model sees: `request.prompt` as given, else the messages through the tokenizer's chat template
    with the assistant turn opened (what `vllm serve` and `LLM.chat` do), with the request's chat template
    variables (`enable_thinking`: what `vllm serve` takes as `chat_template_kwargs`)."""
    if request.prompt is not None:
        return request.prompt
    if not getattr(tokenizer, "chat_template", None):
        raise BackendError(
            f"the tokenizer has no chat template, so request {request.problem_id}#{request.sample_index} cannot "
            "be rendered: use a chat model, or give raw prompts (Request.prompt) for a base model"
        )
    return tokenizer.apply_chat_template(list(request.messages), tokenize=False, add_generation_prompt=True,
                                         **(request.chat_template_kwargs or {}))


def thinking_opened_by(tokenizer: Any, request: Request) -> bool:
    """The rendered prompt ends inside an open thinking block (`graders.math.thinking.opens_thinking`)."""
    from graders.math.thinking import opens_thinking

    return opens_thinking(render_prompt(tokenizer, request))


def prompt_token_ids(tokenizer: Any, request: Request) -> list[int]:
    """Token ids of the rendered prompt. A chat template writes its own BOS, so special tokens are added only to a
    raw prompt (the double-BOS pitfall of tokenizing a rendered template again)."""
    text = render_prompt(tokenizer, request)
    return list(tokenizer(text, add_special_tokens=request.prompt is not None)["input_ids"])


# An in-process engine's step is Python that holds the GIL for milliseconds at a time; grader threads (the Docker
# client, answer extraction) need it many times per sample and wait up to the switch interval (5 ms by default)
# each time. Measured here with the reward pool's code reward while the calling thread ran Python: 40 calls took
# 2.25 and 1.37 s at 5 ms (mean latency 111 and 67 ms), 1.17 and 0.97 s at 0.5 ms (55 and 48 ms)
ENGINE_SWITCH_INTERVAL_S = 0.0005


@contextmanager
def engine_switch_interval() -> Iterator[None]:
    """A short GIL switch interval while this thread steps an engine beside grader threads; restored after."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, ENGINE_SWITCH_INTERVAL_S))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
