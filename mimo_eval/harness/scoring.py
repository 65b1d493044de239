"""From stored rows to verdicts and back: grade one sample into a scores.jsonl row; turn rows into metrics input.

A score row always says what happened: `outcome` is correct | wrong | no_answer | timeout | error, so a
timeout or a sandbox failure is counted as not-correct for pass@1 but is never silently a plain "wrong".
Code rows carry `per_test` (one verdict string per test, e.g. ["AC", "WA", "SKIP"]) for calibrate-tests.
Math rows carry `gold`, `extracted`, `reason` and `detail`, so `jq` on scores.jsonl alone says why a sample is wrong.
A row holds the grader's verdict only. The run's `truncated` policy is applied when metrics are computed
(`to_sample_scores`): under "wrong" a sample cut at max_tokens counts wrong whatever the grader said and casts no
maj@k vote, so `mimo-eval score --truncated wrong|grade` gives either number from one run without regrading.
"""
from __future__ import annotations

import logging
from typing import Callable, Mapping

from benchmarks.types import Problem
from mimo_eval.harness.metrics import SampleScore

log = logging.getLogger(__name__)

MATH_OUTCOME = {"correct": "correct", "wrong": "wrong", "no_answer": "no_answer", "timeout": "timeout",
                "response_too_costly": "timeout", "error": "error", "gold_unparseable": "error"}
CODE_OUTCOME = {"passed": "correct", "failed": "wrong", "no_code": "no_answer", "bad_tests": "error",
                "infra_error": "error"}


def grade_math(problem: Problem, text: str, thinking_opened: bool = False) -> dict:
    """thinking_opened: the run's prompts end inside an open thinking block (config.json, `mimo_eval.harness.run`)."""
    from graders.math import grade

    v = grade(gold=str(problem.reference), response=text, mode="eval", thinking_opened=thinking_opened)
    outcome = "timeout" if v.timed_out else MATH_OUTCOME.get(v.reason, "error")
    return {"correct": bool(v.correct), "outcome": outcome, "reason": v.reason, "gold": str(problem.reference),
            "extracted": v.extracted,
            "answer_key": v.parsed_response if v.parsed_response is not None else v.extracted,
            "detail": v.detail}


def make_code_grader(sandbox, mode: str = "lcb") -> Callable[[Problem, str], dict]:
    """A code-grading function bound to one sandbox (built once per run, shared by the grading threads).
    mode "lcb" stops at the first failing test as LiveCodeBench does; "all_tests" gives every test a verdict
    (what `mimo-eval calibrate-tests` needs). The pass/fail verdict is the same in both."""
    from graders.code import grade
    from graders.types import CodeReference, CodeTest

    def grade_code(problem: Problem, text: str) -> dict:
        ref = problem.reference
        reference = CodeReference(tests=tuple(CodeTest(input=t["input"], output=t["output"]) for t in ref["tests"]),
                                  fn_name=ref.get("fn_name"))
        v = grade(reference=reference, response=text, sandbox=sandbox, mode=mode)
        timed_out = any(t.verdict == "TLE" for t in v.per_test)
        outcome = CODE_OUTCOME.get(v.reason, "error")
        if outcome == "wrong" and timed_out:
            outcome = "timeout"
        return {"correct": bool(v.passed), "outcome": outcome, "reason": v.reason,
                "per_test": list(v.verdicts), "infra_error": v.infra_error, "detail": v.detail[:300]}

    return grade_code


def score_row(problem: Problem, sample: dict, grade_fn: Callable[[Problem, str], dict]) -> dict:
    """Grade one stored sample. A grader bug becomes an `error` row, never a crash that loses the run."""
    # A server that split the reasoning off (vLLM --reasoning-parser) stored the text after the thinking: graded as
    # what follows a closed thinking, never as a thinking the prompt opened and the response left unfinished.
    text = sample["text"] if sample.get("reasoning") is None else "</think>" + sample["text"]
    try:
        verdict = grade_fn(problem, text)
    except Exception as err:  # noqa: BLE001 - recorded in the row and counted as an error, not dropped
        log.warning("grading %s#%s failed: %s: %s", problem.id, sample["sample_index"], type(err).__name__, err)
        verdict = {"correct": False, "outcome": "error", "reason": "error", "detail": f"{type(err).__name__}: {err}"}
    return {"problem_id": problem.id, "sample_index": sample["sample_index"], **verdict}


def graded(row: dict) -> dict:
    """The grader's own verdict of a score row; rows written before the policy moved to scoring time carry it in
    `graded_outcome` when they were counted wrong for truncation."""
    if not row.get("counted_wrong"):
        return row
    outcome = row.get("graded_outcome", row.get("outcome", "wrong"))
    return {**row, "outcome": outcome, "correct": outcome == "correct"}


def counted_wrong(sample: dict, truncated: str) -> bool:
    """Whether the truncation policy counts this sample wrong whatever its verdict."""
    return truncated == "wrong" and sample.get("finish_reason") == "length"


def to_sample_scores(problems: list[Problem], samples: Mapping[tuple[str, int], dict],
                     scores: Mapping[tuple[str, int], dict], n: int,
                     truncated: str = "grade") -> dict[str, list[SampleScore]]:
    """Metric input: per problem, its first n scored samples in index order (missing ones left out, so the
    metrics' exactly-n check reports an unfinished run instead of averaging over it), under the truncation policy."""
    out = {}
    for p in problems:
        rows = []
        for i in range(n):
            s, sc = samples.get((p.id, i)), scores.get((p.id, i))
            if s is None or sc is None:
                continue
            sc = graded(sc)
            if counted_wrong(s, truncated):
                rows.append(SampleScore(correct=False, answer=None, truncated=True,
                                        outcome="wrong" if sc.get("outcome") == "correct" else sc.get("outcome")))
                continue
            rows.append(SampleScore(correct=bool(sc["correct"]), answer=sc.get("answer_key"),
                                    outcome=sc.get("outcome", "wrong"),
                                    truncated=s.get("finish_reason") == "length"))
        out[p.id] = rows
    return out
