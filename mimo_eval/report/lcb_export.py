"""`mimo-eval export-lcb RUN_DIR [--out DIR]`: a LiveCodeBench run in LiveCodeBench's own result format, so its tools
read it (`python -m lcb_runner.evaluation.compute_scores --eval_all_file FILE --start_date 2024-08-01`, the
LiveCodeBench/submissions leaderboard layout).

Written, as `lcb_runner/runner/main.py` names them, under `DIR/<model>/`:
- `Scenario.codegeneration_<n>_<temperature>_eval_all.json`: one object per problem with the dataset's fields
  (question_title, question_content, platform, question_id, contest_id, contest_date, starter_code, difficulty),
  `output_list` (the n responses), `code_list` (the code LiveCodeBench's rule extracts from each), `graded_list`
  (pass/fail per sample), `pass@1` (the problem's share, 0-1) and `metadata` (one JSON string per sample: LCB's
  error_code -1 compile, -2 wrong answer, -3 time limit, -4 runtime error, -5 test runner error, with our detail);
- `Scenario.codegeneration_<n>_<temperature>_eval.json`: `[metrics, results, metadata]` as `get_metrics` returns
  them (pass@k as fractions for every k <= n, with the per-problem detail; per sample, True or the first failing
  test's error code, by problem index).
Grades are ours (the LCB-identical judge, the run's truncation policy applied), from scores.jsonl; nothing is
rerun. A run must be finished (n graded samples for every problem it asks): LiveCodeBench averages whatever
`graded_list` holds, so a partial export would be biased.
"""
from __future__ import annotations

import json
from pathlib import Path

from graders.code.lcb_compare import extract_code
from mimo_eval.harness.metrics import pass_at_k
from mimo_eval.harness.rescore import problems_of
from mimo_eval.harness.scoring import counted_wrong, graded
from mimo_eval.harness.files import RunStoreError, latest_by_key, slug
from mimo_eval.harness.store import RunStore, comparable
from mimo_eval.harness.summary import asked

# our per-test verdicts as LCB's error codes and messages (lcb_runner/evaluation/testing_util.py)
ERROR_CODES = {"CE": (-1, "Compilation Error"), "WA": (-2, "Wrong Answer"), "TLE": (-3, "Time Limit Exceeded"),
               "RE": (-4, "Runtime Error"), "MLE": (-4, "Runtime Error")}


def export_lcb(run_dir: Path, out: Path | None = None) -> list[Path]:
    store = RunStore.existing(run_dir)
    run_dir = store.path
    config = store.config
    if config.get("grader") != "code":
        raise ValueError(f"{run_dir} is a {config.get('grader')} run: LiveCodeBench's format holds code runs")
    _, problems = problems_of(config, run_dir)
    problems = asked(problems, config.get("limit"))
    samples, scores = latest_by_key(store.samples()), latest_by_key(store.scores())
    n, policy = config["n"], comparable(config, "truncated")
    missing = [p.id for p in problems if any((p.id, i) not in scores or (p.id, i) not in samples for i in range(n))]
    if missing:
        raise RunStoreError(f"{run_dir}: {len(missing)} of {len(problems)} problems do not have {n} graded samples "
                            f"(e.g. {missing[0]}): finish the run (rerun the same command, or `mimo-eval score`) "
                            "before exporting")
    rows = [_problem_row(p, [samples[(p.id, i)] for i in range(n)], [scores[(p.id, i)] for i in range(n)], policy)
            for p in problems]
    folder = Path(out or run_dir / "lcb") / slug(config["model"])
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"Scenario.codegeneration_{n}_{config['temperature']}"
    written = [folder / f"{stem}_eval_all.json", folder / f"{stem}_eval.json"]
    written[0].write_text(json.dumps(rows, indent=4, ensure_ascii=False), encoding="utf-8")
    written[1].write_text(json.dumps(_metrics(rows, n), indent=4), encoding="utf-8")
    return written


def _problem_row(problem, samples: list[dict], scores: list[dict], policy: str) -> dict:
    meta = problem.metadata
    verdicts = [graded(score) for score in scores]
    passed = [bool(v["correct"]) and not counted_wrong(s, policy) for v, s in zip(verdicts, samples)]
    return {
        "question_title": meta.get("title") or "", "question_content": meta.get("question_content") or "",
        "platform": meta.get("platform") or "", "question_id": str(meta.get("question_id") or problem.id),
        "contest_id": str(meta.get("contest_id") or ""),
        "contest_date": f"{meta['contest_date']}T00:00:00" if meta.get("contest_date") else "",
        "starter_code": problem.reference.get("starter_code") or "", "difficulty": meta.get("difficulty") or "",
        "output_list": [s["text"] for s in samples], "code_list": [extract_code(s["text"]) for s in samples],
        "graded_list": passed, "pass@1": sum(passed) / len(passed),
        "metadata": [json.dumps(_sample_metadata(v, ok, s, policy)) for v, ok, s in zip(verdicts, passed, samples)],
    }


def _sample_metadata(verdict: dict, passed: bool, sample: dict, policy: str) -> dict:
    if passed:
        return {}
    if counted_wrong(sample, policy):
        return {"error_code": -2, "error_message": "Wrong Answer", "error": "cut at max tokens (--truncated wrong)"}
    if verdict.get("reason") in ("infra_error", "bad_tests"):
        return {"error_code": -5, "error_message": "TestRunnerError", "error": verdict.get("detail", "")}
    if verdict.get("reason") == "no_code":
        return {"error_code": -1, "error_message": "Compilation Error", "error": "no code block in the response"}
    first = next((t for t in verdict.get("per_test") or [] if t != "AC"), "WA")
    code, message = ERROR_CODES.get(first, (-2, "Wrong Answer"))
    return {"error_code": code, "error_message": message, "error": verdict.get("detail", "")}


def _metrics(rows: list[dict], n: int) -> list:
    """[metrics, results, metadata] as LiveCodeBench's codegeneration `get_metrics` returns them."""
    corrects = [sum(r["graded_list"]) for r in rows]
    ks = [k for k in (1, 5, 10, 25, 50, 100, 150, 200) if k <= n]
    metrics = {f"pass@{k}": sum(pass_at_k(n, c, k) for c in corrects) / len(rows) for k in ks}
    metrics["detail"] = {f"pass@{k}": {str(i): pass_at_k(n, c, k) for i, c in enumerate(corrects)} for k in ks}
    results = {str(i): [[True] if ok else [json.loads(m).get("error_code", -2)]
                        for ok, m in zip(r["graded_list"], r["metadata"])] for i, r in enumerate(rows)}
    return [metrics, results, [r["metadata"] for r in rows]]
