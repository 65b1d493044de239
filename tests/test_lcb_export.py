"""`mimo-eval export-lcb` (mimo_eval/report/lcb_export.py): a LiveCodeBench run in LiveCodeBench's own result format.

The run replays the official o1-mini outputs for the bundled 25-problem sample (judged in the local sandbox). The
export is checked against LiveCodeBench's own files: every field of an official `_eval_all.json` row
(LiveCodeBench/submissions' o1-mini file in ../shared/data/code_grader_heldout) is there with its type, the
problems' dataset fields equal the official rows', `graded_list` is our verdicts and `code_list` LiveCodeBench's
extraction; `compute_scores`' arithmetic on the file (a date window, pass@1 as the mean of per-problem pass@1)
gives our summary; `_eval.json` is `[metrics, results, metadata]`. An unfinished run and a math run are refused.

Run: python -m pytest -q tests/test_lcb_export.py
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from benchmarks import livecodebench
from conftest import shared_data
from graders.code.lcb_compare import extract_code
from mimo_eval.backends.replay import ReplayBackend
from mimo_eval.cli import main
from mimo_eval.harness.run import RunSettings, execute

GENERATIONS = livecodebench.DATA_DIR / "lcb_sample_o1mini_generations.jsonl"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, list[dict], list]:
    from sandboxes import get_sandbox

    tmp = tmp_path_factory.mktemp("lcb")
    run = execute(RunSettings(benchmark="lcb_sample", model="o1-mini", out=tmp / "runs", n=1, progress=False),
                  ReplayBackend(GENERATIONS), sandbox_factory=lambda: get_sandbox("local"))
    assert main(["export-lcb", str(run), "--out", str(tmp / "lcb")]) == 0
    folder = tmp / "lcb" / "o1-mini"
    eval_all = json.loads((folder / "Scenario.codegeneration_1_0.6_eval_all.json").read_text())
    metrics = json.loads((folder / "Scenario.codegeneration_1_0.6_eval.json").read_text())
    return run, eval_all, metrics


def official_rows() -> dict[str, dict]:
    path = shared_data("code_grader_heldout/lcb_submissions_o1-mini-2024-09-12_n1_eval_all.json")
    return {row["question_id"]: row for row in json.loads(path.read_text())}


def test_every_field_of_an_official_row_is_there_with_its_type(exported):
    _, eval_all, _ = exported
    official = next(iter(official_rows().values()))
    assert len(eval_all) == 25
    for row in eval_all:
        assert list(row) == list(official)   # the same fields in the same order
        assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in official.items()}
        assert all(isinstance(m, str) and isinstance(json.loads(m), dict) for m in row["metadata"])


def test_the_dataset_fields_are_the_official_ones(exported):
    _, eval_all, _ = exported
    official = official_rows()
    fields = ("question_title", "question_content", "platform", "contest_id", "starter_code", "difficulty")
    for row in eval_all:
        theirs = official[row["question_id"]]
        assert {k: row[k] for k in fields} == {k: theirs[k] for k in fields}, row["question_id"]
        assert row["contest_date"][:10] == theirs["contest_date"][:10]
        assert row["output_list"][0].strip() == theirs["output_list"][0].strip()   # the recorded generation


def test_grades_and_code_are_ours_and_lcbs_arithmetic_gives_our_pass1(exported):
    run, eval_all, metrics = exported
    scores = {r["problem_id"]: r for r in map(json.loads, (run / "scores.jsonl").open())}
    for row in eval_all:
        assert row["graded_list"] == [scores[f"lcb/{row['question_id']}"]["correct"]]
        assert row["code_list"] == [extract_code(row["output_list"][0])]
        assert row["pass@1"] == sum(row["graded_list"]) / len(row["graded_list"])
        if not row["graded_list"][0]:
            assert json.loads(row["metadata"][0])["error_code"] in (-1, -2, -3, -4, -5)
    # lcb_runner.evaluation.compute_scores: datetime.fromisoformat on contest_date, then the mean of pass@1
    start = datetime.datetime(2024, 8, 1)
    window = [r for r in eval_all if datetime.datetime.fromisoformat(r["contest_date"]) >= start]
    summary = json.loads((run / "summary.json").read_text())
    assert 100 * sum(r["pass@1"] for r in eval_all) / len(eval_all) == pytest.approx(summary["pass@1"])
    assert len(window) == 22   # the sample's problems in MiMo's v5 window and later
    stats, results, metadata = metrics
    assert stats["pass@1"] == pytest.approx(summary["pass@1"] / 100) and set(stats["detail"]) == {"pass@1"}
    assert len(results) == len(metadata) == 25


def test_an_unfinished_or_math_run_is_refused(tmp_path, capsys):
    rows = [json.loads(line) for line in GENERATIONS.read_text().splitlines()][:3]
    partial = tmp_path / "partial.jsonl"
    partial.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["run", "lcb_sample", "--model", "m", "--backend", "replay", "--replay-file", str(partial), "--n", "1",
                 "--out", str(tmp_path), "--no-progress"]) == 2   # the replay runs out after 3 problems
    capsys.readouterr()
    assert main(["export-lcb", str(tmp_path / "m__lcb_sample")]) == 2
    assert "22 of 25 problems do not have 1 graded samples" in capsys.readouterr().err
    math_rows = tmp_path / "math.jsonl"
    math_rows.write_text('{"problem_id": "aime24/I-1", "sample_index": 0, "text": "1"}\n')
    main(["run", "aime24", "--model", "m", "--backend", "replay", "--replay-file", str(math_rows), "--n", "1",
          "--out", str(tmp_path), "--no-progress"])
    capsys.readouterr()
    assert main(["export-lcb", str(tmp_path / "m__aime24")]) == 2
    assert "is a math run: LiveCodeBench's format holds code runs" in capsys.readouterr().err
