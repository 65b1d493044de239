"""A run directory under stress (issue 13, bugs 4, 9, 10, 12): `score --rescore` is atomic, a lowered --n says what
it reports, a second client on a locked run gets one line, and Ctrl-C prints one line and exits 130.

Runs replay recorded aime24 answers (built from the gold answers) or talk to the fake OpenAI-compatible server on
127.0.0.1 (tests/fake_openai_server.py); the Ctrl-C test runs the real CLI in a subprocess and sends SIGINT to its
whole process group, as a terminal does. Run: python -m pytest -q tests/test_run_dir_safety.py
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.registry import get
from fake_openai_server import FakeOpenAIServer
from mimo_eval.cli import main
from mimo_eval.harness.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
AIME = get("aime24").load()


def aime_replay(tmp_path: Path, n: int, right: int) -> Path:
    """n samples per problem; the first `right` answer with the gold, the others with a wrong number."""
    rows = [{"problem_id": p.id, "sample_index": i, "text": f"\\boxed{{{p.reference if i < right else 1000}}}"}
            for p in AIME for i in range(n)]
    path = tmp_path / "gens.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def replay_run(path: Path, out: Path, *flags: str) -> int:
    return main(["run", "aime24", "--model", "m", "--backend", "replay", "--replay-file", str(path),
                 "--out", str(out), "--no-progress", *flags])


def error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and lines[-1].startswith("mimo-eval: error: ")
    return lines[-1]


# ---- bug 4: the old grades stay until the new ones are complete ----

def test_a_failed_rescore_leaves_the_old_grades(tmp_path, capsys):
    assert replay_run(aime_replay(tmp_path, 2, 2), tmp_path / "runs", "--n", "2") == 0
    run = tmp_path / "runs" / "m__aime24"
    before = {name: (run / name).read_bytes() for name in ("scores.jsonl", "summary.json")}
    lines = (run / "samples.jsonl").read_text().splitlines(keepends=True)
    lines[4] = "{oops\n"                                   # one malformed sample line in the middle
    (run / "samples.jsonl").write_text("".join(lines))
    assert main(["score", str(run), "--rescore", "--no-progress"]) == 2
    assert "samples.jsonl:5: malformed JSONL line" in error_line(capsys)
    assert {name: (run / name).read_bytes() for name in before} == before


# ---- bug 9: a lowered --n reports on the first n samples, and says so ----

def test_a_lowered_n_reports_on_the_first_n_samples_and_says_so(tmp_path, caplog, capsys):
    replay = aime_replay(tmp_path, 4, 2)                   # samples 0-1 right, 2-3 wrong: avg@4 50, avg@2 100
    assert replay_run(replay, tmp_path / "runs", "--n", "4") == 0
    with caplog.at_level(logging.WARNING):
        assert replay_run(replay, tmp_path / "runs", "--n", "2") == 0
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "n lowered from 4 to 2: the summary reports on the first 2 samples of each problem" in messages
    assert "do not affect results" not in messages
    summary = json.loads((tmp_path / "runs" / "m__aime24" / "summary.json").read_text())
    assert (summary["n"], summary["pass@1"], summary["samples_beyond_n"]) == (2, pytest.approx(100.0), 60)
    assert "reported on the first 2 samples of each problem: 60 stored beyond them" in capsys.readouterr().out


# ---- bug 10: one client per run directory ----

def test_a_second_client_on_a_running_run_gets_one_line(tmp_path, capsys):
    replay = aime_replay(tmp_path, 1, 1)
    assert replay_run(replay, tmp_path / "runs", "--n", "1") == 0
    run = tmp_path / "runs" / "m__aime24"
    samples = (run / "samples.jsonl").read_bytes()
    first = RunStore.open(run, json.loads((run / "config.json").read_text()))   # the first client, still running
    try:
        assert replay_run(replay, tmp_path / "runs", "--n", "1") == 2
        line = error_line(capsys)
        assert f"{run} is in use by another mimo-eval process" in line and "wait for it" in line
        assert main(["score", str(run), "--rescore", "--no-progress"]) == 2
        assert "is in use by another mimo-eval process" in error_line(capsys)
        assert (run / "samples.jsonl").read_bytes() == samples
    finally:
        first.close()
    assert replay_run(replay, tmp_path / "runs", "--n", "1") == 0       # released on close


# ---- bug 12: Ctrl-C is one line, exit 130 ----

def test_ctrl_c_prints_one_line_and_exits_130(tmp_path):
    out = tmp_path / "runs"
    samples = out / "fake-model__aime24" / "samples.jsonl"
    with FakeOpenAIServer(delay_s=0.1) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mimo_eval.cli", "run", "aime24", "--model", server.model, "--backend", "openai",
             "--base-url", server.base_url, "--n", "4", "--concurrency", "2", "--out", str(out), "--no-progress",
             "--thinking-opened", "no"],   # the fake server has no /tokenize: no warning line about it here
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, text=True,
            # a foreground process gets Ctrl-C even when this suite runs in the background (`make test &`
            # starts it with SIGINT ignored, which the child would inherit)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 60
        while (not samples.exists() or samples.read_bytes().count(b"\n") < 6) and time.time() < deadline:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)                 # what a terminal sends to the whole foreground group
        stdout, stderr = proc.communicate(timeout=60)
    saved = samples.read_bytes().count(b"\n")
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == [f"interrupted: {saved} generations saved; rerun the same command to resume"]
    assert 6 <= saved < 120
