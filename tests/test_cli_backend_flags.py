"""`mimo-eval run`'s backend flags: each reaches its backend's constructor and the run's config.json, a flag of
another backend is a one-line error, result-changing backend options refuse a resume (speed options do not),
`--skip-bad-lines` reports every skipped replay line, and a missing vLLM fails before any run folder exists.

Served runs use the fake OpenAI-compatible server on 127.0.0.1 (tests/fake_openai_server.py); aime24 answers are
built from its gold answers so grading is real but fast. No network, no GPU, no vLLM needed.
Run: python -m pytest -q tests/test_cli_backend_flags.py
"""
from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

import pytest

from benchmarks.registry import get
from fake_openai_server import FakeOpenAIServer, Reply
from mimo_eval.backends import BackendError
from mimo_eval.cli import build_parser, main
from mimo_eval.cli.backend_options import make_backend
from mimo_eval.harness.settings import generation_options

AIME = {p.prompt: p for p in get("aime24").load()}


def right_answers(body: dict, attempt: int) -> Reply:
    """Every aime24 problem answered right, whichever endpoint is asked."""
    prompt = body.get("prompt") or body["messages"][-1]["content"]
    text = f"so the answer is \\boxed{{{AIME[prompt].reference}}}"
    choice = ({"index": 0, "text": text, "finish_reason": "stop"} if "prompt" in body else
              {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"})
    return Reply(delay_s=0.1, body={"choices": [choice], "usage": {"completion_tokens": 6}})


def served_run(server: FakeOpenAIServer, out: Path, *flags: str) -> int:
    return main(["run", "aime24", "--model", server.model, "--backend", "openai", "--base-url", server.base_url,
                 "--n", "1", "--out", str(out), "--no-progress", *flags])


def error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and lines[-1].startswith("mimo-eval: error: ")
    return lines[-1]


def test_openai_flags_reach_the_backend_and_the_record(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMO_TEST_KEY", "sk-secret-4242")
    with FakeOpenAIServer(script=right_answers, require_key="sk-secret-4242") as server:
        code = served_run(server, tmp_path, "--concurrency", "3", "--api-key-env", "MIMO_TEST_KEY",
                          "--request-timeout", "30", "--max-retries", "2")
        assert code == 0
        assert server.max_in_flight == 3          # the bound, reached: 30 requests of 0.1 s each
        assert len(server.generation_attempts()) == 30
    run = tmp_path / "fake-model__aime24"
    backend = json.loads((run / "config.json").read_text())["backend"]
    assert (backend["concurrency"], backend["timeout_s"], backend["max_retries"]) == (3, 30.0, 2)
    assert (backend["api_key_env"], backend["api_key_set"], backend["mode"]) == ("MIMO_TEST_KEY", True, "chat")
    assert json.loads((run / "summary.json").read_text())["pass@1"] == pytest.approx(100.0)


def test_the_api_key_is_written_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMO_TEST_KEY", "sk-secret-4242")
    with FakeOpenAIServer(script=right_answers, require_key="sk-secret-4242") as server:
        assert served_run(server, tmp_path, "--api-key-env", "MIMO_TEST_KEY", "--concurrency", "8") == 0
    written = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert written and not [f for f in written if b"sk-secret-4242" in f.read_bytes()]


def test_completion_mode_sends_the_raw_prompt_and_is_recorded(tmp_path):
    with FakeOpenAIServer(script=right_answers) as server:
        assert served_run(server, tmp_path, "--api-mode", "completion", "--concurrency", "8") == 0
        bodies = [a.body for a in server.generation_attempts()]
        paths = {a.path for a in server.generation_attempts()}
    assert paths == {"/v1/completions"} and {b["prompt"] for b in bodies} == set(AIME)
    config = json.loads((tmp_path / "fake-model__aime24" / "config.json").read_text())
    assert config["generation_options"] == {"mode": "completion"}


def test_changed_prompt_format_is_refused_but_a_changed_speed_option_resumes(tmp_path, capsys):
    with FakeOpenAIServer(script=right_answers) as server:
        assert served_run(server, tmp_path, "--concurrency", "8") == 0
        assert served_run(server, tmp_path, "--concurrency", "4", "--max-retries", "1") == 0   # resumes
        assert len(server.generation_attempts()) == 30                                          # nothing redone
        assert served_run(server, tmp_path, "--api-mode", "completion") == 2
        assert "generation_options: run has None, asked {'mode': 'completion'}" in error_line(capsys)
    config = json.loads((tmp_path / "fake-model__aime24" / "config.json").read_text())
    assert config["backend"]["concurrency"] == 4 and config["history"][-1]["backend"]["concurrency"] == 8


@pytest.mark.parametrize("backend_config,expected", [
    ({"backend": "openai", "mode": "chat", "concurrency": 64, "timeout_s": 5.0}, None),
    ({"backend": "openai", "mode": "completion"}, {"mode": "completion"}),
    ({"backend": "vllm", "llm": {"dtype": "auto", "tensor_parallel_size": 2, "gpu_memory_utilization": 0.8,
                                 "speculative_config": {"method": "mtp", "num_speculative_tokens": 1}}}, None),
    ({"backend": "vllm", "llm": {"dtype": "auto", "max_model_len": 8192}}, {"max_model_len": 8192}),
    ({"backend": "hf", "dtype": "float32", "batch_size": 2, "device": "cpu"}, {"dtype": "float32"}),
    ({"backend": "replay", "path": "g.jsonl", "strict": False, "records": 3}, None),
])
def test_only_result_changing_backend_options_are_comparable(backend_config, expected):
    assert generation_options(backend_config) == expected


def parsed(*argv: str):
    return build_parser().parse_args(["run", "aime24", "--model", "XiaomiMiMo/MiMo-7B-RL", *argv])


def test_vllm_flags_reach_the_llm_arguments(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "vllm" else
                        real_find_spec(name, *a))   # the engine is never built: only its arguments are checked
    backend = make_backend(parsed("--backend", "vllm", "--tensor-parallel-size", "2",
                                           "--num-speculative-tokens", "1", "--max-model-len", "40960",
                                           "--trust-remote-code", "--gpu-memory-utilization", "0.8", "--seed", "7"))
    kwargs = backend.llm_kwargs()
    assert {k: kwargs[k] for k in ("tensor_parallel_size", "max_model_len", "trust_remote_code",
                                   "gpu_memory_utilization", "seed")} == {
        "tensor_parallel_size": 2, "max_model_len": 40960, "trust_remote_code": True,
        "gpu_memory_utilization": 0.8, "seed": 7}
    assert kwargs["speculative_config"] == {"method": "mtp", "num_speculative_tokens": 1}
    assert backend.config()["llm"] == kwargs


def test_engine_args_reach_the_llm_arguments_as_json(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "vllm" else
                        real_find_spec(name, *a))
    backend = make_backend(parsed(
        "--backend", "vllm", "--engine-arg", "max_num_seqs=64", "--engine-arg", "enable_chunked_prefill=false",
        "--engine-arg", 'speculative_config={"method": "mtp", "num_speculative_tokens": 1}',
        "--engine-arg", "kv_cache_dtype=fp8"))
    kwargs = backend.config()["llm"]
    assert (kwargs["max_num_seqs"], kwargs["enable_chunked_prefill"]) == (64, False)
    assert kwargs["speculative_config"] == {"method": "mtp", "num_speculative_tokens": 1}
    assert kwargs["disable_log_stats"] is False   # MTP's acceptance rate is read from the engine's metrics
    assert generation_options(backend.config()) == {"kv_cache_dtype": "fp8"}   # changes results: bound to the run


@pytest.mark.parametrize("flag, message", [("seed=1", "use --seed"), ("model=x", "use --model")])
def test_engine_args_with_their_own_flag_are_refused(monkeypatch, flag, message):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "vllm" else
                        real_find_spec(name, *a))
    with pytest.raises(BackendError, match=message):
        make_backend(parsed("--backend", "vllm", "--engine-arg", flag))


def test_hf_flags_reach_the_backend():
    pytest.importorskip("transformers")
    backend = make_backend(parsed("--backend", "hf", "--batch-size", "2", "--device", "cpu",
                                           "--trust-remote-code"))
    config = backend.config()
    assert (config["batch_size"], config["device"], config["trust_remote_code"]) == (2, "cpu", True)


@pytest.mark.parametrize("backend,flag,owner", [
    ("openai", ["--batch-size", "4"], "hf"),
    ("vllm", ["--concurrency", "4"], "openai"),
    ("hf", ["--num-speculative-tokens", "1"], "vllm"),
    ("openai", ["--trust-remote-code"], "vllm and hf"),
    ("replay", ["--base-url", "http://127.0.0.1:1/v1"], "openai"),
    ("vllm", ["--skip-bad-lines"], "replay"),
])
def test_a_flag_of_another_backend_is_a_one_line_error(tmp_path, capsys, backend, flag, owner):
    code = main(["run", "aime24", "--model", "m", "--backend", backend, *flag, "--out", str(tmp_path / "runs")])
    assert code == 2
    line = error_line(capsys)
    assert f"{flag[0]} is an option of the {owner} backend, not of --backend {backend}" in line
    assert not (tmp_path / "runs").exists()


def aime_replay(tmp_path: Path, bad_line: str | None) -> Path:
    rows = [json.dumps({"problem_id": p.id, "sample_index": 0, "text": f"\\boxed{{{p.reference}}}"})
            for p in AIME.values()]
    if bad_line is not None:
        rows.insert(2, bad_line)   # file line 3
    path = tmp_path / "gens.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def replay_run(path: Path, out: Path, *flags: str) -> int:
    return main(["run", "aime24", "--model", "m", "--backend", "replay", "--replay-file", str(path),
                 "--n", "1", "--out", str(out), "--no-progress", *flags])


def test_skip_bad_lines_reports_each_line_and_the_count(tmp_path, caplog):
    path = aime_replay(tmp_path, '{"problem_id": "aime24/x", "text": ')
    with caplog.at_level(logging.WARNING):
        assert replay_run(path, tmp_path / "runs", "--skip-bad-lines") == 0
    warnings = [r.getMessage() for r in caplog.records if r.name == "mimo_eval.replay"]
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{path}:3: not valid JSON") and warnings[0].endswith("line skipped")
    assert warnings[1] == f"{path}: skipped 1 malformed line(s) (--skip-bad-lines)"
    config = json.loads((tmp_path / "runs" / "m__aime24" / "config.json").read_text())
    assert config["backend"]["strict"] is False and config["backend"]["records"] == 30


def test_without_skip_bad_lines_a_bad_line_stops_the_run(tmp_path, capsys):
    path = aime_replay(tmp_path, "[1, 2]")
    assert replay_run(path, tmp_path / "runs") == 2
    assert "gens.jsonl:3: expected a JSON object, got list" in error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_missing_vllm_fails_before_any_run_folder(tmp_path, capsys, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else
                        real_find_spec(name, *a))   # vLLM absent, whether or not this machine has it
    code = main(["run", "aime24", "--model", "XiaomiMiMo/MiMo-7B-RL", "--backend", "vllm",
                 "--num-speculative-tokens", "1", "--out", str(tmp_path / "runs")])
    assert code == 2
    assert error_line(capsys) == "mimo-eval: error: vllm is not installed: pip install 'mimo-eval[vllm]'"
    assert not (tmp_path / "runs").exists()
