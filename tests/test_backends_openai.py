"""The OpenAI-compatible backend against a fake server on 127.0.0.1 (tests/fake_openai_server.py; loopback only).

Covers: bounded concurrency (never above the bound, more than one at once), yielding as requests finish, retries on
429/500 and dropped answers, Retry-After honoured, timeouts, one-line errors (unreachable server, bad key, 400),
no lost or duplicated generation (also across a split run), chat and completion request bodies, the API key from
the environment, reasoning text kept, config/versions, and with several servers a retry on the next server at
once and a backoff only after every server failed (the CLI side is tests/test_harness_servers.py).

Run: python -m pytest -q tests/test_backends_openai.py
"""
from __future__ import annotations

import socket
import time
from collections import Counter

import pytest

from fake_openai_server import FakeOpenAIServer, Reply, request_key
from mimo_eval.backends import BackendError, make_backend
from mimo_eval.backends.http_util import retry_after as _retry_after
from mimo_eval.backends.openai import OpenAIBackend
from mimo_eval.types import Request, SamplingParams

FAST = dict(backoff_s=0.01, max_backoff_s=0.05, timeout_s=5.0)


def chat_requests(problems: int, samples: int) -> list[Request]:
    return [Request(problem_id=f"p{p}", sample_index=s, seed=100 * p + s,
                    messages=({"role": "system", "content": ""}, {"role": "user", "content": f"question {p}"}))
            for p in range(problems) for s in range(samples)]


def keys(completions) -> Counter:
    return Counter((c.problem_id, c.sample_index) for c in completions)


def backend_for(server: FakeOpenAIServer, **options) -> OpenAIBackend:
    return OpenAIBackend(model=server.model, base_url=server.base_url, **{**FAST, **options})


def test_concurrency_is_bounded_and_parallel():
    requests = chat_requests(10, 4)
    with FakeOpenAIServer(delay_s=0.05) as server:
        completions = list(backend_for(server, concurrency=4).generate(requests, SamplingParams()))
    assert 1 < server.max_in_flight <= 4
    assert keys(completions) == keys(requests)


def test_every_request_yields_exactly_one_completion_with_its_own_settings():
    requests = chat_requests(7, 5)
    sampling = SamplingParams(temperature=0.6, top_p=0.95, max_tokens=123)
    with FakeOpenAIServer() as server:
        completions = list(backend_for(server, concurrency=8).generate(requests, sampling))
        bodies = [a.body for a in server.generation_attempts()]
    assert keys(completions) == keys(requests) and max(keys(completions).values()) == 1
    by_key = {(c.problem_id, c.sample_index): c for c in completions}
    for r in requests:
        c = by_key[(r.problem_id, r.sample_index)]
        assert c.seed == r.seed and c.finish_reason == "stop" and c.num_tokens == len(c.text.split())
        assert c.text == f"echo question {r.problem_id[1:]}|seed={r.seed} t=0.6 p=0.95 max=123"
    assert all(b["n"] == 1 and b["model"] == "fake-model" for b in bodies)


def test_completions_are_yielded_as_they_finish():
    slow = request_key({"messages": [{"content": "question 0"}], "seed": 0})
    script = lambda body, attempt: Reply(delay_s=1.0 if request_key(body) == slow else 0.01)  # noqa: E731
    with FakeOpenAIServer(script=script) as server:
        order = [(c.problem_id, c.sample_index) for c in backend_for(server, concurrency=4)
                 .generate(chat_requests(4, 2), SamplingParams())]
    assert order[-1] == ("p0", 0) and len(order) == 8


def test_retries_429_then_500_then_succeeds():
    statuses = {1: 429, 2: 500}
    script = lambda body, attempt: Reply(statuses[attempt]) if attempt in statuses else None  # noqa: E731
    with FakeOpenAIServer(script=script) as server:
        completions = list(backend_for(server).generate(chat_requests(3, 1), SamplingParams()))
        attempts = Counter(request_key(a.body) for a in server.generation_attempts())
    assert len(completions) == 3 and set(attempts.values()) == {3}


