"""`mimo-eval compare` on runs that are not a clean pair (issue 13, bugs 5 and 6): an unfinished run is compared only
on the problems complete in both runs and the table says how many were left out; a folder holding two runs of one
benchmark, or one run given twice, is refused instead of silently comparing a run with itself.

Runs replay aime24 answers built from the gold answers (right, or the wrong number 1000).
Run: python -m pytest -q tests/test_compare.py
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks.registry import get
from mimo_eval.cli import main
from mimo_eval.report.compare import compare_paths, render_comparison

AIME = get("aime24").load()


def replay_run(tmp_path: Path, model: str, out: Path, samples: dict[str, int], n: int, right: bool) -> int:
    """Replay `samples[problem_id]` samples per problem (right or wrong answers) into a run asked for n each."""
    rows = [{"problem_id": p.id, "sample_index": i, "text": f"\\boxed{{{p.reference if right else 1000}}}"}
            for p in AIME for i in range(samples[p.id])]
    path = tmp_path / f"{model}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return main(["run", "aime24", "--model", model, "--backend", "replay", "--replay-file", str(path),
                 "--n", str(n), "--out", str(out), "--no-progress"])


@pytest.fixture
def finished_and_unfinished(tmp_path) -> tuple[Path, Path]:
    """A: 4 of 4 samples on all 30 problems. B: stopped early, 4 of 4 on the first 5 problems, 1 on the rest."""
    assert replay_run(tmp_path, "A", tmp_path / "a", {p.id: 4 for p in AIME}, 4, right=True) == 0
    partial = {p.id: 4 if i < 5 else 1 for i, p in enumerate(AIME)}
    assert replay_run(tmp_path, "B", tmp_path / "b", partial, 4, right=False) == 2   # the replay runs out
    return tmp_path / "a" / "A__aime24", tmp_path / "b" / "B__aime24"


def test_an_unfinished_run_is_compared_only_on_complete_problems(finished_and_unfinished):
    (result,) = compare_paths(*finished_and_unfinished, resamples=500)
    assert result.num_problems == 5 and result.left_out == 25
    assert (result.pass1_a, result.pass1_b) == (100.0, 0.0)
    note = render_comparison([result])
    assert "aime24: compared on 5 problems; 25 left out (unfinished or missing in one run: A__aime24 has 30 " \
           "of 30 complete, B__aime24 has 5 of 30)" in note


def test_runs_without_a_common_complete_problem_are_refused(tmp_path, capsys):
    assert replay_run(tmp_path, "A", tmp_path / "a", {p.id: 4 for p in AIME}, 4, right=True) == 0
    assert replay_run(tmp_path, "B", tmp_path / "b", {p.id: 1 for p in AIME}, 4, right=False) == 2
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a" / "A__aime24"), str(tmp_path / "b" / "B__aime24")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("share no complete problem (all n samples graded): finish the runs "
                            "(re-run the same command) first")


def test_a_folder_with_two_runs_of_one_benchmark_is_refused(tmp_path, capsys):
    both = {p.id: 1 for p in AIME}
    for model, right in (("A", True), ("B", False)):
        assert replay_run(tmp_path, model, tmp_path / "runs", both, 1, right) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "runs"), str(tmp_path / "runs")]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{tmp_path / 'runs'} holds 2 runs of aime24 (A__aime24, B__aime24)" in line
    assert "give the two run directories" in line


def test_one_run_given_twice_is_refused(tmp_path, capsys):
    assert replay_run(tmp_path, "A", tmp_path / "runs", {p.id: 1 for p in AIME}, 1, True) == 0
    run = tmp_path / "runs" / "A__aime24"
    capsys.readouterr()
    assert main(["compare", str(run), str(run) + "/"]) == 2
    assert "compares a run with itself" in capsys.readouterr().err


def test_a_copy_of_a_run_compares_equal(tmp_path):
    """Two runs with identical verdicts: no difference, p = 1 (the bootstrap's null case)."""
    assert replay_run(tmp_path, "A", tmp_path / "runs", {p.id: 2 for p in AIME}, 2, True) == 0
    run = tmp_path / "runs" / "A__aime24"
    shutil.copytree(run, tmp_path / "copy")
    (result,) = compare_paths(run, tmp_path / "copy", resamples=500)
    assert result.diff == 0 and result.p_value == 1.0 and result.left_out == 0
