"""`mimo-eval show RUN`: why each sample was graded as it was, read from the run directory alone.

    mimo-eval show runs/M__aime24 --wrong --limit 5
    mimo-eval show runs/M__aime24 --problem aime24/7

For each sample (in the order stored): its outcome and the grader's reason, the gold answer, the extracted
answer, the grader's detail, the finish reason and token count, the server and model that produced it, and the
last characters of the response. Code samples show their per-test verdicts instead of an extracted answer.
The same facts are in scores.jsonl, so `jq 'select(.outcome == "wrong") | {problem_id, gold, extracted, reason}'
runs/M__aime24/scores.jsonl` answers the question without this command.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from mimo_eval.harness.scoring import counted_wrong, graded
from mimo_eval.harness.files import latest_by_key
from mimo_eval.harness.store import RunStore, comparable

FILTERS = {"wrong": "wrong", "no_answer": "no_answer", "timeout": "timeout", "error": "error"}


def select(run_dir: Path, *, problem: str | None = None, outcome: str | None = None,
           truncated: bool = False) -> list[tuple[dict, dict | None]]:
    """(sample, score row or None) pairs in stored order, filtered by problem id and outcome."""
    store = RunStore.existing(run_dir)
    run_dir = store.path
    samples, scores = latest_by_key(store.samples()), latest_by_key(store.scores())
    policy = comparable(store.config, "truncated")
    if problem is not None:
        ids = {pid for pid, _ in samples}
        if problem not in ids:   # a bare number or name also finds "aime24/7"
            matches = {pid for pid in ids if pid.rsplit("/", 1)[-1] == problem}
            if len(matches) != 1:
                raise ValueError(f"no problem {problem!r} in {run_dir} (ids look like {sorted(ids)[:3]})")
            problem = matches.pop()
    rows = []
    for key, sample in samples.items():
        score = _as_counted(scores.get(key), sample, policy)
        if problem is not None and key[0] != problem:
            continue
        if outcome is not None and (score or {}).get("outcome", "ungraded") != outcome:
            continue
        if truncated and sample.get("finish_reason") != "length":
            continue
        rows.append((sample, score))
    return rows


def _as_counted(score: dict | None, sample: dict, policy: str) -> dict | None:
    """The score row as the summary counts it: under `--truncated wrong` a cut-off sample is wrong, and says why."""
    if score is None:
        return None
    score = graded(score)
    if not counted_wrong(sample, policy):
        return score
    outcome = "wrong" if score.get("outcome") == "correct" else score.get("outcome")
    return {**score, "outcome": outcome, "correct": False, "counted_wrong": "truncated"}


def render(rows: list[tuple[dict, dict | None]], *, limit: int | None = None, tail: int = 300) -> str:
    shown = rows[:limit] if limit else rows
    blocks = [_block(sample, score, tail) for sample, score in shown]
    outcomes = Counter((score or {}).get("outcome", "ungraded") for _, score in rows)
    head = f"{len(shown)} of {len(rows)} matching samples (" + ", ".join(f"{k} {v}" for k, v in
                                                                       sorted(outcomes.items())) + ")"
    return "\n\n".join([head, *blocks]) + "\n"


def _block(sample: dict, score: dict | None, tail: int) -> str:
    score = score or {"outcome": "ungraded", "reason": "not graded yet: run `mimo-eval score RUN`"}
    lines = [f"{sample['problem_id']} #{sample['sample_index']}  {score.get('outcome')}  "
             f"(reason: {score.get('reason')}" + (f", counted wrong: {score['counted_wrong']}"
                                                  if score.get("counted_wrong") else "") + ")"]
    if score.get("per_test") is not None:
        verdicts = Counter(score["per_test"])
        lines.append("  tests: " + " ".join(f"{v} {c}" for v, c in sorted(verdicts.items()))
                     + (f"; infra error: {score['infra_error']}" if score.get("infra_error") else ""))
    else:
        lines.append(f"  gold: {score.get('gold', '?')}    extracted: {score.get('extracted')}")
    if score.get("detail"):
        lines.append(f"  detail: {' '.join(str(score['detail']).split())[:300]}")
    made_by = ", ".join(f"{k} {sample[k]}" for k in ("server", "model") if sample.get(k))
    lines.append(f"  finish: {sample.get('finish_reason')}, {sample.get('num_tokens')} tokens"
                 + (f", {made_by}" if made_by else "")
                 + (f", reasoning {len(sample['reasoning'])} chars" if sample.get("reasoning") else ""))
    text = sample.get("text") or ""
    cut = text[-tail:] if tail > 0 else ""
    prefix = "..." if len(text) > len(cut) else ""
    lines.append("  response tail: " + (prefix + cut).replace("\n", "\n    "))
    return "\n".join(lines)
