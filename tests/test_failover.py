"""Failover across several OpenAI-compatible servers (mimo_eval/backends/servers.py, openai.py), against fake servers
with injected faults on 127.0.0.1 (tests/fake_openai_server.py) and ports nobody listens on.

Covers: with one server dead and the other failing some attempts, the retry budget is spent on the live one and the
run finishes (a dead server's attempts are free while another is up); a run starts, and resumes, while a listed
server is down, as long as one answers (all down is still a one-line error); a server that was down and comes up
during the run is probed back and takes requests; a server that stalls (no byte for --stall-timeout) loses the
request to another server instead of holding it for the whole request timeout; a failing server is skipped after
a few failures in a row.

Run: python -m pytest -q tests/test_failover.py
"""
from __future__ import annotations

import json
import logging
import socket
from collections import Counter
from pathlib import Path

from fake_openai_server import FakeOpenAIServer, Reply, answers_for, request_key
from mimo_eval.backends.openai import OpenAIBackend
from mimo_eval.backends.servers import FAILING, UNREACHABLE, UP
from mimo_eval.cli import main
from mimo_eval.types import Request, SamplingParams
from test_harness_servers import run_args

MODEL = FakeOpenAIServer.model


def dead_url() -> str:
    with socket.socket() as s:   # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def requests(count: int) -> list[Request]:
    return [Request(problem_id=f"p{i}", sample_index=0, seed=i, messages=({"role": "user", "content": f"q{i}"},))
            for i in range(count)]


def right(problem) -> tuple[str, str]:
    return f"so \\boxed{{{problem.reference}}}", "stop"


def samples(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / f"{MODEL}__aime24" / "samples.jsonl").read_text().splitlines()]


def test_retries_are_spent_on_the_live_server_not_the_dead_one():
    """The issue's failure: a dead server and one that fails some attempts. Each request fails twice on the live
    server before it succeeds; with 3 retries, a budget shared round-robin with the dead server ran out (dead,
    fail, dead, fail); spent on the live server it is enough."""
    def flaky(body: dict, attempt: int) -> Reply | None:
        return Reply(429 if attempt == 1 else 500) if attempt <= 2 else None

    dead = dead_url()
    with FakeOpenAIServer(script=flaky) as live:
        backend = OpenAIBackend(model=MODEL, base_url=[dead, live.base_url], max_retries=3, backoff_s=0.01,
                                max_backoff_s=0.02, timeout_s=10, check_server=False, concurrency=4)
        completions = list(backend.generate(requests(12), SamplingParams()))
        attempts = Counter(request_key(a.body) for a in live.generation_attempts())
    assert len(completions) == 12 and {c.server for c in completions} == {live.base_url}
    assert set(attempts.values()) == {3}   # two failures and the answer, all on the live server
    assert backend.health.state(dead) == UNREACHABLE


def test_a_run_starts_and_resumes_while_a_listed_server_is_down(tmp_path, caplog):
    with FakeOpenAIServer(script=answers_for("aime24", right)) as a, \
            FakeOpenAIServer(script=answers_for("aime24", right)) as b:
        assert main(run_args([a.base_url, b.base_url], tmp_path, "--n", "1")) == 0
        b_url = b.base_url
    # b is gone now; the resume (n 1 -> 2) goes on with a alone
    with FakeOpenAIServer(script=answers_for("aime24", right), port=int(a.base_url.split(":")[2][:-3])) as a2:
        assert main(run_args([a2.base_url, b_url], tmp_path, "--n", "2")) == 0
        assert len(a2.generation_attempts()) == 30
    stored = samples(tmp_path)
    assert len(stored) == 60 and len({(s["problem_id"], s["sample_index"]) for s in stored}) == 60
    assert f"server {b_url} is unreachable (not answering at start" in caplog.text