def test_dropped_connection_is_retried():
    script = lambda body, attempt: Reply(drop=True) if attempt == 1 else None  # noqa: E731
    with FakeOpenAIServer(script=script) as server:
        completions = list(backend_for(server).generate(chat_requests(3, 1), SamplingParams()))
        attempts = Counter(request_key(a.body) for a in server.generation_attempts())
    assert len(completions) == 3 and set(attempts.values()) == {2}


def test_retry_after_header_is_honoured():
    script = lambda body, attempt: Reply(429, {"Retry-After": "1"}) if attempt == 1 else None  # noqa: E731
    with FakeOpenAIServer(script=script) as server:
        list(backend_for(server).generate(chat_requests(1, 1), SamplingParams()))
        first, second = server.generation_attempts()
    assert second.started - first.started >= 0.95  # backoff alone would wait at most 0.05 s


@pytest.mark.parametrize("header, expected", [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), (None, None)])
def test_retry_after_values(header, expected):
    assert _retry_after(header) == expected


def test_retry_after_http_date():
    assert 25 <= _retry_after(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))) <= 31


def test_timeout_is_retried():
    script = lambda body, attempt: Reply(delay_s=2.0) if attempt == 1 else None  # noqa: E731
    with FakeOpenAIServer(script=script) as server:
        completions = list(backend_for(server, timeout_s=0.3).generate(chat_requests(2, 1), SamplingParams()))
        attempts = Counter(request_key(a.body) for a in server.generation_attempts())
    # the path taken: each first attempt abandoned at the timeout and asked again (not waited out)
    assert len(completions) == 2 and set(attempts.values()) == {2}


def test_timeout_on_every_attempt_is_a_one_line_error():
    with FakeOpenAIServer(script=lambda body, attempt: Reply(delay_s=0.5)) as server:
        backend = backend_for(server, timeout_s=0.1, max_retries=1)
        with pytest.raises(BackendError, match="no answer within timeout_s=0.1.*gave up after 2 attempts") as e:
            list(backend.generate(chat_requests(1, 1), SamplingParams()))
    assert "\n" not in str(e.value)


def test_unreachable_server_is_a_one_line_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = OpenAIBackend(model="m", base_url=f"http://127.0.0.1:{port}/v1", **FAST)
    with pytest.raises(BackendError, match=f"cannot reach .*127.0.0.1:{port}/v1.*--base-url") as e:
        list(backend.generate(chat_requests(1, 1), SamplingParams()))
    assert "\n" not in str(e.value)


def test_rejected_api_key_is_reported_before_any_work():
    with FakeOpenAIServer(require_key="sk-right") as server:
        with pytest.raises(BackendError, match="HTTP 401.*API key"):
            list(backend_for(server, api_key="sk-wrong").generate(chat_requests(1, 1), SamplingParams()))
        assert server.generation_attempts() == []


def test_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-right")
    with FakeOpenAIServer(require_key="sk-right") as server:
        backend = backend_for(server, api_key_env="MY_KEY")
        assert len(list(backend.generate(chat_requests(2, 1), SamplingParams()))) == 2
    assert backend.config()["api_key_set"] is True and "sk-right" not in str(backend.config())


def test_non_retryable_error_stops_new_work_and_keeps_finished_generations():
    bad = request_key({"messages": [{"content": "question 5"}], "seed": 500})
    script = lambda body, attempt: Reply(400, body={"error": {"message": "context too long"}}) \
        if request_key(body) == bad else Reply(delay_s=0.02)  # noqa: E731
    yielded = []
    with FakeOpenAIServer(script=script) as server:
        with pytest.raises(BackendError, match="HTTP 400 \\(context too long\\).*max-tokens"):
            for completion in backend_for(server, concurrency=2).generate(chat_requests(20, 1), SamplingParams()):
                yielded.append(completion)
        answered = [a for a in server.generation_attempts() if request_key(a.body) != bad]
    assert len(yielded) == len(answered) and len(yielded) < 19  # all that finished, then no new work
    assert max(keys(yielded).values()) == 1


