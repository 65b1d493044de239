"""Leaderboard (md / csv / html with an embedded plot, checked in headless Chromium): columns keyed by model and
settings, rows by benchmark and its data settings, the CSV interval as two numbers, labelled error bars of either
standard error; and the paired bootstrap comparison. On real runs made by replaying Qwen2.5-Math's recorded
responses (model A) and the same responses with every third one replaced by a wrong answer (model B), and aime24
replayed from its gold answers.

The Chromium screenshot goes to test-artifacts/leaderboard.png. Run: pytest tests/test_leaderboard.py -q
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks import qwen25math_math100
from benchmarks.registry import get
from mimo_eval.backends.replay import ReplayBackend
from mimo_eval.cli import main
from mimo_eval.report.compare import compare_paths, paired_bootstrap
from mimo_eval.report.leaderboard import collect, render
from mimo_eval.harness.run import RunSettings, execute
from mimo_eval.types import SamplingParams

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("board")
    rows = qwen25math_math100.recorded_generations()
    worse = [{**r, "text": "\\boxed{-1}"} if i % 3 == 0 else r for i, r in enumerate(rows)]
    for model, gens in (("model-A", rows), ("model-B", worse)):
        path = tmp / f"{model}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in gens))
        execute(RunSettings(benchmark="qwen25math_math100", model=model, out=tmp / "runs" / model, n=4,
                            progress=False), ReplayBackend(path))
    return tmp / "runs"


def test_markdown_table_has_benchmarks_as_rows_models_as_columns(runs):
    md = render(collect(runs), "md")
    header, _, row = md.splitlines()[:3]
    assert header == "| benchmark | model-A | model-B |"
    assert row.startswith("| qwen25math_math100 | 91.") and "(4) |" in row
    assert "± sampling SE (n)" in md and "between-problem SE" in md


def test_published_reference_column(runs, tmp_path):
    """MiMo-7B-RL's published AIME24 number (68.2) sits beside a run of that benchmark."""
    summary = json.loads(next((runs / "model-A").rglob("summary.json")).read_text())
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "summary.json").write_text(json.dumps({**summary, "benchmark": "aime24"}))
    md = render(collect(tmp_path, ("MiMo-7B-RL",)), "md").splitlines()
    assert md[0] == "| benchmark | model-A | MiMo-7B-RL (paper) |"
    assert md[2].startswith("| aime24 | 91.") and md[2].endswith("| 68.2 |")


def test_csv_has_both_standard_errors_labelled(runs):
    rows = list(csv.DictReader(io.StringIO(render(collect(runs), "csv"))))
    assert [r["model"] for r in rows] == ["model-A", "model-B"]
    assert {"sampling SE", "between-problem SE", "timeouts", "errors", "no answer"} <= set(rows[0])


def test_csv_writes_the_interval_as_two_numbers(runs):
    rows = list(csv.DictReader(io.StringIO(render(collect(runs), "csv"))))
    for r in rows:
        low, high, mean, se = (float(r[k]) for k in ("95% CI low (sampling)", "95% CI high (sampling)", "pass@1",
                                                     "sampling SE"))
        assert low < mean < high and high - low == pytest.approx(2 * 1.96 * se, abs=0.02)


def _run_at(tmp: Path, model: str, temperature: float, right: bool) -> None:
    """aime24 replayed at a recorded temperature (replay ignores it; the run record does not)."""
    gens = tmp / f"{model}-{temperature}.jsonl"
    gens.write_text("".join(json.dumps({"problem_id": p.id, "text": f"\\boxed{{{p.reference if right else 0}}}"})
                            + "\n" for p in get("aime24").load()))
    execute(RunSettings(benchmark="aime24", model=model, out=tmp / "runs", n=1, progress=False, new_run=True,
                        sampling=SamplingParams(temperature=temperature)), ReplayBackend(gens))


def test_two_settings_of_one_model_are_two_columns_named_by_what_differs(tmp_path):
    _run_at(tmp_path, "model-A", 0.6, right=True)
    _run_at(tmp_path, "model-A", 1.0, right=False)
    _run_at(tmp_path, "model-B", 0.6, right=True)
    header, _, row = render(collect(tmp_path / "runs"), "md").splitlines()[:3]
    assert header == "| benchmark | model-A (temperature=0.6) | model-A (temperature=1.0) | model-B |"
    assert row.startswith("| aime24 | 100.0 ± 0.0 (1) | 0.0 ± 0.0 (1) | 100.0 ± 0.0 (1) |")


