"""`mimo-eval audit RUN --against plain-judge`: rerun a code run's programs as plain processes and list every
sample where that verdict and the run's differ.

The plain judge runs the extracted code (LiveCodeBench's extraction rule) as an ordinary script, once per test
with the test input on stdin, in the judge sandbox with LiveCodeBench's 6 s per test, and compares stdout with
LiveCodeBench's own comparison. So the two verdicts differ only in how the program is run: ours reproduces
LCB's in-process harness (main guard inlined, stdin patched, `open(0)` blocking, state shared between tests);
the plain judge is what a user running the program by hand sees. Functional (LeetCode-style) problems need a
harness to call the method and are left out, and counted; a sandbox failure on either side leaves that sample
out (counted), never scored. pass@1 is over the audited samples, per problem then averaged.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mimo_eval.harness.files import latest_by_key
from mimo_eval.harness.store import RunStore

TEST_TIME_S = 6.0   # LiveCodeBench's per-test timeout


@dataclass(frozen=True)
class CodeDifference:
    problem_id: str
    sample_index: int
    ours: bool
    ours_detail: str
    theirs: bool
    theirs_detail: str


def plain_judge(sandbox, code: str, tests: list[dict]) -> tuple[bool | None, str]:
    """(passed, why) for a stdin program; passed None when the sandbox itself failed."""
    from graders.code.lcb_compare import compare_stdout
    from sandboxes.types import Limits

    if not code.strip():
        return False, "no code block"
    result = sandbox.run(code, [t["input"] for t in tests], Limits(time_s=TEST_TIME_S), stop_on_error=True)
    if result.infra_error:
        return None, result.infra_error
    for index, (test, run) in enumerate(zip(tests, result.results)):
        if run.status != "ok":
            return False, f"test {index}: {run.status}"
        same, why = compare_stdout(expected=test["output"], actual=run.stdout)
        if not same:
            return False, f"test {index}: {why}"
    return True, f"{len(tests)} tests passed"


def audit_code(run_dir: Path, problems: list, sandbox) -> dict:
    from graders.code.lcb_compare import extract_code

    store = RunStore(Path(run_dir))
    n = store.config["n"]
    samples, scores = latest_by_key(store.samples()), latest_by_key(store.scores())
    by_id = {p.id: p for p in problems}
    ours_by: dict[str, list[bool]] = {}
    theirs_by: dict[str, list[bool]] = {}
    differences, skipped = [], {"functional": 0, "sandbox error": 0}
    for key in sorted(scores):
        row, sample, problem = scores[key], samples.get(key), by_id.get(key[0])
        if sample is None or problem is None or key[1] >= n:
            continue
        if problem.reference.get("fn_name"):
            skipped["functional"] += 1
            continue
        theirs, why = plain_judge(sandbox, extract_code(sample["text"]), problem.reference["tests"])
        if theirs is None or row["outcome"] == "error":
            skipped["sandbox error"] += 1
            continue
        ours = bool(row["correct"])
        ours_by.setdefault(key[0], []).append(ours)
        theirs_by.setdefault(key[0], []).append(theirs)
        if ours != theirs:
            differences.append(CodeDifference(key[0], key[1], ours, _first_failure(row), theirs, why))
    if not ours_by:
        raise ValueError(f"{run_dir}: no stdin-program samples to audit ({skipped})")
    pass1 = lambda by: 100 * sum(sum(v) / len(v) for v in by.values()) / len(by)  # noqa: E731
    return {"run_dir": str(run_dir), "samples": sum(map(len, ours_by.values())), "skipped": skipped,
            "pass@1": {"mimo-eval (LCB harness)": pass1(ours_by), "plain judge": pass1(theirs_by)},
            "differences": differences}


def _first_failure(row: dict) -> str:
    verdicts = row.get("per_test") or []
    failed = next(((i, v) for i, v in enumerate(verdicts) if v != "AC"), None)
    return row["outcome"] + (f", test {failed[0]}: {failed[1]}" if failed else f", {len(verdicts)} tests passed")


def render_code(report: dict) -> str:
    skipped = ", ".join(f"{k} {v}" for k, v in report["skipped"].items() if v) or "none"
    lines = [f"audit of {report['run_dir']}: {report['samples']} stdin-program samples (left out: {skipped})",
             "", "| judge | pass@1 |", "|---|---|"]
    lines += [f"| {name} | {value:.2f} |" for name, value in report["pass@1"].items()]
    diffs = report["differences"]
    lines += ["", f"{len(diffs)} samples where the verdicts differ"]
    if diffs:
        lines += ["", "| sample | mimo-eval | plain judge |", "|---|---|---|"]
        lines += [f"| {d.problem_id}#{d.sample_index} | {'passed' if d.ours else 'failed'} ({d.ours_detail}) | "
                  f"{'passed' if d.theirs else 'failed'} ({d.theirs_detail}) |" for d in diffs]
    return "\n".join(lines) + "\n"
