"""`mimo-eval show` and `mimo-eval audit`, and what scores.jsonl says alone, through the real CLI against a fake
OpenAI-compatible server on 127.0.0.1 (tests/fake_openai_server.py; the real math grader; aime24).

The fake model answers aime24 in four ways, each chosen for what it exercises: right in a box (even-numbered
problems), a wrong integer in a box (odd ones but 1, 3 and 5), no answer (problem 1), the right number followed
by a unit word with no box ("Final answer: N apples", problems 3 and 5), which Math-Verify 0.9.0 accepts and our
grader does not (it reads the answer as "N apples"); exactly those samples are the audit's differences. On a
loaded machine our grader's 1 s deadline can run out on a sample (a masked `timeout`, counted not-correct): a
right answer that timed out is then one more difference, and the expectations below count it so.

Covers: score rows carry gold, extracted and reason (a wrong sample's "why" from the file alone); show lists
only the asked outcome with gold, extracted answer, reason, finish reason, tokens, server, model and the
response's tail; --problem by id or number; --limit; audit's two pass@1 values and its list of differences;
audit refuses a run graded before score rows carried the gold.

Run: python -m pytest -q tests/test_show_audit.py
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fake_openai_server import FakeOpenAIServer, answers_for
from mimo_eval.cli import main

MODEL = FakeOpenAIServer.model


def four_ways(problem) -> tuple[str, str]:
    number = int(problem.metadata["problem_number"])
    if number == 1:
        return "I could not finish this one.", "length"
    if number in (3, 5):
        return f"Final answer: {problem.reference} apples", "stop"
    return f"so \\boxed{{{problem.reference if number % 2 == 0 else 1000}}}", "stop"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("show")
    with FakeOpenAIServer(script=answers_for("aime24", four_ways)) as server:
        assert main(["run", "aime24", "--model", MODEL, "--backend", "openai", "--base-url", server.base_url,
                     "--out", str(out), "--n", "1", "--no-progress"]) == 0
    return out / f"{MODEL}__aime24"


def scores(run: Path) -> dict[str, dict]:
    return {r["problem_id"]: r for r in map(json.loads, (run / "scores.jsonl").read_text().splitlines())}


def test_score_rows_say_why_a_sample_is_wrong(run):
    wrong = [r for r in scores(run).values() if r["outcome"] == "wrong"]
    assert len(wrong) >= 12   # boxed 1000 on 3, 5, 7..15 of both exams, "N apples" on 3 and 5 (timeouts aside)
    assert all(r["reason"] == "wrong" and r["gold"] and r["extracted"] not in (None, r["gold"]) for r in wrong)
    assert {r["extracted"] for r in wrong} == {"1000"} | {f"{r['gold']} apples" for r in wrong
                                                          if r["extracted"].endswith("apples")}


def test_show_lists_only_the_asked_outcome_with_its_facts(run, capsys):
    assert main(["show", str(run), "--no-answer"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 of 2 matching samples (no_answer 2)")
    assert out.count("  no_answer  (reason: no_answer)") == 2
    assert "finish: length, 6 tokens" in out and f"model {MODEL}" in out and "server http://127.0.0.1:" in out
    assert "response tail: I could not finish this one." in out and "wrong  (" not in out


def test_show_one_problem_by_its_short_id(run, capsys):
    pid = next(p for p in scores(run) if p.endswith("I-7"))
    assert main(["show", str(run), "--problem", pid.rsplit("/", 1)[-1]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 of 1 matching samples (wrong 1)")
    assert f"gold: {scores(run)[pid]['gold']}    extracted: 1000" in out


def test_show_limit_and_an_unknown_problem(run, capsys):
    wrong = sum(r["outcome"] == "wrong" for r in scores(run).values())
    assert main(["show", str(run), "--wrong", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"3 of {wrong} matching samples (wrong {wrong})") and out.count("  wrong  (reason") == 3
    assert main(["show", str(run), "--problem", "no-such"]) == 2
    assert "no problem 'no-such'" in capsys.readouterr().err


def test_audit_lists_exactly_the_samples_the_graders_disagree_on(run, capsys):
    samples = {r["problem_id"]: r["text"] for r in map(json.loads, (run / "samples.jsonl").read_text().splitlines())}
    apples = {p for p, text in samples.items() if "apples" in text}
    timed_out_right = {p for p, r in scores(run).items()
                       if r["outcome"] == "timeout" and samples[p] == f"so \\boxed{{{r['gold']}}}"}
    assert main(["audit", str(run), "--against", "math-verify"]) == 0
    out = capsys.readouterr().out
    ours = 100 * (14 - len(timed_out_right)) / 30   # the 14 boxed right answers
    assert f"| mimo-eval | {ours:.2f} |" in out
    assert "| math-verify 0.9.0 | 60.00 |" in out    # and the four "N apples"
    listed = {line.split("#")[0].strip("| ") for line in out.splitlines() if line.startswith("| aime24/")}
    assert len(apples) == 4 and listed == apples | timed_out_right
    assert f"{len(listed)} samples where the verdicts differ" in out


def test_audit_refuses_rows_without_gold(run, tmp_path, capsys):
    old = tmp_path / "old_run"
    old.mkdir()
    for name in ("config.json", "samples.jsonl"):
        (old / name).write_bytes((run / name).read_bytes())
    rows = [{k: v for k, v in r.items() if k != "gold"} for r in scores(run).values()]   # as graded before gold
    (old / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["audit", str(old), "--against", "math-verify"]) == 2
    assert "mimo-eval score RUN --rescore" in capsys.readouterr().err
