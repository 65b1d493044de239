"""Generation through any OpenAI-compatible server: `vllm serve`, SGLang, hosted APIs.

Standard library only (urllib + threads), so the core install stays light. One HTTP request per sample (n=1 with the
request's own seed), at most `concurrency` in flight per server; completions are yielded as they finish, in any order.
`base_url` may list several servers of one model: requests are spread over them (one shared queue, so a faster
server takes more). Servers are health-marked (mimo_eval/backends/servers.py): one that refuses connections or
stalls is skipped at once, one that fails `down_after` requests in a row is skipped too, and both are probed back
in the background; a failed attempt is retried on the next healthy server at once, with backoff only after every
candidate has failed it. An attempt on a server found unreachable while another is up does not count against the
retry budget, so a dead server in the list cannot use it up. A run starts (and resumes) while some listed servers
are down, as long as one answers. Each completion records the server that produced it and the model name that
server reported in its answer. Retries with exponential backoff and jitter on 408/409/429/5xx, a 200 without a
completion, timeouts, stalls and dropped connections, honouring Retry-After. A request that still fails, or a
non-retryable answer (400, 401, 404), stops new requests; those already in flight finish and are yielded, then
`BackendError` is raised, so nothing generated is lost and a rerun resumes from the store.

`extra_body` adds server-specific fields to every request body (`top_k`, `min_p`, `stop`, `reasoning_effort`,
`chat_template_kwargs`, ...); which fields it may not set, and how a request is built: openai_wire.py. Recent
`vllm serve` versions fill fields a request leaves out (top_k, repetition_penalty, min_p) from the model's
generation_config.json; to sample with temperature and top-p alone, start the server with `--generation-config
vllm` or set those fields here.

Answers are streamed (`stream: true`, usage in the last chunk) so that a hung server is told from a long generation:
no byte for `stall_timeout_s` (default 300 s) is a stall, and the request moves to another server. `timeout_s`
bounds a whole generation (checked as bytes arrive). With `stream=False` whole answers are asked for, and only
`timeout_s` bounds a hung server. The text is the same either way.

`thinking_opened` (`--thinking-opened yes|no|auto`): whether the server's chat template ends the prompt inside an
open thinking block (R1-distill, QwQ), which the grader must know to tell a response cut mid-thinking from an
answer. Auto (None) asks the server to render the first prompt (vLLM's /tokenize); a server without that endpoint
leaves it unknown (recorded as null, graded from the response alone) and a warning says to pass the flag.
"""
from __future__ import annotations

import itertools
import logging
import os
import queue
import random
import threading
import warnings
from typing import Iterator, Sequence

from graders.math.thinking import opens_thinking
from mimo_eval.backends.common import BackendError, base_versions
from mimo_eval.backends.http_util import Rejected, Retryable, exchange, opener as _opener
from mimo_eval.backends.openai_wire import ask_server_version, check_extra_body, parse_completion, request_body
from mimo_eval.backends.servers import ServerHealth
from mimo_eval.types import Completion, Request, SamplingParams

log = logging.getLogger(__name__)

BUSY = {}   # _call_on's answer when the server's slots are taken (compared by identity)


