"""The evaluation harness on vLLM's CPU build, end to end, on a tiny random Qwen2 (mimo_eval/tiny.py).

Runs INSIDE .venvs/vllm, started by tests/test_vllm.py; by hand:
    PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 .venvs/vllm/bin/python -m pytest -q tests/vllm_cpu/check_backend.py

- `mimo-eval run aime24 --backend vllm` and `run lcb_sample` (the bundled LiveCodeBench sample, graded in the
  sandbox) are each killed with SIGKILL once some samples are stored, then rerun: the run completes, what was
  stored before the kill is kept as it was, and every (problem, sample) is stored once.
- config.json names vLLM's version (from the module: the distribution is `vllm-cpu`) and the engine arguments
  given with `--engine-arg`; the CPU build's chunked prefill is turned off with a line saying so.
- The same AIME run through `--backend openai` against `python -m vllm.entrypoints.openai.api_server` on
  127.0.0.1 gives the same 60 texts for the same per-sample seeds (one server start, ~30-40 s).
- MTP: `--num-speculative-tokens 1` reaches vLLM as `speculative_config` (method mtp); the engine itself is not
  started with it here: see test_mtp_reaches_the_engine for why.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mimo_eval.tiny import build_tiny_model

ROOT = Path(__file__).resolve().parents[2]
# few sequences at a time, so that a kill lands while samples are still being generated
ENGINE_ARGS = ["--engine-arg", "enforce_eager=true", "--engine-arg", "max_num_seqs=4", "--engine-arg", "dtype=float32"]
SAMPLING = ["--n", "2", "--max-tokens", "24", "--temperature", "1.0", "--no-progress", "--grade-workers", "2"]
START_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"), arch="qwen2")


def run_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mimo_eval.cli", "run", *args]


def stored(run_dir: Path) -> dict[tuple[str, int], dict]:
    path = run_dir / "samples.jsonl"
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines(keepends=True) if line.endswith("\n")]
    return {(r["problem_id"], r["sample_index"]): r for r in rows}


def kill_then_resume(args: list[str], run_dir: Path, at_least: int) -> tuple[dict, subprocess.CompletedProcess]:
    """Start the run, SIGKILL it once `at_least` samples are stored, rerun it to the end; returns what was stored
    at the kill and the finishing run."""
    log = run_dir.parent / f"{run_dir.name}.killed.log"   # a file, not a pipe nobody reads while it runs
    with open(log, "w") as err:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(stored(run_dir)) < at_least and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    before = stored(run_dir)
    assert proc.returncode == -signal.SIGKILL, f"the run ended before the kill:\n{log.read_text()[-3000:]}"
    finished = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return before, finished


def check_resumed(run_dir: Path, before: dict, total: int) -> dict:
    after = stored(run_dir)
    assert 0 < len(before) < total, f"the kill did not land mid-run: {len(before)} of {total} stored"
    lines = (run_dir / "samples.jsonl").read_text().splitlines()
    assert len(after) == total and len([ln for ln in lines if ln.strip().startswith("{")]) >= total
    assert all(after[key]["text"] == row["text"] for key, row in before.items())   # kept, not regenerated
    assert json.loads((run_dir / "summary.json").read_text())["n"] == 2
    return after


@pytest.fixture(scope="module")
def aime_run(model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    args = run_cli("aime24", "--model", model_dir, "--backend", "vllm", "--out", str(out), *SAMPLING, *ENGINE_ARGS)
    run_dir = _run_dir(out, model_dir, "aime24")
    before, finished = kill_then_resume(args, run_dir, at_least=8)
    return run_dir, before, finished


def _run_dir(out: Path, model: str, benchmark: str) -> Path:
    from mimo_eval.harness.files import run_dir_for

    return run_dir_for(out, model, benchmark)


def test_aime_run_resumes_after_kill_9(aime_run):
    run_dir, before, finished = aime_run
    check_resumed(run_dir, before, total=60)
    assert "chunked prefill is off" in finished.stderr


def test_config_records_the_engine_version_and_arguments(aime_run):
    import vllm

    config = json.loads((aime_run[0] / "config.json").read_text())
    assert config["versions"]["vllm"] == vllm.__version__ == "0.32.0"
    llm = config["backend"]["llm"]
    assert (llm["enforce_eager"], llm["max_num_seqs"], llm["enable_chunked_prefill"]) == (True, 4, False)
    assert config["generation_options"] == {"dtype": "float32"}   # a result-changing option is bound to the run


def test_lcb_sample_resumes_after_kill_9(model_dir, tmp_path):
    args = run_cli("lcb_sample", "--model", model_dir, "--backend", "vllm", "--out", str(tmp_path), *SAMPLING,
                   *ENGINE_ARGS)
    run_dir = _run_dir(tmp_path, model_dir, "lcb_sample")
    before, _ = kill_then_resume(args, run_dir, at_least=6)
    check_resumed(run_dir, before, total=50)
    scores = [json.loads(line) for line in (run_dir / "scores.jsonl").read_text().splitlines()]
    assert {(s["problem_id"], s["sample_index"]) for s in scores} == set(stored(run_dir))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(model_dir):
    """vLLM's OpenAI-compatible server (`vllm serve` fails on the CPU wheel's package metadata; the module runs)."""
    port = free_port()
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model_dir, "--host", "127.0.0.1",
           "--port", str(port), "--seed", "0", "--dtype", "float32", "--enforce-eager", "--max-num-seqs", "4",
           "--no-enable-chunked-prefill", "--generation-config", "vllm"]
    log = open(Path(model_dir) / "server.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert proc.poll() is None, (Path(model_dir) / "server.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("vLLM's server did not answer within the start-up timeout")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_openai_backend_against_vllm_server_gives_the_same_texts(aime_run, server, model_dir, tmp_path):
    args = run_cli("aime24", "--model", model_dir, "--backend", "openai", "--base-url", server,
                   "--concurrency", "4", "--out", str(tmp_path), *SAMPLING)
    finished = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    assert finished.returncode == 0, finished.stderr[-3000:]
    served, offline = stored(_run_dir(tmp_path, model_dir, "aime24")), stored(aime_run[0])
    assert set(served) == set(offline) and len(served) == 60
    assert all(served[k]["seed"] == offline[k]["seed"] for k in served)
    differ = [k for k in served if served[k]["text"] != offline[k]["text"]]
    assert not differ, f"{len(differ)} of 60 texts differ, first {differ[0]}"


def test_mtp_speculative_decoding_keeps_greedy_texts(tmp_path):
    """MiMo's MTP layer as a one-token draft (`--num-speculative-tokens 1`) on a tiny MiMo-layout model: greedy
    texts equal those without it, the draft ran, and the acceptance rate is reported (random weights: low)."""
    from mimo_eval.backends.vllm import VLLMBackend
    from mimo_eval.tiny import add_mtp_layer
    from mimo_eval.types import Request, SamplingParams

    model = build_tiny_model(tmp_path / "tiny-mimo", arch="qwen2")
    add_mtp_layer(model)
    requests = [Request(problem_id=f"p{i}", sample_index=0, seed=i,
                        messages=({"role": "user", "content": f"What is {i} + {i}?"},)) for i in range(4)]
    greedy = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=32)
    texts = {}
    for draft in (None, 1):
        backend = VLLMBackend(model=model, num_speculative_tokens=draft,
                              engine_kwargs={"enforce_eager": True, "dtype": "float32"})
        texts[draft] = {c.problem_id: c.text for c in backend.generate(requests, greedy)}
        if draft:
            assert backend.llm_kwargs()["speculative_config"] == {"method": "mtp", "num_speculative_tokens": 1}
            assert backend.acceptance is not None   # draft tokens were proposed and judged
            print(f"MTP acceptance on the random tiny model: {backend.acceptance:.1%}")
        del backend
    assert texts[1] == texts[None]
