"""A fake OpenAI-compatible server for tests: stdlib `http.server` on 127.0.0.1 in a thread, loopback only.

It answers POST /v1/chat/completions and /v1/completions with a deterministic text built from the request, GET
/v1/models and GET /version, and records every attempt. A request with `stream: true` is answered as vLLM streams:
server-sent events, one chunk per word, the finish reason, a usage chunk, `data: [DONE]`. `script(body, attempt)`
may return a `Reply` to inject failures for a given request and attempt number (1-based, counted per (prompt,
seed)): a status, headers, a delay before answering, a dropped connection, and for streamed answers a stall (no
byte for `stall_s` after the first chunk) or a cut (the connection closed after the first chunk). `port` binds a
given port, so a test can start a server where a dead one was listed.
Several instances run side by side (one port each) to stand for several servers of one model. `reported_model`
is the model name the answers carry (hosted APIs answer "gpt-4o" with "gpt-4o-2024-08-06"; default: the name
asked for), `reasoning` a `reasoning_content` field beside the content (vLLM's --reasoning-parser).
`answers_for(benchmark)` builds a script that answers a bundled benchmark's problems right or wrong on purpose.
`render(body)`, when given, renders a chat request's prompt for POST /tokenize as vLLM does (its token strings,
here one per character); without it /tokenize is a 404, as on servers that lack it.

    with FakeOpenAIServer(delay_s=0.05) as server:
        backend = OpenAIBackend(model=server.model, base_url=server.base_url)
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0
    body: dict | None = None   # None: the normal completion
    drop: bool = False         # close the connection without answering
    stall_s: float = 0.0       # streamed: after the first chunk, send nothing for this long
    cut: bool = False          # streamed: close the connection after the first chunk


@dataclass
class Attempt:
    path: str
    body: dict
    attempt: int
    started: float
    headers: dict


def request_key(body: dict) -> str:
    prompt = body.get("prompt")
    if prompt is None:
        prompt = body["messages"][-1]["content"]
    return f"{prompt}|seed={body.get('seed')}"


def answers_for(benchmark: str, answer: Callable[[object], tuple[str, str]], *, model: str | None = None,
                reasoning: str | None = None) -> Callable[[dict, int], Reply]:
    """A script answering `benchmark`'s problems: answer(problem) -> (content, finish_reason). The reply carries
    `model` as the reported model name (None: the name asked for) and `reasoning` as reasoning_content."""
    from benchmarks.registry import get

    by_prompt = {p.prompt: p for p in get(benchmark).load()}

    def script(body: dict, attempt: int) -> Reply:
        text, finish = answer(by_prompt[body["messages"][-1]["content"]])
        message = {"role": "assistant", "content": text}
        if reasoning is not None:
            message["reasoning_content"] = reasoning
        return Reply(body={"model": model or body.get("model"),
                           "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                           "usage": {"prompt_tokens": 5, "completion_tokens": len(text.split()), "total_tokens": 9}})

    return script


class FakeOpenAIServer:
    model = "fake-model"

    def __init__(self, *, delay_s: float = 0.0, script: Callable[[dict, int], Reply | None] | None = None,
                 require_key: str | None = None, reasoning: str | None = None, reported_model: str | None = None,
                 port: int = 0, render: Callable[[dict], str] | None = None):
        self.delay_s, self.script, self.require_key, self.reasoning = delay_s, script, require_key, reasoning
        self.reported_model, self.render = reported_model, render
        self.tokenize_bodies: list[dict] = []
        self.attempts: list[Attempt] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self.abandoned: list[str] = []   # request keys whose client left while their answer was still due
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.fake = self
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAIServer":
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def generation_attempts(self) -> list[Attempt]:
        return [a for a in self.attempts if a.path.endswith("completions")]

    def completion_text(self, body: dict) -> str:
        settings = f"t={body.get('temperature')} p={body.get('top_p')} max={body.get('max_tokens')}"
        return f"echo {request_key(body)} {settings}"

    def _answer(self, path: str, body: dict, headers: dict) -> Reply:
        key = request_key(body)
        with self._lock:
            self._counts[key] = attempt = self._counts.get(key, 0) + 1
            self.attempts.append(Attempt(path, body, attempt, time.monotonic(), headers))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.require_key and headers.get("Authorization") != f"Bearer {self.require_key}":
                return Reply(401, body={"error": {"message": "Invalid API key"}})
            reply = (self.script(body, attempt) if self.script else None) or Reply(delay_s=self.delay_s)
            time.sleep(reply.delay_s)
            if reply.body is None and reply.status == 200:
                reply.body = self._completion_body(path, body)
            return reply
        finally:
            with self._lock:
                self.in_flight -= 1

    def _completion_body(self, path: str, body: dict) -> dict:
        text = self.completion_text(body)
        if path.endswith("/chat/completions"):
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            if self.reasoning is not None:
                choice["message"]["reasoning_content"] = self.reasoning
        else:
            choice = {"index": 0, "text": text, "finish_reason": "length"}
        return {"id": "x", "object": "completion", "model": self.reported_model or body.get("model"),
                "choices": [choice],
                "usage": {"prompt_tokens": 3, "completion_tokens": len(text.split()), "total_tokens": 9}}


class _Handler(BaseHTTPRequestHandler):
    """One request to the fake server (`self.server.fake`)."""

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _send(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            return
        payload = json.dumps(reply.body or {}).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left: that is the point of some tests

    def _send_stream(self, reply: Reply, request: dict) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()   # HTTP/1.0: the stream ends when the connection closes
            for number, chunk in enumerate(stream_chunks(reply.body or {})):
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
                if number == 0 and reply.cut:
                    return
                if number == 0 and reply.stall_s:
                    time.sleep(reply.stall_s)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            self.server.fake.abandoned.append(request_key(request))

    def do_GET(self) -> None:
        server = self.server.fake
        if self.path == "/v1/models" and server.require_key and \
                self.headers.get("Authorization") != f"Bearer {server.require_key}":
            self._send(Reply(401, body={"error": {"message": "Invalid API key"}}))
        elif self.path == "/v1/models":
            self._send(Reply(body={"object": "list", "data": [{"id": server.model, "object": "model"}]}))
        elif self.path == "/version":
            self._send(Reply(body={"version": "fake-1.0"}))
        else:
            self._send(Reply(404, body={"error": {"message": "not found"}}))

    def do_POST(self) -> None:
        server = self.server.fake
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        if self.path == "/tokenize" and server.render is not None:
            server.tokenize_bodies.append(body)
            pieces = list(server.render(body))
            self._send(Reply(body={"count": len(pieces), "max_model_len": 4096, "tokens": list(range(len(pieces))),
                                   "token_strs": pieces if body.get("return_token_strs") else None}))
            return
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            self._send(Reply(404, body={"error": {"message": f"no route {self.path}"}}))
            return
        reply = server._answer(self.path, body, dict(self.headers))
        if body.get("stream") and reply.status == 200 and not reply.drop:
            self._send_stream(reply, body)
        else:
            self._send(reply)


def stream_chunks(answer: dict) -> list[dict]:
    """A whole answer as the chunks vLLM streams: reasoning, then the content word by word, then the finish reason,
    then usage (stream_options.include_usage). An answer without choices (an injected fault) is sent as it is."""
    if not answer.get("choices") or not ({"message", "text"} & set(answer["choices"][0])):
        return [answer]
    choice, base = answer["choices"][0], {"id": "x", "model": answer.get("model")}
    if "message" in choice:
        message = choice["message"]
        deltas = [{"role": "assistant"}] + ([{"reasoning_content": message["reasoning_content"]}]
                                            if message.get("reasoning_content") else [])
        deltas += [{"content": word} for word in _words(message.get("content") or "")]
        chunks = [{**base, "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        last = {"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason")}
    else:
        chunks = [{**base, "object": "text_completion", "choices": [{"index": 0, "text": w, "finish_reason": None}]}
                  for w in _words(choice.get("text") or "")]
        last = {"index": 0, "text": "", "finish_reason": choice.get("finish_reason")}
    chunks.append({**base, "choices": [last]})
    if answer.get("usage"):
        chunks.append({**base, "choices": [], "usage": answer["usage"]})
    return chunks


def _words(text: str) -> list[str]:
    """Pieces that join back to the text exactly (each word keeps the spaces after it)."""
    import re

    return re.findall(r"\S*\s*", text)[:-1] or [text]
