"""`mimo-eval run` before and around its first generation (issue 13, bugs 1, 2, 3, 7, 8, 11): the server version is
recorded, a failed first attempt does not pin a run's settings, every numeric flag and date is checked at parse time
with one line naming the flag, replay errors name the flag a user types and say when a file is empty, and a 200
reply without `choices` is retried like a 500.

Served runs use the fake OpenAI-compatible server on 127.0.0.1 (tests/fake_openai_server.py) with aime24, answered
right from its gold answers. Run: python -m pytest -q tests/test_run_guards.py
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.registry import get
from fake_openai_server import FakeOpenAIServer, Reply
from mimo_eval.cli import main

AIME = {p.prompt: p for p in get("aime24").load()}


def right_answer(body: dict) -> Reply:
    text = f"so the answer is \\boxed{{{AIME[body['messages'][-1]['content']].reference}}}"
    return Reply(body={"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}], "usage": {"completion_tokens": 6}})


def served_run(server: FakeOpenAIServer, out: Path, *flags: str) -> int:
    return main(["run", "aime24", "--model", server.model, "--backend", "openai", "--base-url", server.base_url,
                 "--n", "1", "--out", str(out), "--no-progress", "--concurrency", "8", *flags])


def error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and lines[-1].startswith("mimo-eval: error: ")
    return lines[-1]


# ---- bug 1: the server is asked before the config is written ----

def test_config_records_the_server_version(tmp_path):
    with FakeOpenAIServer(script=lambda body, attempt: right_answer(body)) as server:
        assert served_run(server, tmp_path) == 0
    config = json.loads((tmp_path / "fake-model__aime24" / "config.json").read_text())
    assert config["versions"]["server"] == "fake-1.0"   # the fake server's GET /version


# ---- bug 2: a run directory binds its settings only once a generation is stored ----

def test_a_failed_first_attempt_does_not_pin_the_settings(tmp_path, capsys):
    """The server rejects --max-tokens 100000 (context exceeded, HTTP 400) on every request; the corrected
    command, at other settings, must run in the same directory instead of being refused."""
    def script(body: dict, attempt: int) -> Reply:
        if body["max_tokens"] > 32768:
            return Reply(400, body={"error": {"message": "max_tokens exceeds the context"}})
        return right_answer(body)

    with FakeOpenAIServer(script=script) as server:
        assert served_run(server, tmp_path, "--max-tokens", "100000") == 2
        assert "HTTP 400" in error_line(capsys)
        assert served_run(server, tmp_path) == 0
    config = json.loads((tmp_path / "fake-model__aime24" / "config.json").read_text())
    assert config["max_tokens"] == 32768


def test_nothing_listening_leaves_no_run_directory(tmp_path, capsys):
    import socket

    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["run", "aime24", "--model", "m", "--backend", "openai", "--base-url", f"http://127.0.0.1:{port}/v1",
                 "--out", str(tmp_path / "runs"), "--no-progress"])
    assert code == 2
    assert "cannot reach an OpenAI-compatible server" in error_line(capsys)
    assert not (tmp_path / "runs").exists()


# ---- bug 3 and 7: numbers and dates checked at parse time, one line naming the flag ----

@pytest.mark.parametrize("argv,message", [
    (["run", "aime24", "--n", "0"], "argument --n: must be >= 1, got 0"),   # `n or default` ran 32
    (["run", "aime24", "--n", "-1"], "argument --n: must be >= 1, got -1"),
    (["run", "aime24", "--temperature", "-1"], "argument --temperature: must be >= 0 and finite, got -1.0"),
    (["run", "aime24", "--temperature", "nan"], "argument --temperature: must be >= 0 and finite, got nan"),
    (["run", "aime24", "--temperature", "inf"], "argument --temperature: must be >= 0 and finite, got inf"),
    (["run", "aime24", "--request-timeout", "inf"], "argument --request-timeout: must be > 0 and finite, got inf"),
    (["run", "aime24", "--top-p", "0"], "argument --top-p: must be in (0, 1], got 0.0"),
    (["run", "aime24", "--top-p", "1.5"], "argument --top-p: must be in (0, 1], got 1.5"),
    (["run", "aime24", "--max-tokens", "0"], "argument --max-tokens: must be >= 1, got 0"),
    (["run", "aime24", "--grade-workers", "0"], "argument --grade-workers: must be >= 1, got 0"),
    (["run", "aime24", "--seed", "-5"], "argument --seed: must be >= 0, got -5"),
    (["run", "aime24", "--n", "two"], "argument --n: must be an integer, got 'two'"),
    (["run", "aime24", "--top-p", "high"], "argument --top-p: must be a number, got 'high'"),
    (["run", "livecodebench", "--start-date", "01/08/2024"],
     "argument --start-date: must be an ISO date YYYY-MM-DD, got '01/08/2024'"),
    (["run", "livecodebench", "--end-date", "2024-13-45"],
     "argument --end-date: must be an ISO date YYYY-MM-DD, got '2024-13-45'"),
    (["run", "livecodebench", "--start-date", "20240801"],
     "argument --start-date: must be an ISO date YYYY-MM-DD, got '20240801'"),
    (["score", "runs/x", "--grade-workers", "0"], "argument --grade-workers: must be >= 1, got 0"),
    (["compare", "a", "b", "--resamples", "0"], "argument --resamples: must be >= 1, got 0"),
    (["grade", "--gold", "1", "--response", "1", "--timeout", "0"],
     "argument --timeout: must be > 0 and finite, got 0.0"),
    (["calibrate-tests", "x", "--out", "y", "--tiers", "0"], "argument --tiers: must be >= 1, got 0"),
])
def test_bad_numbers_and_dates_are_refused_at_parse_time(tmp_path, capsys, argv, message):
    model = ["--model", "m", "--backend", "replay", "--replay-file", "none.jsonl"] if argv[0] == "run" else []
    with pytest.raises(SystemExit) as exit_:
        main(argv + model + (["--out", str(tmp_path / "runs")] if argv[0] == "run" else []))
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(message)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("bench_name,dates", [
    ("livecodebench", ["--start-date", "2025-02-01", "--end-date", "2024-08-01"]),
    ("lcb_v5", ["--start-date", "2025-03-01"]),   # after v5's end
])
def test_an_empty_date_window_is_refused(tmp_path, capsys, bench_name, dates):
    from benchmarks.livecodebench import DATA_DIR, SAMPLE_FILE

    gens = DATA_DIR / "lcb_sample_o1mini_generations.jsonl"
    code = main(["run", bench_name, "--model", "m", "--backend", "replay", "--replay-file", str(gens),
                 "--data-path", str(SAMPLE_FILE), *dates, "--out", str(tmp_path / "runs")])
    assert code == 2
    assert "is empty: --start-date must be before --end-date" in error_line(capsys)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("options,message", [
    ({"start_date": "01/08/2024"}, "start_date must be an ISO date YYYY-MM-DD, got '01/08/2024'"),
    ({"end_date": "2024-13-45"}, "end_date must be an ISO date YYYY-MM-DD, got '2024-13-45'"),
])
def test_the_loader_refuses_bad_dates_too(options, message):
    """The library path (RunSettings.benchmark_options) must not select the whole dataset either."""
    from benchmarks import livecodebench

    with pytest.raises(ValueError) as err:
        livecodebench.load(data_path=str(livecodebench.SAMPLE_FILE), **options)
    assert message in str(err.value)


# ---- bug 8: replay errors in the user's words ----

def replay_run(path: Path, out: Path, *flags: str) -> int:
    return main(["run", "aime24", "--model", "m", "--backend", "replay", "--replay-file", str(path),
                 "--n", "1", "--out", str(out), "--no-progress", *flags])


def test_a_wrong_schema_row_names_the_flag_not_the_parameter(tmp_path, capsys):
    path = tmp_path / "gens.jsonl"
    path.write_text(json.dumps({"id": "aime24/1", "output": "\\boxed{1}"}) + "\n")
    assert replay_run(path, tmp_path / "runs") == 2
    line = error_line(capsys)
    assert "gens.jsonl:1: missing 'problem_id'" in line and "--skip-bad-lines" in line and "strict=" not in line


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_an_empty_replay_file_is_called_empty(tmp_path, capsys, content):
    path = tmp_path / "gens.jsonl"
    path.write_text(content)
    assert replay_run(path, tmp_path / "runs") == 2
    line = error_line(capsys)
    assert f"replay file {path} is empty" in line and "fewer samples" not in line
    assert not (tmp_path / "runs").exists()


def test_a_file_of_only_skipped_lines_says_so(tmp_path, capsys):
    path = tmp_path / "gens.jsonl"
    path.write_text("{oops\n[1]\n")
    assert replay_run(path, tmp_path / "runs", "--skip-bad-lines") == 2
    assert f"replay file {path} has no usable line (all 2 skipped as malformed)" in error_line(capsys)


# ---- bug 11: a 200 without choices is a server hiccup, retried ----

@pytest.mark.parametrize("bad_body", [{}, {"error": {"message": "engine overloaded"}}, {"choices": []},
                                      {"choices": [{"index": 0}]}])
def test_a_200_reply_without_a_completion_is_retried(tmp_path, bad_body):
    first = AIME[next(iter(AIME))].prompt

    def script(body: dict, attempt: int) -> Reply:
        if body["messages"][-1]["content"] == first and attempt == 1:
            return Reply(body=bad_body)
        return right_answer(body)

    with FakeOpenAIServer(script=script) as server:
        assert served_run(server, tmp_path) == 0
        assert len(server.generation_attempts()) == 31   # 30 problems, one of them asked twice
    summary = json.loads((tmp_path / "fake-model__aime24" / "summary.json").read_text())
    assert summary["pass@1"] == pytest.approx(100.0)
