"""Resume after the client is killed: `mimo-eval run aime24 --backend openai` against the fake server
(tests/fake_openai_server.py, 127.0.0.1 only) is SIGKILLed mid-run, then the same command is run again.

Covers: the killed run left some but not all samples; the rerun asks the server only for the missing ones; the run
ends with every (problem, sample) stored exactly once in samples.jsonl and graded exactly once in scores.jsonl.

Run: python -m pytest -q tests/test_backends_resume.py
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from fake_openai_server import FakeOpenAIServer, Reply

N, PROBLEMS = 4, 30  # aime24 has 30 problems


def complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def wait_until_quiet(server: FakeOpenAIServer, quiet_s: float = 0.5, limit_s: float = 30.0) -> None:
    """Let the server finish requests the killed client had already sent (some still in the accept backlog)."""
    seen, quiet_since, deadline = -1, time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        count = len(server.attempts)
        if count != seen or server.in_flight:
            seen, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            return
        time.sleep(0.02)


def run_command(server: FakeOpenAIServer, out: Path) -> list[str]:
    return [sys.executable, "-m", "mimo_eval.cli", "run", "aime24", "--model", server.model, "--backend", "openai",
            "--base-url", server.base_url, "--n", str(N), "--max-tokens", "16", "--out", str(out), "--no-progress"]


def test_sigkill_mid_run_then_rerun_completes_without_loss_or_duplicates(tmp_path):
    slow = threading.Event()
    slow.set()
    script = lambda body, attempt: Reply(delay_s=0.3 if slow.is_set() else 0.0)  # noqa: E731
    repo = Path(__file__).resolve().parents[1]
    with FakeOpenAIServer(script=script) as server:
        samples = tmp_path / "runs" / f"{server.model}__aime24" / "samples.jsonl"
        # its own session, so the kill reaches the CLI and the grader processes it started
        client = subprocess.Popen(run_command(server, tmp_path / "runs"), cwd=repo, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while complete_lines(samples) < 20 and client.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(client.pid, signal.SIGKILL)
        client.wait(timeout=30)
        kept = complete_lines(samples)
        wait_until_quiet(server)
        asked_before = len(server.generation_attempts())
        assert 0 < kept < N * PROBLEMS, "the kill must land mid-run"

        slow.clear()
        rerun = subprocess.run(run_command(server, tmp_path / "runs"), cwd=repo, capture_output=True, text=True,
                               timeout=300)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        asked_again = len(server.generation_attempts()) - asked_before

    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    stored = Counter((r["problem_id"], r["sample_index"]) for r in rows)
    scores = [json.loads(line) for line in (samples.parent / "scores.jsonl").read_text().splitlines()]
    graded = Counter((r["problem_id"], r["sample_index"]) for r in scores)
    assert len(stored) == N * PROBLEMS and set(stored.values()) == {1}
    assert graded == stored
    assert asked_again == N * PROBLEMS - kept  # only the missing samples were generated again