def test_one_benchmark_at_two_data_settings_is_two_rows(runs, tmp_path):
    """Same model, same sampling, other benchmark data (e.g. another LiveCodeBench window): two rows."""
    summary = json.loads(next((runs / "model-A").rglob("summary.json")).read_text())
    for name, version in (("v1", "aaaa1111"), ("v2", "bbbb2222")):
        (tmp_path / name).mkdir()
        settings = {**summary["settings"], "benchmark_version": version}
        (tmp_path / name / "summary.json").write_text(json.dumps({**summary, "settings": settings}))
    lines = render(collect(tmp_path), "md").splitlines()
    assert lines[0] == "| benchmark | model-A |"
    assert [line.split(" | ")[0] for line in lines[2:4]] == [
        "| qwen25math_math100 (benchmark_version=aaaa1111)", "| qwen25math_math100 (benchmark_version=bbbb2222)"]


@pytest.mark.parametrize("kind,se_key", [("sampling", "sampling_se"), ("between-problem", "between_problem_se")])
def test_error_bars_are_the_95_interval_of_the_chosen_se(runs, kind, se_key):
    from mimo_eval.report.leaderboard import error_bar

    summary = collect(runs).entries[0].summary
    assert error_bar(summary, kind) == pytest.approx(1.96 * summary[se_key])


def test_the_page_says_which_error_bars_it_draws(runs, tmp_path):
    pytest.importorskip("matplotlib")
    page = tmp_path / "board.html"
    assert main(["leaderboard", str(runs), "--format", "md", "--html-out", str(page),
                 "--error-bars", "between-problem"]) == 0
    assert "error bars: 95% interval from the between-problem SE" in page.read_text()
    assert "error bars: 95% intervals, thick = sampling SE" in render(collect(runs), "html")   # default: both


def test_missing_runs_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["leaderboard", str(tmp_path / "none")]) == 2
    assert "is not a folder: give the --out folder" in capsys.readouterr().err


def test_compare_detects_the_worse_model(runs):
    (result,) = compare_paths(runs / "model-A", runs / "model-B")
    assert result.num_problems == 100 and result.diff > 20
    assert result.ci95[0] > 0 and result.p_value < 0.001


def test_paired_bootstrap_interval_covers_the_difference():
    diff, (lo, hi), p = paired_bootstrap([1, 1, 0, 1, 0.5] * 10, [0, 1, 0, 1, 0.5] * 10, resamples=2000)
    assert diff == pytest.approx(0.2) and lo < 0.2 < hi and p < 0.05


def test_cli_compare_prints_a_table(runs, capsys):
    assert main(["compare", str(runs / "model-A"), str(runs / "model-B"), "--resamples", "1000"]) == 0
    assert "| qwen25math_math100 | model-A | model-B | 100 |" in capsys.readouterr().out


def test_html_opens_in_headless_chromium(runs, tmp_path):
    """The page is self-contained (plot inlined as a PNG data URI) and renders without a server."""
    page = tmp_path / "board.html"
    assert main(["leaderboard", str(runs), "--format", "html", "--html-out", str(page)]) == 0
    text = page.read_text()
    assert "data:image/png;base64," in text and "<table>" in text and "http" not in text.replace("http-equiv", "")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium not installed: run `bash tools/setup_system.sh`")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "leaderboard.png"
    shot.unlink(missing_ok=True)
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chromium'}", f"--screenshot={shot}", "--window-size=1500,1000",
               page.as_uri()]
    done = subprocess.run(command, capture_output=True, timeout=120)
    if done.returncode < 0:  # the browser itself crashed (seen once under CI load, SIGTRAP): one more try
        done = subprocess.run(command, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000   # a rendered page, not a blank one


def test_html_without_matplotlib_still_renders_the_tables(runs, monkeypatch):
    """`make demo` installs no extras: the page then says how to get the plot instead of failing."""
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    page = render(collect(runs), "html")
    assert "<table>" in page and "pip install 'mimo-eval[plot]'" in page and "data:image/png" not in page
