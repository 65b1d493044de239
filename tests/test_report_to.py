"""`--report-to tensorboard|wandb` (mimo_eval/report/trackers.py): a run's summary as scalars, read back from what each tool
wrote: TensorBoard's event file through its own EventAccumulator, a wandb run in offline mode (no network) through
the records of its run file. A limited run is logged under its own name; a missing package is a one-line error.

Run: python -m pytest -q tests/test_report_to.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks.registry import get
from mimo_eval.cli import main
from mimo_eval.report.trackers import scalars

AIME = get("aime24").load()


def replay_run(tmp_path: Path, *flags: str) -> Path:
    rows = [{"problem_id": p.id, "sample_index": i, "text": f"\\boxed{{{p.reference if i else 1000}}}"}
            for p in AIME for i in range(2)]
    path = tmp_path / "gens.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["run", "aime24", "--model", "m", "--backend", "replay", "--replay-file", str(path), "--n", "2",
                 "--out", str(tmp_path / "runs"), "--no-progress", *flags]) == 0
    return tmp_path / "runs" / "m__aime24"


def test_tensorboard_gets_the_summary_as_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = replay_run(tmp_path, "--report-to", "tensorboard")
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    logged = {tag: events.Scalars(tag)[-1].value for tag in events.Tags()["scalars"]}
    assert logged["aime24/pass@1"] == pytest.approx(50.0)
    assert logged["aime24/pass@k/2"] == pytest.approx(100.0) and logged["aime24/outcomes/wrong"] == 30
    assert "aime24/cost/wall_s" in logged and "aime24/between_problem_se" in logged


def test_wandb_offline_run_holds_the_summary(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run = replay_run(tmp_path)
    assert main(["score", str(run), "--report-to", "wandb", "--no-progress"]) == 0
    assert "wandb: " in capsys.readouterr().out
    [record] = run.glob("wandb/offline-run-*/run-*.wandb")
    data = record.read_bytes()
    for name, value in scalars(json.loads((run / "summary.json").read_text())).items():
        assert name.encode() in data, name
    assert b"aime24/pass@1" in data and b"50.0" in data and b"m__aime24" in data


def test_a_limited_run_is_logged_under_its_own_name(tmp_path):
    summary = json.loads((replay_run(tmp_path, "--limit", "4") / "summary.json").read_text())
    assert set(scalars(summary)) and all(k.startswith("aime24_limit4/") for k in scalars(summary))


def test_a_missing_package_is_one_line(tmp_path, monkeypatch, capsys):
    run = replay_run(tmp_path)
    monkeypatch.setitem(sys.modules, "wandb", None)   # import wandb raises ImportError
    capsys.readouterr()
    assert main(["score", str(run), "--report-to", "wandb", "--no-progress"]) == 2
    assert capsys.readouterr().err.strip().endswith("--report-to wandb needs the wandb package: pip install "
                                                    "'mimo-eval[wandb]'")
