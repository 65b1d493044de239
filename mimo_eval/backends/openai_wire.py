"""What goes over the wire to an OpenAI-compatible server (mimo_eval/backends/openai.py): the request body of one
sample, the completion read back from its answer, the server's version.

Fields that have their own setting (model, messages, prompt, n, seed, temperature, top_p, max_tokens, stream) are
refused as extra request fields (`extra_body`), so the recorded settings are what was sent; `max_completion_tokens`
(APIs that use it instead of max_tokens) replaces max_tokens in the body. A request's `chat_template_kwargs` (the
run's --chat-template-kwargs, e.g. {"enable_thinking": false}) is sent as the field of that name, which `vllm serve`
and SGLang pass to the chat template.
"""
from __future__ import annotations

import http.client
import json

from mimo_eval.backends.common import BackendError
from mimo_eval.backends.http_util import Retryable
from mimo_eval.types import Completion, Request, SamplingParams

# request fields with their own setting: extra_body may not override them (the record would then lie)
OWN_FIELDS = {"model": "--model", "messages": "the benchmark prompt", "prompt": "the benchmark prompt", "n": "--n",
              "seed": "--seed", "temperature": "--temperature", "top_p": "--top-p", "max_tokens": "--max-tokens",
              "stream": "--no-stream", "stream_options": "the backend (it streams with usage)"}


def check_extra_body(extra_body: dict) -> None:
    clash = sorted(set(extra_body) & set(OWN_FIELDS))
    if clash:
        raise BackendError(f"request field {clash[0]!r} cannot be set as an extra request field: it is set by "
                           f"{OWN_FIELDS[clash[0]]}")


def request_body(request: Request, sampling: SamplingParams, *, model: str, mode: str, stream: bool,
                 extra_body: dict) -> tuple[str, dict]:
    """(path, body) of one sample's request."""
    body = {"model": model, "temperature": sampling.temperature, "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens, "seed": request.seed, "n": 1}
    if "max_completion_tokens" in extra_body:
        del body["max_tokens"]   # OpenAI's API refuses both in one request
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    if mode == "chat":
        if request.prompt is not None:
            raise BackendError(f"{request.problem_id}: a raw prompt needs mode='completion' (chat mode sends "
                               "messages and the server applies the chat template)")
        if request.chat_template_kwargs is not None:
            if "chat_template_kwargs" in extra_body:
                raise BackendError("chat_template_kwargs is set twice (the request's and extra_body's): keep one")
            body["chat_template_kwargs"] = request.chat_template_kwargs   # vllm serve and SGLang read it
        return "/chat/completions", {**body, "messages": list(request.messages), **extra_body}
    if request.prompt is None:
        raise BackendError(f"{request.problem_id}: completion mode sends raw text, but the request has only "
                           "chat messages: set Request.prompt or use mode='chat'")
    return "/completions", {**body, "prompt": request.prompt, **extra_body}


def parse_completion(request: Request, data: dict, url: str, mode: str) -> Completion:
    """The completion in a server's answer; Retryable when the answer holds none."""
    try:
        choice = data["choices"][0]
        if mode == "chat":
            message = choice["message"]
            text = message.get("content") or ""
            reasoning = message.get("reasoning_content") or message.get("reasoning")
        else:
            text, reasoning = choice["text"], None
        usage = data.get("usage") or {}
        return Completion(problem_id=request.problem_id, sample_index=request.sample_index, text=text,
                          finish_reason=choice.get("finish_reason"), num_tokens=usage.get("completion_tokens"),
                          seed=request.seed, reasoning=reasoning, server=url,
                          model=data.get("model") if isinstance(data.get("model"), str) else None)
    except (KeyError, IndexError, TypeError, AttributeError):
        # a 200 without a completion is an overloaded or restarting server more often than a wrong API: retry
        raise Retryable(f"HTTP 200 without an OpenAI {mode} completion: {json.dumps(data)[:200]}") from None


def ask_server_version(opener, url: str) -> str | None:
    root = url.removesuffix("/v1")
    try:  # vLLM and SGLang answer GET /version; hosted APIs do not, and that is fine
        with opener.open(root + "/version", timeout=5) as resp:
            return str(json.loads(resp.read()).get("version"))
    except (OSError, ValueError, AttributeError, http.client.HTTPException):
        return None
