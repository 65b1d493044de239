"""HTTP for the openai backend: one exchange with a server (whole or streamed answers, what a retry can fix and what
it cannot), a proxy-aware opener per server, Retry-After, a server's error message, a streamed answer made whole."""
from __future__ import annotations

import email.utils
import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from mimo_eval.backends.common import BackendError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
RETRY_STATUSES = frozenset({408, 409, 429})  # plus every 5xx
HINTS = {
    400: "the server rejected the request; often the prompt plus --max-tokens exceeds the model's context",
    401: "check the API key (the environment variable named by --api-key-env, default OPENAI_API_KEY)",
    403: "check the API key (the environment variable named by --api-key-env, default OPENAI_API_KEY)",
    404: "check --base-url (it usually ends in /v1) and --model (the served model name)",
}


class Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None, *, unreachable: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = unreachable   # refused the connection or stalled: marked at once, probed back


class Rejected(BackendError):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def opener(url: str) -> urllib.request.OpenerDirector:
    # Loopback never goes through an environment proxy; other hosts keep the user's proxy settings.
    host = urllib.parse.urlsplit(url).hostname or ""
    return urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if host in LOOPBACK else []))


def retry_after(value: str | None) -> float | None:
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


def error_detail(error: urllib.error.HTTPError) -> str:
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


class StreamError(ValueError):
    """A streamed answer that is not a whole completion (cut before [DONE], an error event, a chunk not JSON)."""


def assemble_stream(lines, mode: str) -> dict:
    """The chunks of a streamed answer (server-sent events: `data: {...}` lines, then `data: [DONE]`) as the one
    JSON answer the same request without streaming would have had: content (and reasoning) joined, the last
    finish_reason, the usage chunk, the model name."""
    pieces, reasoning, finish, usage, model, choices = [], [], None, None, None, False
    for raw in lines:
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue   # blank separators, `: keep-alive` comments, event names
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            raise StreamError(f"a streamed chunk is not JSON: {data[:120]!r}") from None
        if not isinstance(chunk, dict):
            raise StreamError(f"a streamed chunk is not a JSON object: {data[:120]!r}")
        if chunk.get("error") and not chunk.get("choices"):
            raise StreamError(f"the server reported an error mid-answer: {json.dumps(chunk['error'])[:200]}")
        model = model or chunk.get("model")
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or ("delta" if mode == "chat" else "text") not in choice:
                continue   # not a completion's piece: with none at all, the answer is retried
            choices = True
            delta = (choice["delta"] or {}) if mode == "chat" else {"content": choice["text"]}
            pieces.append(delta.get("content") or "")
            reasoning.append(delta.get("reasoning_content") or delta.get("reasoning") or "")
            finish = choice.get("finish_reason") or finish
    else:
        raise StreamError("the answer stopped before its end ([DONE]): the connection was cut")
    if not choices:
        return {"model": model, "usage": usage}   # no completion in it: the caller retries like a 200 without one
    text, thought = "".join(pieces), "".join(reasoning) or None
    choice = {"index": 0, "finish_reason": finish}
    if mode == "chat":
        choice["message"] = {"role": "assistant", "content": text, "reasoning_content": thought}
    else:
        choice["text"] = text
    return {"model": model, "choices": [choice], "usage": usage}


def exchange(opener: urllib.request.OpenerDirector, method: str, url: str, body: dict | None, *,
             api_key: str | None, timeout_s: float, stall_timeout_s: float, mode: str) -> dict:
    """One HTTP exchange: the JSON answer, or the answer a streamed request (`stream: true` in the body) would have
    had whole. Raises Retryable for what a retry can fix (`unreachable` when the server refused the connection or
    stalled: no byte for stall_timeout_s), Rejected for what it cannot."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    try:   # allow_nan=False: a NaN would go over the wire as a bare NaN, which is not JSON
        data = json.dumps(body, allow_nan=False).encode() if body is not None else None
    except ValueError:
        raise Rejected(f"a request field is NaN or infinite: {json.dumps(body)[:200]}", 0) from None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    streaming = bool(body and body.get("stream"))
    # streamed: the socket waits at most the stall timeout for each byte; whole: for the whole answer
    wait_s = min(stall_timeout_s, timeout_s) if streaming else timeout_s
    started = time.monotonic()
    try:
        with opener.open(req, timeout=wait_s) as resp:
            if streaming and resp.headers.get_content_type() == "text/event-stream":
                return assemble_stream(_lines_until(resp, started + timeout_s, timeout_s), mode)
            raw = resp.read()
    except urllib.error.HTTPError as e:
        detail = error_detail(e)
        if e.code in RETRY_STATUSES or e.code >= 500:
            raise Retryable(f"HTTP {e.code} {detail}", retry_after(e.headers.get("Retry-After"))) from None
        hint = HINTS.get(e.code, "see the server's message")
        raise Rejected(f"{url} answered HTTP {e.code} ({detail}): {hint}", e.code) from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, (TimeoutError, socket.timeout)):
            raise Retryable(f"no connection within {wait_s:g} s", unreachable=True) from None
        raise Retryable(f"cannot connect ({e.reason})", unreachable=True) from None
    except (TimeoutError, socket.timeout):
        if streaming and time.monotonic() - started < timeout_s:
            raise Retryable(f"stalled: no byte for stall_timeout_s={stall_timeout_s:g}", unreachable=True) from None
        raise Retryable(f"no answer within timeout_s={timeout_s}") from None
    except (ConnectionError, http.client.HTTPException, StreamError) as e:
        raise Retryable(f"connection broke ({type(e).__name__}: {e})") from None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Retryable(f"answer is not JSON: {raw[:120]!r}") from None


def _lines_until(resp, deadline: float, timeout_s: float):
    """The lines of a streamed answer; past the deadline (the whole generation's timeout) a retryable error."""
    for line in resp:
        yield line
        if time.monotonic() > deadline:
            raise Retryable(f"no answer within timeout_s={timeout_s}")
