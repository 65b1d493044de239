"""Benchmarks: bundled data (row counts, every gold parses with our math grader), the registry, prompts, and
LiveCodeBench loading (date windows, packed private tests, local dumps, rows without tests, bad lines, no hub).

Data provenance: benchmarks/data/README.md. Run: pytest tests/test_benchmarks.py -q
"""
from __future__ import annotations

import json
import logging

import pytest

from benchmarks import livecodebench
from benchmarks.common import MATH_PROMPT, BenchmarkDataError
from benchmarks.registry import BENCHMARKS, UnknownBenchmarkError, get
from graders.math import grade

MATH_BENCHMARKS = [("aime24", 30), ("aime25", 30), ("math500", 500), ("qwen25math_math100", 100)]


@pytest.mark.parametrize("name,rows", MATH_BENCHMARKS)
def test_row_counts_and_unique_ids(name, rows):
    problems = get(name).load()
    assert len(problems) == rows
    assert len({p.id for p in problems}) == rows


@pytest.mark.parametrize("name,rows", MATH_BENCHMARKS)
def test_every_gold_parses_and_matches_itself(name, rows):
    """A gold our grader cannot read would score every sample wrong: fail loudly, naming the problems."""
    bad = []
    for p in get(name).load():
        v = grade(gold=p.reference, response=f"The answer is $\\boxed{{{p.reference}}}$.", mode="eval",
                  timeout_s=5.0)
        if not v.correct:
            bad.append((p.id, p.reference, v.reason))
    assert not bad, f"golds that do not grade as equal to themselves: {bad}"


@pytest.mark.parametrize("name", ["aime24", "aime25"])
def test_aime_answers_are_integers_0_to_999(name):
    assert all(0 <= int(p.reference) <= 999 for p in get(name).load())


def test_math500_breakdown_metadata():
    problems = get("math500").load()
    levels = sorted({p.metadata["level"] for p in problems})
    assert levels == [1, 2, 3, 4, 5]
    assert sum(p.metadata["subject"] == "Algebra" for p in problems) == 124   # data README distribution


def test_math_prompt_is_the_r1_directive_after_the_problem():
    p = get("aime24").load()[0]
    assert p.prompt.endswith("\nPlease reason step by step, and put your final answer within \\boxed{}.")
    assert p.prompt.startswith("Every morning Aya")
    assert get("aime24").prompt == MATH_PROMPT


@pytest.mark.parametrize("name,n", [("aime24", 32), ("aime25", 32), ("math500", 1), ("lcb_v5", 8), ("lcb_v6", 8)])
def test_default_n_reproduces_mimo(name, n):
    assert get(name).default_n == n


def test_unknown_benchmark_lists_the_choices():
    with pytest.raises(UnknownBenchmarkError, match="unknown benchmark 'aime2024': choose one of aime24, aime25"):
        get("aime2024")
    assert set(BENCHMARKS) >= {"aime24", "aime25", "math500", "lcb_v5", "lcb_v6"}


# ---- LiveCodeBench ----

def test_lcb_sample_loads_in_upstream_schema():
    problems = get("lcb_sample").load()
    assert len(problems) == 25
    kinds = {p.metadata["testtype"] for p in problems}
    assert kinds == {"stdin", "functional"}
    functional = next(p for p in problems if p.id == "lcb/2727")
    assert functional.reference["fn_name"] == "countSeniors"
    assert "You will use the following starter code" in functional.prompt
    stdin = next(p for p in problems if p.id == "lcb/abc301_a")
    assert "Read the inputs from stdin" in stdin.prompt and stdin.reference["fn_name"] is None


def test_lcb_packed_private_tests_are_decoded():
    """abc301_a carries SandboxFusion's full test set: 3 public tests + 12 packed private ones."""
    p = next(p for p in get("lcb_sample").load() if p.id == "lcb/abc301_a")
    assert len(p.reference["tests"]) == 15


def test_lcb_v5_window_selects_by_contest_date():
    sample = str(livecodebench.SAMPLE_FILE)
    v5 = livecodebench.load(release="v5", data_path=sample)
    assert len(v5) == 22
    assert all("2024-08-01" <= p.metadata["contest_date"] < "2025-02-01" for p in v5)
    with pytest.raises(BenchmarkDataError, match=r"no LiveCodeBench problems dated in \[2025-02-01, 2025-05-01\)"):
        livecodebench.load(release="v6", data_path=sample)


def test_lcb_explicit_dates_override_the_window():
    got = livecodebench.load(release="v5", start_date="2024-09-01", data_path=str(livecodebench.SAMPLE_FILE))
    assert got and all(p.metadata["contest_date"] >= "2024-09-01" for p in got)
    assert len(got) < 22


def _sample_rows() -> list[dict]:
    return [json.loads(line) for line in livecodebench.SAMPLE_FILE.read_text().splitlines()]


def test_lcb_row_without_tests_is_skipped_with_a_warning(tmp_path, caplog):
    rows = _sample_rows()[:3]
    rows[1] = {**rows[1], "public_test_cases": "[]", "private_test_cases": ""}
    path = tmp_path / "dump.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with caplog.at_level(logging.WARNING):
        problems = livecodebench.load(data_path=str(path))
    assert len(problems) == 2
    assert f"({rows[1]['question_id']}) has no tests: skipped" in caplog.text


def test_lcb_malformed_jsonl_line_names_the_line(tmp_path):
    path = tmp_path / "dump.jsonl"
    path.write_text(json.dumps(_sample_rows()[0]) + "\n{truncated\n")
    with pytest.raises(BenchmarkDataError, match=r"dump.jsonl:2: malformed JSONL line"):
        livecodebench.load(data_path=str(path))


def test_lcb_missing_local_path_says_what_to_give(tmp_path):
    with pytest.raises(BenchmarkDataError, match="does not exist: give a `save_to_disk` folder"):
        livecodebench.load(data_path=str(tmp_path / "nope"))


def test_lcb_loads_a_saved_datasets_folder(tmp_path):
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list(_sample_rows()).save_to_disk(str(tmp_path / "lcb"))
    via_disk = livecodebench.load(data_path=str(tmp_path / "lcb"))
    assert [p.id for p in via_disk] == [p.id for p in get("lcb_sample").load()]
    assert via_disk[0].reference == get("lcb_sample").load()[0].reference


def test_lcb_environment_variable_names_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv(livecodebench.DATA_PATH_ENV, str(livecodebench.SAMPLE_FILE))
    assert len(livecodebench.load(release="v5")) == 22


def test_lcb_unreachable_hub_points_to_local_data():
    """Offline mode (read by huggingface_hub at import, hence a fresh process) stands in for no network."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != livecodebench.DATA_PATH_ENV}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    code = ("from benchmarks import livecodebench\n"
            "try:\n    livecodebench.load(release='v5')\n"
            "except livecodebench.BenchmarkDataError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120).stdout
    assert "cannot load livecodebench/code_generation_lite" in out and "pass --data-path" in out


def test_lcb_refuses_a_malicious_pickle():
    import base64
    import pickle
    import zlib

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    packed = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    with pytest.raises(ValueError, match="refused global"):
        livecodebench.decode_private_tests(packed)