def test_all_listed_servers_down_is_a_one_line_error_before_any_work(tmp_path, capsys):
    first, second = dead_url(), dead_url()
    assert main(run_args([first, second], tmp_path, "--n", "1")) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"cannot reach an OpenAI-compatible server at {first}" in err and "drop it from the --base-url" in err
    assert not (tmp_path / f"{MODEL}__aime24" / "samples.jsonl").exists()


def test_a_server_that_comes_up_during_the_run_is_probed_back_and_used(caplog):
    caplog.set_level(logging.WARNING, logger="mimo_eval.backends.openai")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    late_url = f"http://127.0.0.1:{port}/v1"
    with FakeOpenAIServer(delay_s=0.05) as early:
        backend = OpenAIBackend(model=MODEL, base_url=[early.base_url, late_url], concurrency=1, timeout_s=10,
                                backoff_s=0.01)
        stream = backend.generate(requests(200), SamplingParams())
        got = [next(stream)]
        assert backend.health.state(late_url) == UNREACHABLE   # marked at start
        with FakeOpenAIServer(port=port) as late:
            # the probe (1 s after marking) finds it; from then on it takes a share of the queue
            while not late.generation_attempts():
                got.append(next(stream))
            got += list(stream)
    assert len(got) == 200 and {c.server for c in got} == {early.base_url, late_url}
    assert (late_url, UP, "answered a probe") in backend.health.events


def test_a_stalled_server_loses_the_request_to_another(caplog):
    """The stalled server sends its first chunk, then nothing for 60 s; with a 0.5 s stall timeout each request it
    takes moves to the other server (before: held for the whole request timeout, here 600 s)."""
    caplog.set_level(logging.WARNING, logger="mimo_eval.backends.openai")
    with FakeOpenAIServer(script=lambda body, attempt: Reply(stall_s=60)) as stalled, FakeOpenAIServer() as fine:
        backend = OpenAIBackend(model=MODEL, base_url=[stalled.base_url, fine.base_url], concurrency=2,
                                timeout_s=600, stall_timeout_s=0.5, backoff_s=0.01)
        completions = list(backend.generate(requests(8), SamplingParams()))
        asked_stalled = len(stalled.generation_attempts())
    assert len(completions) == 8 and {c.server for c in completions} == {fine.base_url}
    assert asked_stalled >= 1 and backend.health.events[0][:2] == (stalled.base_url, UNREACHABLE)
    assert "stalled: no byte for stall_timeout_s=0.5" in caplog.text


def test_a_server_failing_every_request_is_skipped_after_a_few():
    with FakeOpenAIServer(script=lambda body, attempt: Reply(503)) as failing, FakeOpenAIServer(delay_s=0.02) as fine:
        backend = OpenAIBackend(model=MODEL, base_url=[failing.base_url, fine.base_url], concurrency=4,
                                backoff_s=0.01, timeout_s=10)
        completions = list(backend.generate(requests(80), SamplingParams()))
        asked_failing = len(failing.generation_attempts())
    assert len(completions) == 80 and {c.server for c in completions} == {fine.base_url}
    assert backend.health.events[0][:2] == (failing.base_url, FAILING)
    assert asked_failing < 40   # a few in a row, then what a probe lets through: not half of the 80


def test_streamed_and_whole_answers_store_the_same_text(tmp_path):
    script = answers_for("aime24", right, reasoning="<think>x</think>")
    with FakeOpenAIServer(script=script) as server:
        assert main(run_args([server.base_url], tmp_path / "s", "--n", "1")) == 0
        assert main(run_args([server.base_url], tmp_path / "w", "--n", "1", "--no-stream")) == 0
        streamed = [a.body.get("stream") for a in server.generation_attempts()]
    fields = lambda out: {(s["problem_id"], s["text"], s["reasoning"], s["finish_reason"], s["num_tokens"])  # noqa
                          for s in samples(out)}
    assert fields(tmp_path / "s") == fields(tmp_path / "w") and streamed.count(True) == 30
