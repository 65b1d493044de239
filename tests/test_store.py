"""The run store: append-only samples, torn-tail repair, malformed lines, refusing incomparable settings (once a
generation is stored), and resume after `kill -9` at arbitrary moments of a real run (subprocess, math grader, 800
recorded responses).

Run: pytest tests/test_store.py -q
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mimo_eval.harness.files import RunStoreError, read_jsonl, run_dir_for, slug
from mimo_eval.harness.store import COMPARABLE_KEYS, RunStore

CONFIG = {"model": "m", "benchmark": "aime24", "benchmark_version": "v1", "prompt_sha256": "p", "system_prompt": "",
          "temperature": 0.6, "top_p": 0.95, "max_tokens": 32768, "seed": 0, "benchmark_options": {}, "n": 4}


def started(path: Path, config: dict = CONFIG) -> None:
    """A run with one stored generation: from here on its settings bind."""
    store = RunStore.open(path, config)
    store.append("samples.jsonl", {"problem_id": "a", "sample_index": 0, "text": "x"})
    store.close()


def test_append_and_read_back(tmp_path):
    store = RunStore.open(tmp_path / "run", CONFIG)
    store.append("samples.jsonl", {"problem_id": "a", "sample_index": 0, "text": "x"})
    store.append("samples.jsonl", {"problem_id": "a", "sample_index": 1, "text": "ü"})
    store.close()
    assert [r["text"] for r in read_jsonl(tmp_path / "run" / "samples.jsonl")] == ["x", "ü"]


def test_torn_last_line_is_moved_aside_and_appends_continue(tmp_path):
    store = RunStore.open(tmp_path / "run", CONFIG)
    store.append("samples.jsonl", {"problem_id": "a", "sample_index": 0, "text": "kept"})
    store.close()
    with open(tmp_path / "run" / "samples.jsonl", "ab") as f:
        f.write(b'{"problem_id": "a", "sample_index": 1, "te')        # kill -9 in the middle of a write
    assert len(read_jsonl(tmp_path / "run" / "samples.jsonl")) == 1   # readers tolerate it
    store = RunStore.open(tmp_path / "run", CONFIG)
    store.append("samples.jsonl", {"problem_id": "a", "sample_index": 1, "text": "redone"})
    store.close()
    assert [r["text"] for r in store.samples()] == ["kept", "redone"]
    assert b'"te' in (tmp_path / "run" / "samples.torn").read_bytes()   # nothing silently dropped


def test_malformed_middle_line_names_file_and_line(tmp_path):
    path = tmp_path / "samples.jsonl"
    row = '{"problem_id": "a", "sample_index": %d, "text": "x"}\n'
    path.write_text(row % 0 + '{not json}\n' + row % 1)
    with pytest.raises(RunStoreError, match=r"samples.jsonl:2: malformed JSONL line .*delete that line and re-run"):
        read_jsonl(path)


@pytest.mark.parametrize("key,value", [("temperature", 1.0), ("top_p", 1.0), ("max_tokens", 8192), ("seed", 1),
                                       ("prompt_sha256", "other"), ("system_prompt", "Be brief."),
                                       ("benchmark_version", "v2")])
def test_changed_result_setting_is_refused(tmp_path, key, value):
    assert key in COMPARABLE_KEYS
    started(tmp_path / "run")
    with pytest.raises(RunStoreError, match=rf"{key}: run has .*--new-run"):
        RunStore.open(tmp_path / "run", {**CONFIG, key: value})


@pytest.mark.parametrize("samples", [None, b"", b'{"problem_id": "a", "sample_index": 0, "te'])   # torn: not stored
def test_settings_bind_only_once_a_generation_is_stored(tmp_path, samples):
    """Issue 13 bug 2: a first attempt that stored nothing (server down, model not loading) pins nothing."""
    RunStore.open(tmp_path / "run", CONFIG).close()
    if samples is not None:
        (tmp_path / "run" / "samples.jsonl").write_bytes(samples)
    RunStore.open(tmp_path / "run", {**CONFIG, "temperature": 1.0}).close()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["temperature"] == 1.0


def test_new_run_starts_beside_the_old_one(tmp_path):
    started(tmp_path / "run")
    store = RunStore.open(tmp_path / "run", {**CONFIG, "temperature": 1.0}, new_run=True)
    assert store.path == tmp_path / "run-2"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["temperature"] == 0.6


def test_larger_n_extends_a_run_and_is_recorded(tmp_path):
    started(tmp_path / "run")
    store = RunStore.open(tmp_path / "run", {**CONFIG, "n": 32})
    assert store.config["n"] == 32 and store.config["history"] == [{"n": 4}]


def test_run_dir_names_are_path_safe(tmp_path):
    assert slug("Qwen/Qwen2.5-Math-7B") == "Qwen--Qwen2.5-Math-7B"
    assert run_dir_for(tmp_path, "/models/my model/", "aime24").name == "--models--my_model__aime24"


SLOW_RUN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from benchmarks.qwen25math_math100 import recorded_generations
    from mimo_eval.harness.run import RunSettings, execute
    from mimo_eval.types import Completion

    class SlowReplay:
        name = "slow-replay"
        def __init__(self):
            self.texts = {(r["problem_id"], r["sample_index"]): r["text"] for r in recorded_generations()}
        def generate(self, requests, sampling):
            for r in requests:
                time.sleep(0.003)
                yield Completion(r.problem_id, r.sample_index, self.texts[(r.problem_id, r.sample_index)], "stop")
        def versions(self):
            return {}
        def config(self):
            return {"backend": self.name}
        def thinking_opened(self, request):
            return None

    execute(RunSettings(benchmark="qwen25math_math100", model="m", out=Path(sys.argv[1]), n=8, progress=False),
            SlowReplay())
""")


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_kill_9_at_any_moment_loses_nothing(tmp_path):
    """Kill the run three times mid-generation, resume each time: every sample is stored exactly once, the
    bytes written before each kill are never rewritten, and the final scores equal an uninterrupted run's."""
    out, run = tmp_path / "runs", tmp_path / "runs" / "m__qwen25math_math100"
    samples = run / "samples.jsonl"
    kept = b""
    for threshold in (60, 300, 550):
        proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(out)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while _lines(samples) < threshold and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        now = samples.read_bytes()
        assert now.startswith(kept)     # what earlier runs wrote (complete lines) was never rewritten
        kept = now[: now.rfind(b"\n") + 1]
    subprocess.run([sys.executable, "-c", SLOW_RUN, str(out)], check=True, stderr=subprocess.PIPE)
    assert samples.read_bytes().startswith(kept)
    rows = read_jsonl(samples)
    keys = [(r["problem_id"], r["sample_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == 800
    summary = json.loads((run / "summary.json").read_text())
    assert summary["pass@1"] == pytest.approx(91.125)   # same as the uninterrupted pipeline (tests/test_run.py)
