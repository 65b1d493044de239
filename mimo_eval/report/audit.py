"""`mimo-eval audit RUN --against math-verify`: regrade a math run with Math-Verify 0.9.0 and list every sample
where its verdict and ours differ, with both extractions, and the pass@1 each grader gives on the same samples.

Math-Verify is called as its README shows, `verify(parse(gold), parse(response))`, with its default extraction
(LaTeX, then plain expressions) and options; the gold is parsed as `\\boxed{gold}` (as verl's math_verify reward
does), or as given when that finds nothing.
It runs in this process with its own (signal-based) timeouts, so an audit is a command, not a reward path.
Our verdict is the run's stored one (scores.jsonl); a sample counted wrong only for truncation (`--truncated
wrong`) is compared by the grader's own verdict. pass@1 is the mean over problems of each problem's share of
correct samples among its graded first-n samples (an unfinished run is audited on what it has, and says so).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from mimo_eval.harness.files import latest_by_key
from mimo_eval.harness.store import RunStore


@dataclass(frozen=True)
class Difference:
    problem_id: str
    sample_index: int
    gold: str
    ours: bool
    ours_extracted: str | None
    ours_reason: str | None
    theirs: bool
    theirs_extracted: str | None


def math_verify_grade(gold: str, response: str) -> tuple[bool, str | None]:
    from math_verify import parse, verify

    parsed_gold = parse("\\boxed{" + gold + "}") or parse(gold)
    parsed = parse(response)
    extracted = str(parsed[-1]) if parsed else None   # parse gives [sympy value, its source string]
    return bool(parsed_gold and parsed and verify(parsed_gold, parsed)), extracted


def audit(run_dir: Path) -> dict:
    store = RunStore.existing(run_dir)
    run_dir = store.path
    config = store.config
    if config.get("grader") != "math":
        raise ValueError(f"{run_dir} is a {config.get('grader')} run: --against math-verify audits math runs "
                         "(code runs: --against plain-judge)")
    samples, scores = latest_by_key(store.samples()), latest_by_key(store.scores())
    n = config["n"]
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)   # it logs whole unparseable responses
    ours_by_problem: dict[str, list[bool]] = {}
    theirs_by_problem: dict[str, list[bool]] = {}
    differences = []
    for key in sorted(scores, key=lambda k: (k[0], k[1])):
        row, sample = scores[key], samples.get(key)
        if sample is None or key[1] >= n:
            continue
        gold = row.get("gold")
        if gold is None:
            raise ValueError(f"{run_dir}: score rows have no gold answer (graded before it was recorded): "
                             "run `mimo-eval score RUN --rescore` first")
        ours = row.get("graded_outcome", row["outcome"]) == "correct" if row.get("counted_wrong") \
            else bool(row["correct"])
        theirs, extracted = math_verify_grade(str(gold), sample["text"])
        ours_by_problem.setdefault(key[0], []).append(ours)
        theirs_by_problem.setdefault(key[0], []).append(theirs)
        if ours != theirs:
            differences.append(Difference(key[0], key[1], str(gold), ours, row.get("extracted"), row.get("reason"),
                                          theirs, extracted))
    if not ours_by_problem:
        raise ValueError(f"{run_dir} has no graded samples: run `mimo-eval score RUN` first")
    graded = sum(len(v) for v in ours_by_problem.values())
    return {"run_dir": str(run_dir), "samples": graded, "expected": n * config["num_problems"],
            "pass@1": {"mimo-eval": _pass1(ours_by_problem), "math-verify 0.9.0": _pass1(theirs_by_problem)},
            "differences": differences}


def _pass1(by_problem: dict[str, list[bool]]) -> float:
    return 100 * sum(sum(v) / len(v) for v in by_problem.values()) / len(by_problem)


def render(report: dict) -> str:
    lines = [f"audit of {report['run_dir']}: {report['samples']} graded samples"
             + ("" if report["samples"] == report["expected"] else f" (of {report['expected']}: unfinished run)"),
             "", "| grader | pass@1 |", "|---|---|"]
    lines += [f"| {name} | {value:.2f} |" for name, value in report["pass@1"].items()]
    diffs = report["differences"]
    lines += ["", f"{len(diffs)} samples where the verdicts differ"]
    if diffs:
        lines += ["", "| sample | gold | mimo-eval | extracted (ours) | math-verify | extracted (Math-Verify) |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {d.problem_id}#{d.sample_index} | {_cell(d.gold)} | {_verdict(d.ours)} ({d.ours_reason}) | "
                  f"{_cell(d.ours_extracted)} | {_verdict(d.theirs)} | {_cell(d.theirs_extracted)} |" for d in diffs]
    return "\n".join(lines) + "\n"


def _verdict(correct: bool) -> str:
    return "correct" if correct else "wrong"


def _cell(text: str | None) -> str:
    return "-" if text is None else json.dumps(text, ensure_ascii=False)[1:-1][:80].replace("|", "\\|")
