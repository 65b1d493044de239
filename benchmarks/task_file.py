"""A task of your own from a JSONL file, graded by the math or the code grader, without writing code:

    mimo-eval run --task-file my_task.jsonl --grader math --model M --backend openai --n 4

One JSON object per line. Math: `{"id": "q1", "problem": "What is 1 + 1?", "answer": "2"}`. Code:
`{"id": "p1", "problem": "Read a and b, print a + b.", "tests": [{"input": "1 2\n", "output": "3\n"}]}`, and for a
LeetCode-style problem `"starter_code": "class Solution:\n    def add(self, a, b):"` (the method named there, or
`"fn_name"`, is called with each test's input lines as JSON arguments, as LiveCodeBench does).

The prompt is `prompt` verbatim when a row has one; else `problem` fills the template (`--prompt-template` with
`{problem}`; default: the math benchmarks' directive, or LiveCodeBench's stdin / starter-code prompt). `id` is
optional (default: the line number) and must be unique. Other keys are kept as metadata. The benchmark is named
after the file (`my_task`), defaults to one sample per problem, and a changed file makes the run incomparable,
like any other benchmark data.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks.common import MATH_PROMPT, BenchmarkDataError
from benchmarks.livecodebench import PROMPT, PROMPT_FUNCTIONAL, PROMPT_STDIN, method_name
from benchmarks.types import Benchmark, Problem

OPTIONS = ("task_file", "grader", "prompt_template")
GRADERS = ("math", "code")
DEFAULT_N = 1


def benchmark(*, task_file: str, grader: str, prompt_template: str | None = None) -> Benchmark:
    """The Benchmark for a task file; its options are recorded in the run, so `score` and `merge` rebuild it."""
    if grader not in GRADERS:
        raise ValueError(f"--grader must be one of {', '.join(GRADERS)}, got {grader!r}")
    if prompt_template is not None and "{problem}" not in prompt_template:
        raise ValueError("--prompt-template must contain {problem} (where each row's problem text goes)")
    template = prompt_template or (MATH_PROMPT if grader == "math" else PROMPT.replace("{question}", "{problem}"))
    return Benchmark(name=task_name(task_file), load=load, default_n=DEFAULT_N, prompt=template, grader=grader,
                     options=OPTIONS)


def task_name(task_file: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", Path(task_file).stem) or "task"


def load(*, task_file: str, grader: str, prompt_template: str | None = None) -> list[Problem]:
    path = Path(task_file)
    if not path.is_file():
        raise BenchmarkDataError(f"task file {path} does not exist: give a JSONL file with one problem per line")
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            problems.append(_problem(_row(line, f"{path}:{number}"), number, grader, prompt_template,
                                     f"{path}:{number}"))
    if not problems:
        raise BenchmarkDataError(f"task file {path} has no problems: one JSON object per line")
    return problems


def _row(line: str, where: str) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise BenchmarkDataError(f"{where}: not valid JSON ({err.msg}); one JSON object per line") from None
    if not isinstance(row, dict):
        raise BenchmarkDataError(f"{where}: a JSON {type(row).__name__}, not an object")
    return row


def _problem(row: dict, number: int, grader: str, template: str | None, where: str) -> Problem:
    text = row.get("prompt", row.get("problem"))
    if not isinstance(text, str) or not text.strip():
        raise BenchmarkDataError(f"{where}: no 'problem' (or 'prompt') text")
    problem_id = str(row.get("id", number))
    metadata = {k: v for k, v in row.items() if k not in ("id", "prompt", "problem", "answer", "tests")}
    if grader == "math":
        answer = row.get("answer")
        if answer is None or isinstance(answer, (dict, list)) or not str(answer).strip():
            raise BenchmarkDataError(f"{where}: no 'answer' (the gold answer as text or a number)")
        prompt = text if "prompt" in row else (template or MATH_PROMPT).replace("{problem}", text)
        return Problem(id=problem_id, prompt=prompt, reference=str(answer), grader="math", metadata=metadata)
    starter = row.get("starter_code") or ""
    fn_name = row.get("fn_name") or (method_name(starter) if starter else None)
    if starter and not fn_name:
        raise BenchmarkDataError(f"{where}: starter_code names no method `def name(self, ...)`: add 'fn_name'")
    reference = {"tests": _tests(row.get("tests"), where), "fn_name": fn_name, "starter_code": starter}
    if "prompt" in row:
        prompt = text
    elif template:
        prompt = template.replace("{problem}", text)
    else:
        prompt = (PROMPT_FUNCTIONAL.replace("{starter_code}", starter) if starter else PROMPT_STDIN) \
            .replace("{question}", text)
    return Problem(id=problem_id, prompt=prompt, reference=reference, grader="code", metadata=metadata)


def _tests(tests, where: str) -> list[dict]:
    if not isinstance(tests, list) or not tests:
        raise BenchmarkDataError(f"{where}: no 'tests' (a list of {{\"input\": ..., \"output\": ...}})")
    for i, test in enumerate(tests):
        if not isinstance(test, dict) or not isinstance(test.get("input"), str) \
                or not isinstance(test.get("output"), str):
            raise BenchmarkDataError(f"{where}: tests[{i}] must be {{\"input\": TEXT, \"output\": TEXT}}")
    return [{"input": t["input"], "output": t["output"]} for t in tests]