def test_split_run_gives_every_request_once():
    requests = chat_requests(6, 4)
    with FakeOpenAIServer() as server:
        backend = backend_for(server, concurrency=3)
        first = list(backend.generate(requests[:9], SamplingParams()))
        done = keys(first)
        rest = [r for r in requests if (r.problem_id, r.sample_index) not in done]
        second = list(backend.generate(rest, SamplingParams()))
    assert keys(first + second) == keys(requests) and max(keys(first + second).values()) == 1


def test_abandoning_the_generator_returns_promptly():
    with FakeOpenAIServer(delay_s=0.2) as server:
        generator = backend_for(server, concurrency=2).generate(chat_requests(50, 1), SamplingParams())
        next(generator)
        generator.close()   # returns at all: no join on a worker in the middle of an HTTP read
        time.sleep(0.3)
        assert len(server.generation_attempts()) <= 6  # no new work after close


def test_completion_mode_sends_the_raw_prompt():
    requests = [Request(problem_id="p0", sample_index=0, messages=(), seed=7, prompt="Question: 1+1?\nAnswer:")]
    with FakeOpenAIServer() as server:
        [completion] = backend_for(server, mode="completion").generate(requests, SamplingParams(max_tokens=5))
        [attempt] = server.generation_attempts()
    assert attempt.path == "/v1/completions" and attempt.body["prompt"] == "Question: 1+1?\nAnswer:"
    assert completion.finish_reason == "length" and completion.text.startswith("echo Question: 1+1?")


def test_completion_mode_without_a_raw_prompt_is_refused():
    with FakeOpenAIServer() as server:
        with pytest.raises(BackendError, match="completion mode sends raw text"):
            list(backend_for(server, mode="completion").generate(chat_requests(1, 1), SamplingParams()))


def test_reasoning_text_is_kept():
    with FakeOpenAIServer(reasoning="<think>2+2</think>") as server:
        [completion] = backend_for(server).generate(chat_requests(1, 1), SamplingParams())
    assert completion.reasoning == "<think>2+2</think>"


def test_config_and_versions_are_recorded():
    with FakeOpenAIServer() as server:
        backend = make_backend("openai", model=server.model, base_url=server.base_url, concurrency=3)
        list(backend.generate(chat_requests(1, 1), SamplingParams()))
    assert backend.versions()["server"] == "fake-1.0" and "mimo-eval" in backend.versions()
    assert backend.config()["concurrency"] == 3 and backend.config()["base_url"] == server.base_url


def test_unknown_backend_name():
    with pytest.raises(BackendError, match="unknown backend 'vlm': choose one of vllm, openai, hf, replay"):
        make_backend("vlm")


def test_a_model_the_server_does_not_list_is_warned_about():
    with FakeOpenAIServer() as server:
        backend = OpenAIBackend(model="other-model", base_url=server.base_url, **FAST)
        with pytest.warns(UserWarning, match="does not list model 'other-model'.*fake-model"):
            assert len(list(backend.generate(chat_requests(1, 1), SamplingParams()))) == 1


def test_several_servers_retry_on_the_next_at_once_and_back_off_after_a_round(caplog):
    """Attempt 1 on the home server fails, attempt 2 goes to the other server at once, attempt 3 (both failed)
    waits the backoff (2 s x uniform(0.5, 1)) before going back to the first."""
    fails_once = lambda body, attempt: Reply(503) if attempt == 1 else None  # noqa: E731  (counted per server)
    caplog.set_level("INFO", logger="mimo_eval.backends.openai")
    with FakeOpenAIServer(script=fails_once) as a, FakeOpenAIServer(script=fails_once) as b:
        backend = OpenAIBackend(model=a.model, base_url=[a.base_url, b.base_url], backoff_s=2.0, timeout_s=5.0)
        [completion] = backend.generate(chat_requests(1, 1), SamplingParams())
        on_a, on_b = a.generation_attempts(), b.generation_attempts()
    # the path taken: a, then b, then a again after the one backoff wait (none between the first two)
    waits = [r for r in caplog.records if r.getMessage().startswith("retrying p0#0 in ")]
    assert (len(on_a), len(on_b), len(waits)) == (2, 1, 1)
    assert on_a[0].started < on_b[0].started < on_a[1].started and on_a[1].started - on_b[0].started >= 0.95
    assert completion.server == a.base_url and completion.model == a.model   # the home server, after one round
