"""`mimo-eval audit RUN --against plain-judge` on a LiveCodeBench run graded through the real pipeline (replay
backend -> run store -> our LCB-harness grader in the LocalSandbox), then audited through the CLI.

The case is chosen for what it separates: o1-mini's officially passed program for abc301_a (LiveCodeBench
submissions data, shipped in benchmarks/data), once as recorded and once with `sys.stdin = open(0)` in front.
Under LCB's judge `open(0)` reads the judge's own fd 0 and blocks (all 4 such official o1-mini samples are TLE,
graders/code/lcb_harness.py), so our grader fails it; run as a plain process it reads the test input and passes.
Exactly that sample is the audit's difference. A functional problem (2727) is left out and counted.

Run: python -m pytest -q tests/test_audit_code.py
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import livecodebench
from mimo_eval.backends.replay import ReplayBackend
from mimo_eval.cli import main
from mimo_eval.harness.run import RunSettings, execute


@pytest.fixture(scope="module")
def code_run(tmp_path_factory) -> Path:
    from sandboxes import get_sandbox

    tmp = tmp_path_factory.mktemp("audit_code")
    rows = [json.loads(line) for line in livecodebench.SAMPLE_FILE.read_text().splitlines()]
    dump = tmp / "lcb.jsonl"
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows if r["question_id"] in ("abc301_a", "2727")))
    gens = {g["problem_id"]: g for g in map(json.loads, (livecodebench.DATA_DIR / "lcb_sample_o1mini_generations"
                                                                                   ".jsonl").read_text().splitlines())}
    plain = gens["lcb/abc301_a"]["text"]
    fenced = plain.replace("```python\n", "```python\nimport sys\nsys.stdin = open(0)\n", 1)
    assert fenced != plain
    replay = tmp / "gens.jsonl"
    replay.write_text("".join(json.dumps(r) + "\n" for r in (
        {"problem_id": "lcb/abc301_a", "sample_index": 0, "text": plain},
        {"problem_id": "lcb/abc301_a", "sample_index": 1, "text": fenced},
        {"problem_id": "lcb/2727", "sample_index": 0, "text": gens["lcb/2727"]["text"]},
        {"problem_id": "lcb/2727", "sample_index": 1, "text": gens["lcb/2727"]["text"]})))
    return execute(RunSettings(benchmark="livecodebench", model="o1-mini", out=tmp / "runs", n=2,
                               benchmark_options={"data_path": str(dump)}, progress=False),
                   ReplayBackend(replay), sandbox_factory=lambda: get_sandbox("local"))


def test_the_run_grades_the_open0_program_as_lcb_does(code_run):
    scores = {(r["problem_id"], r["sample_index"]): r for r in
              map(json.loads, (code_run / "scores.jsonl").read_text().splitlines())}
    assert scores[("lcb/abc301_a", 0)]["correct"] and not scores[("lcb/abc301_a", 1)]["correct"]
    assert scores[("lcb/abc301_a", 1)]["per_test"][0] == "TLE"


def test_plain_judge_audit_lists_exactly_the_open0_sample(code_run, capsys):
    assert main(["audit", str(code_run), "--against", "plain-judge", "--sandbox", "local"]) == 0
    out = capsys.readouterr().out
    assert "2 stdin-program samples (left out: functional 2)" in out
    assert "| mimo-eval (LCB harness) | 50.00 |" in out and "| plain judge | 100.00 |" in out
    [diff] = [line for line in out.splitlines() if line.startswith("| lcb/")]
    assert diff == "| lcb/abc301_a#1 | failed (timeout, test 0: TLE) | passed (15 tests passed) |"


def test_math_verify_audit_refuses_a_code_run(code_run, capsys):
    assert main(["audit", str(code_run), "--against", "math-verify"]) == 2
    assert "is a code run: --against math-verify audits math runs (code runs: --against plain-judge)" in \
        capsys.readouterr().err