class OpenAIBackend:
    name = "openai"

    def __init__(self, *, model: str, base_url: str | Sequence[str] = "http://localhost:8000/v1", mode: str = "chat",
                 api_key: str | None = None, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 32,
                 timeout_s: float = 3600.0, max_retries: int = 5, backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 extra_body: dict | None = None, check_server: bool = True, stream: bool = True,
                 stall_timeout_s: float = 300.0, down_after: int = 3,
                 thinking_opened: bool | None = None):
        if mode not in ("chat", "completion"):
            raise BackendError(f"mode must be 'chat' or 'completion', got {mode!r}")
        if concurrency < 1 or max_retries < 0 or timeout_s <= 0 or stall_timeout_s <= 0:
            raise BackendError("concurrency must be >= 1, max_retries >= 0, timeout_s > 0 and stall_timeout_s > 0")
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.base_urls = [u.rstrip("/") for u in urls]
        if not self.base_urls or len(set(self.base_urls)) != len(self.base_urls):
            raise BackendError(f"give one or more distinct server URLs, got {urls}")
        self.model, self.mode, self.base_url = model, mode, self.base_urls[0]
        self.api_key_env = api_key_env
        self._api_key = api_key if api_key is not None else os.environ.get(api_key_env)
        self.concurrency, self.timeout_s, self.max_retries = concurrency, timeout_s, max_retries
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.stream, self.stall_timeout_s = stream, stall_timeout_s
        self.extra_body = dict(extra_body or {})
        check_extra_body(self.extra_body)
        self.check_server = check_server
        self._thinking_opened = thinking_opened   # None: asked of the server (thinking_opened)
        self._checked = False   # servers are asked once, by whichever of versions() and generate() comes first
        self.server_versions: dict[str, str | None] = {}
        self._openers = {url: _opener(url) for url in self.base_urls}
        self._slots = {url: threading.BoundedSemaphore(concurrency) for url in self.base_urls}
        self.health = ServerHealth(self.base_urls, self._answers_probe, down_after=down_after)

    def generate(self, requests: Sequence[Request], sampling: SamplingParams) -> Iterator[Completion]:
        if not requests:
            return
        self._check_once()
        work: queue.SimpleQueue[Request] = queue.SimpleQueue()
        for request in requests:
            work.put(request)
        results: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()
        threading.Thread(target=self.health.probe_loop, args=(stop,), daemon=True).start()
        workers = min(self.concurrency * len(self.base_urls), len(requests))
        for i in range(workers):
            # Daemon threads: Ctrl-C or an abandoned generator never waits on a long HTTP read.
            threading.Thread(target=self._work, args=(work, results, stop, sampling, i % len(self.base_urls)),
                             daemon=True).start()
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

    @property
    def server_version(self) -> str | None:
        return self.server_versions.get(self.base_url)

    def versions(self) -> dict[str, str]:
        self._check_once()   # the run record is built before any generation: ask the servers now, not "unknown"
        if len(self.base_urls) == 1:
            return {**base_versions(), "server": self.server_version or "unknown"}
        return {**base_versions(), "server": "; ".join(f"{url} {self.server_versions.get(url) or 'unknown'}"
                                                       for url in self.base_urls)}

    def _check_once(self) -> None:
        if self.check_server and not self._checked:
            self._check_server()
            self._checked = True

    def config(self) -> dict:
        return {
            "backend": self.name, "model": self.model, "mode": self.mode,
            "base_url": self.base_url if len(self.base_urls) == 1 else list(self.base_urls),
            "concurrency": self.concurrency, "timeout_s": self.timeout_s, "max_retries": self.max_retries,
            "backoff_s": self.backoff_s, "max_backoff_s": self.max_backoff_s, "extra_body": self.extra_body,
            "stream": self.stream, "stall_timeout_s": self.stall_timeout_s,
            "api_key_env": self.api_key_env, "api_key_set": self._api_key is not None,
        }

    def thinking_opened(self, request: Request) -> bool | None:
        """The server renders chat prompts, so unless the user said (`--thinking-opened yes|no`), the prompt is
        rendered by the server itself: vLLM's /tokenize (messages, the same chat_template_kwargs) with its token
        strings. None when the server has no such endpoint (hosted APIs, SGLang): graded from the response alone."""
        if self._thinking_opened is not None:
            return self._thinking_opened
        if self.mode == "completion":
            return opens_thinking(request.prompt or "")
        body = {"model": self.model, "messages": list(request.messages), "add_generation_prompt": True,
                "return_token_strs": True}
        kwargs = request.chat_template_kwargs or self.extra_body.get("chat_template_kwargs")
        if kwargs is not None:
            body["chat_template_kwargs"] = kwargs
        problems = []
        for url in self.base_urls:   # the first server that renders it; one may be down at the start
            root = url.removesuffix("/v1")
            try:
                answer = exchange(self._openers[url], "POST", root + "/tokenize", body, api_key=self._api_key,
                                  timeout_s=min(30.0, self.timeout_s), stall_timeout_s=self.stall_timeout_s,
                                  mode=self.mode)
                return opens_thinking("".join(answer["token_strs"]))
            except (Retryable, BackendError, KeyError, TypeError) as e:   # down, refused, or no such endpoint
                problems.append(str(e)[:160] if isinstance(e, Rejected) else f"{root}: {str(e)[:160]}")
        log.warning("no server could render the chat prompt (%s): whether it opens a thinking block is unknown; "
                    "pass --thinking-opened yes|no for a model whose template ends the prompt with <think>",
                    "; ".join(problems))
        return None

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _work(self, work: queue.SimpleQueue, results: queue.SimpleQueue, stop: threading.Event,
              sampling: SamplingParams, home: int) -> None:
        try:
            while not stop.is_set():
                try:
                    request = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    completion = self._generate_one(request, sampling, stop, home)
                except BackendError as e:
                    results.put(e)
                    return
                if completion is not None:
                    results.put(completion)
        finally:
            results.put(None)  # one end marker per worker

    def _generate_one(self, request: Request, sampling: SamplingParams, stop: threading.Event,
                      home: int) -> Completion | None:
        path, body = request_body(request, sampling, model=self.model, mode=self.mode, stream=self.stream,
                                  extra_body=self.extra_body)
        counted, rounds, free = 0, 0, 2 * len(self.base_urls)
        tried: set[str] = set()   # servers that failed this request since the last backoff
        last: Retryable | None = None
        for turn in itertools.count(home):
            url, wait = self.health.pick(turn, tried)
            if wait:   # every candidate failed it: back off before the next round
                tried.clear()
                delay = last.retry_after
                if delay is None:
                    delay = min(self.max_backoff_s, self.backoff_s * 2**rounds) * random.uniform(0.5, 1.0)
                rounds += 1
                log.log(logging.WARNING if delay >= 10 else logging.INFO, "retrying %s#%d in %.1fs: %s",
                        request.problem_id, request.sample_index, delay, last)
                if stop.wait(delay):
                    return None  # another request failed for good: stop quietly
            try:
                data = self._call_on(url, path, body, stop)
                if data is None:
                    return None  # stopped while waiting for a free slot
                if data is BUSY:
                    continue     # not an attempt: the next turn looks at the next server
                completion = parse_completion(request, data, url, self.mode)
            except Retryable as e:
                last = e
                self.health.failed(url, str(e), unreachable=e.unreachable)
                tried.add(url)
                if e.unreachable and free and self.health.any_up(besides=url):
                    free -= 1   # it never ran on a healthy server: the retry budget is for those
                    continue
                counted += 1
                if counted > self.max_retries:
                    raise BackendError(
                        f"{request.problem_id} sample {request.sample_index}: {e} (gave up after {counted} "
                        f"attempts, last to {url}{path}); check the servers' health and logs, then rerun to resume"
                    ) from None
                log.info("retrying %s#%d: %s: %s", request.problem_id, request.sample_index, url, e)
                continue
            self.health.succeeded(url)
            return completion
        raise AssertionError("unreachable: itertools.count never ends")

    def _call_on(self, url: str, path: str, body: dict, stop: threading.Event) -> dict | None:
        """One POST to one server, holding one of its `concurrency` slots (a retry may come from another home).
        BUSY when no slot frees within 0.1 s while another server is up: the caller picks again, so a worker whose
        home was down does not queue forever behind another's slots once its home is back."""
        slot = self._slots[url]
        while not slot.acquire(timeout=0.1):
            if stop.is_set():
                return None
            if self.health.any_up(besides=url):
                return BUSY
        try:
            return self._call("POST", path, body, base_url=url)
        finally:
            slot.release()

    def _call(self, method: str, path: str, body: dict | None = None, timeout_s: float | None = None, *,
              base_url: str | None = None) -> dict:
        """One HTTP exchange with one server (http_util.exchange): Retryable for what a retry can fix."""
        base_url = base_url or self.base_url
        return exchange(self._openers[base_url], method, base_url + path, body, api_key=self._api_key,
                        timeout_s=timeout_s or self.timeout_s, stall_timeout_s=self.stall_timeout_s, mode=self.mode)

    def _answers_probe(self, url: str) -> bool:
        """Whether a server marked down answers again (GET /models; a 404 from a server without it counts)."""
        try:
            self._call("GET", "/models", timeout_s=min(5.0, self.timeout_s), base_url=url)
        except Retryable:
            return False
        except BackendError:
            return True   # it answered, if only to refuse
        return True

    def _check_server(self) -> None:
        """Fail in one line before any work when no server can be reached or a key is refused; a server that cannot
        be reached while another can is marked unreachable (and probed back while the run goes)."""
        unreachable = {}
        for url in self.base_urls:
            try:
                listing = self._call("GET", "/models", timeout_s=min(10.0, self.timeout_s), base_url=url)
            except Retryable as e:
                unreachable[url] = e
                continue
            except Rejected as e:
                if e.status in (401, 403):
                    raise
                continue  # some servers have no /models; the first generation will tell
            data = listing.get("data") if isinstance(listing, dict) else None
            served = [m.get("id") for m in data or [] if isinstance(m, dict)]
            if served and self.model not in served:
                warnings.warn(f"{url} does not list model {self.model!r} (it serves {served[:5]})")
            self.server_versions[url] = ask_server_version(self._openers[url], url)
        if len(unreachable) == len(self.base_urls):
            url, e = next(iter(unreachable.items()))
            others = " (or drop it from the --base-url list)" if len(self.base_urls) > 1 else ""
            raise BackendError(f"cannot reach an OpenAI-compatible server at {url}: {e}; start it "
                               f"(e.g. `vllm serve MODEL`) or fix --base-url{others}")
        for url, e in unreachable.items():
            self.health.mark_unreachable(url, f"not answering at start: {e}")
