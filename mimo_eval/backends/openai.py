"""Generation through any OpenAI-compatible server: `vllm serve`, SGLang, hosted APIs.

Standard library only (urllib + threads), so the core install stays light. One HTTP request per sample (n=1 with the
request's own seed), at most `concurrency` in flight; completions are yielded as they finish, in any order.
Retries with exponential backoff and jitter on 408/409/429/5xx, a 200 without a completion, timeouts and dropped
connections, honouring Retry-After. A request that still fails, or a non-retryable answer (400, 401, 404), stops
new requests; those already in flight finish and are yielded, then `BackendError` is raised, so nothing generated
is lost and a rerun resumes from the store.

`extra_body` adds server-specific fields to every request body (vLLM: `top_k`, `skip_special_tokens`,
`chat_template_kwargs`; it overrides ours on a clash). Recent `vllm serve` versions fill fields a request leaves
out (top_k, repetition_penalty, min_p) from the model's generation_config.json; to sample with temperature and
top-p alone, start the server with `--generation-config vllm` or set those fields here.

`timeout_s` bounds each wait for the server's answer; the API is used without streaming, so it must cover a whole
generation (32K tokens can take minutes on a loaded server).
"""
from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import queue
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Iterator, Sequence

from mimo_eval.backends.common import BackendError, base_versions
from mimo_eval.types import Completion, Request, SamplingParams

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429})  # plus every 5xx
HINTS = {
    400: "the server rejected the request; often the prompt plus --max-tokens exceeds the model's context",
    401: "check the API key (the environment variable named by --api-key-env, default OPENAI_API_KEY)",
    403: "check the API key (the environment variable named by --api-key-env, default OPENAI_API_KEY)",
    404: "check --base-url (it usually ends in /v1) and --model (the served model name)",
}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Rejected(BackendError):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class OpenAIBackend:
    name = "openai"

    def __init__(self, *, model: str, base_url: str = "http://localhost:8000/v1", mode: str = "chat",
                 api_key: str | None = None, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 32,
                 timeout_s: float = 3600.0, max_retries: int = 5, backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 extra_body: dict | None = None, check_server: bool = True):
        if mode not in ("chat", "completion"):
            raise BackendError(f"mode must be 'chat' or 'completion', got {mode!r}")
        if concurrency < 1 or max_retries < 0 or timeout_s <= 0:
            raise BackendError("concurrency must be >= 1, max_retries >= 0 and timeout_s > 0")
        self.model, self.mode, self.base_url = model, mode, base_url.rstrip("/")
        self.api_key_env = api_key_env
        self._api_key = api_key if api_key is not None else os.environ.get(api_key_env)
        self.concurrency, self.timeout_s, self.max_retries = concurrency, timeout_s, max_retries
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.extra_body = dict(extra_body or {})
        self.check_server = check_server
        self._checked = False   # the server is asked once, by whichever of versions() and generate() comes first
        self.server_version: str | None = None
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        # Loopback never goes through an environment proxy; other hosts keep the user's proxy settings.
        handlers = [urllib.request.ProxyHandler({})] if host in LOOPBACK else []
        self._opener = urllib.request.build_opener(*handlers)

    def generate(self, requests: Sequence[Request], sampling: SamplingParams) -> Iterator[Completion]:
        if not requests:
            return
        self._check_once()
        work: queue.SimpleQueue[Request] = queue.SimpleQueue()
        for request in requests:
            work.put(request)
        results: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()
        workers = min(self.concurrency, len(requests))
        for _ in range(workers):
            # Daemon threads: Ctrl-C or an abandoned generator never waits on a long HTTP read.
            threading.Thread(target=self._work, args=(work, results, stop, sampling), daemon=True).start()
        failure: BackendError | None = None
        finished = 0
        try:
            while finished < workers:
                item = results.get()
                if item is None:
                    finished += 1
                elif isinstance(item, BackendError):
                    stop.set()
                    failure = failure or item
                else:
                    yield item
        finally:
            stop.set()
        if failure is not None:
            raise failure

    def versions(self) -> dict[str, str]:
        self._check_once()   # the run record is built before any generation: ask the server now, not "unknown"
        return {**base_versions(), "server": self.server_version or "unknown"}

    def _check_once(self) -> None:
        if self.check_server and not self._checked:
            self._check_server()
            self._checked = True

    def config(self) -> dict:
        return {
            "backend": self.name, "model": self.model, "base_url": self.base_url, "mode": self.mode,
            "concurrency": self.concurrency, "timeout_s": self.timeout_s, "max_retries": self.max_retries,
            "backoff_s": self.backoff_s, "max_backoff_s": self.max_backoff_s, "extra_body": self.extra_body,
            "api_key_env": self.api_key_env, "api_key_set": self._api_key is not None,
        }

    def _work(self, work: queue.SimpleQueue, results: queue.SimpleQueue, stop: threading.Event,
              sampling: SamplingParams) -> None:
        try:
            while not stop.is_set():
                try:
                    request = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    completion = self._generate_one(request, sampling, stop)
                except BackendError as e:
                    results.put(e)
                    return
                if completion is not None:
                    results.put(completion)
        finally:
            results.put(None)  # one end marker per worker

    def _generate_one(self, request: Request, sampling: SamplingParams, stop: threading.Event) -> Completion | None:
        path, body = self._body(request, sampling)
        for attempt in range(self.max_retries + 1):
            try:
                return self._parse(request, self._call("POST", path, body))
            except _Retryable as e:
                if attempt == self.max_retries:
                    raise BackendError(
                        f"{request.problem_id} sample {request.sample_index}: {e} (gave up after {attempt + 1} "
                        f"attempts to {self.base_url}{path}); check the server's health and logs, then rerun to resume"
                    ) from None
                delay = e.retry_after
                if delay is None:
                    delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.0)
                log.log(logging.WARNING if delay >= 10 else logging.INFO, "retrying %s#%d in %.1fs: %s",
                        request.problem_id, request.sample_index, delay, e)
                if stop.wait(delay):
                    return None  # another request failed for good: stop quietly
        return None

    def _body(self, request: Request, sampling: SamplingParams) -> tuple[str, dict]:
        body = {"model": self.model, "temperature": sampling.temperature, "top_p": sampling.top_p,
                "max_tokens": sampling.max_tokens, "seed": request.seed, "n": 1}
        if self.mode == "chat":
            if request.prompt is not None:
                raise BackendError(f"{request.problem_id}: a raw prompt needs mode='completion' (chat mode sends "
                                   "messages and the server applies the chat template)")
            return "/chat/completions", {**body, "messages": list(request.messages), **self.extra_body}
        if request.prompt is None:
            raise BackendError(f"{request.problem_id}: completion mode sends raw text, but the request has only "
                               "chat messages: set Request.prompt or use mode='chat'")
        return "/completions", {**body, "prompt": request.prompt, **self.extra_body}

    def _parse(self, request: Request, data: dict) -> Completion:
        try:
            choice = data["choices"][0]
            if self.mode == "chat":
                message = choice["message"]
                text = message.get("content") or ""
                reasoning = message.get("reasoning_content") or message.get("reasoning")
            else:
                text, reasoning = choice["text"], None
            usage = data.get("usage") or {}
            return Completion(problem_id=request.problem_id, sample_index=request.sample_index, text=text,
                              finish_reason=choice.get("finish_reason"), num_tokens=usage.get("completion_tokens"),
                              seed=request.seed, reasoning=reasoning)
        except (KeyError, IndexError, TypeError, AttributeError):
            # a 200 without a completion is an overloaded or restarting server more often than a wrong API: retry
            raise _Retryable(f"HTTP 200 without an OpenAI {self.mode} completion: {json.dumps(data)[:200]}") from None

    def _call(self, method: str, path: str, body: dict | None = None, timeout_s: float | None = None) -> dict:
        """One HTTP exchange. Raises _Retryable for what a retry can fix, BackendError for what it cannot."""
        url = self.base_url + path
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        timeout_s = timeout_s or self.timeout_s
        try:
            with self._opener.open(req, timeout=timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = _error_detail(e)
            if e.code in RETRY_STATUSES or e.code >= 500:
                raise _Retryable(f"HTTP {e.code} {detail}", _retry_after(e.headers.get("Retry-After"))) from None
            hint = HINTS.get(e.code, "see the server's message")
            raise _Rejected(f"{url} answered HTTP {e.code} ({detail}): {hint}", e.code) from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, (TimeoutError, socket.timeout)):
                raise _Retryable(f"no answer within timeout_s={timeout_s}") from None
            raise _Retryable(f"cannot connect ({e.reason})") from None
        except (TimeoutError, socket.timeout):
            raise _Retryable(f"no answer within timeout_s={timeout_s}") from None
        except (ConnectionError, http.client.HTTPException) as e:
            raise _Retryable(f"connection broke ({type(e).__name__}: {e})") from None
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Retryable(f"answer is not JSON: {raw[:120]!r}") from None

    def _check_server(self) -> None:
        """Fail in one line before any work when the server cannot be reached or refuses the key."""
        try:
            listing = self._call("GET", "/models", timeout_s=min(10.0, self.timeout_s))
        except _Retryable as e:
            raise BackendError(f"cannot reach an OpenAI-compatible server at {self.base_url}: {e}; start it "
                               "(e.g. `vllm serve MODEL`) or fix --base-url") from None
        except _Rejected as e:
            if e.status in (401, 403):
                raise
            return  # some servers have no /models; the first generation will tell
        data = listing.get("data") if isinstance(listing, dict) else None
        served = [m.get("id") for m in data or [] if isinstance(m, dict)]
        if served and self.model not in served:
            warnings.warn(f"{self.base_url} does not list model {self.model!r} (it serves {served[:5]})")
        self.server_version = self._server_version()

    def _server_version(self) -> str | None:
        root = self.base_url.removesuffix("/v1")
        try:  # vLLM and SGLang answer GET /version; hosted APIs do not, and that is fine
            with self._opener.open(root + "/version", timeout=5) as resp:
                return str(json.loads(resp.read()).get("version"))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            return None


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _error_detail(error: urllib.error.HTTPError) -> str:
    try:
        raw = error.read()[:500].decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return error.reason or ""
    try:
        message = json.loads(raw).get("error", raw)
        message = message.get("message", message) if isinstance(message, dict) else message
    except (ValueError, AttributeError):
        message = raw
    return " ".join(str(message).split())[:200]
