"""What the benchmark modules share: the bundled-data reader and the math prompt (DeepSeek-R1's directive)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from benchmarks.types import Problem

DATA_DIR = Path(__file__).parent / "data"

# MiMo does not publish its prompt; DeepSeek-R1's usage recommendation is the most defensible default
# (research/eval_harness.md §4). The directive follows the problem in the user turn; no system prompt.
# "{problem}" is filled with str.replace, not format: problems are full of braces.
MATH_PROMPT = "{problem}\nPlease reason step by step, and put your final answer within \\boxed{}."


class BenchmarkDataError(RuntimeError):
    """Benchmark data is missing or does not look as expected; the message says what to do."""


def read_bundled(name: str, expected_rows: int, required: tuple[str, ...] = ()) -> list[dict]:
    """Rows of a bundled JSONL file, failing loudly (file, line, what is missing) if a row lacks a `required`
    field or the row count is not the published one."""
    path = DATA_DIR / name
    if not path.is_file():
        raise BenchmarkDataError(f"{path} is missing: reinstall mimo-eval (the package ships it)")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise BenchmarkDataError(f"{path}:{number}: not valid JSON ({err.msg}): the file was altered; "
                                     "reinstall mimo-eval") from None
        missing = [k for k in required if not isinstance(row, dict) or row.get(k) in (None, "")]
        if missing:
            raise BenchmarkDataError(f"{path}:{number}: no {', '.join(map(repr, missing))}: the file was altered; "
                                     "reinstall mimo-eval")
        rows.append(row)
    if len(rows) != expected_rows:
        raise BenchmarkDataError(f"{path} has {len(rows)} rows, expected {expected_rows}: the file was altered; "
                                 "reinstall mimo-eval")
    return rows


def math_problem(problem_id: str, problem: str, answer: str, metadata: dict) -> Problem:
    return Problem(id=problem_id, prompt=MATH_PROMPT.replace("{problem}", problem), reference=str(answer),
                   grader="math", metadata=metadata)


def prompt_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
