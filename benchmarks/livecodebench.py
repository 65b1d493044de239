"""LiveCodeBench code generation (Jain et al. 2024, https://livecodebench.github.io): Python programs judged on tests.

MiMo-7B windows (arXiv 2505.07608 §3.5.1): v5 = problems dated 2024-08-01 to 2025-02-01 (279 problems), v6 =
2025-02-01 to 2025-05-01; pass@1 averaged over 8 samples. Windows are half-open [start, end) so v5 and v6 never
share a problem. Data: `livecodebench/code_generation_lite` through `datasets` (files test.jsonl..test6.jsonl =
release_v6), or a local copy (`--data-path` / $LCB_DATA_PATH: a `save_to_disk` folder or a JSON/JSONL dump in the
upstream schema), read by benchmarks/lcb_data.py. `private_test_cases` are decoded as upstream stores them (JSON,
else base64 -> zlib -> pickle -> JSON) with an unpickler that refuses every global. Prompts: LiveCodeBench's
DeepSeek-R1 style, one for stdin problems and one for functional (starter-code) problems, as the user turn (the
backend applies the chat template).
"""
from __future__ import annotations

import logging
import os
import re

from benchmarks.common import DATA_DIR, BenchmarkDataError
from benchmarks.lcb_data import DATA_PATH_ENV, decoded, json_dict, json_list, read_rows
from benchmarks.types import Problem

log = logging.getLogger(__name__)

DEFAULT_N = 8
BREAKDOWN_KEYS = ("difficulty", "platform")
WINDOWS = {"v5": ("2024-08-01", "2025-02-01"), "v6": ("2025-02-01", "2025-05-01")}
SAMPLE_FILE = DATA_DIR / "lcb_sample.jsonl"

_INTRO = ("You will be given a question (problem specification) and will generate a correct Python program that "
          "matches the specification and passes all tests.\n\nQuestion: {question}\n\n")
PROMPT_STDIN = _INTRO + (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the "
    "sample inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, it "
    "reads the inputs, runs the algorithm and writes output to STDOUT.\n```python\n# YOUR CODE HERE\n```\n\n")
PROMPT_FUNCTIONAL = _INTRO + (
    "You will use the following starter code to write the solution to the problem and enclose your code within "
    "delimiters.\n```python\n{starter_code}\n```\n\n")
PROMPT = PROMPT_STDIN + "\n---\n" + PROMPT_FUNCTIONAL   # both templates, for the run record and its hash


def load(*, release: str | None = None, start_date: str | None = None, end_date: str | None = None,
         data_path: str | None = None) -> list[Problem]:
    """Problems dated in [start, end): a release window's dates unless start_date/end_date override them."""
    start, end = WINDOWS[release] if release else (None, None)
    start, end = start_date or start, end_date or end
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if value is not None and not is_iso_date(value):
            raise ValueError(f"{name} must be an ISO date YYYY-MM-DD, got {value!r}")
    if start and end and start >= end:
        raise ValueError(f"the date window [{start}, {end}) is empty: --start-date must be before --end-date")
    rows = read_rows(data_path or os.environ.get(DATA_PATH_ENV))
    problems = []
    for number, row in enumerate(rows, 1):
        date = str(row.get("contest_date", ""))[:10]
        if (start and date < start) or (end and date >= end):
            continue
        problem = to_problem(row, where=f"row {number}")
        if problem is not None:
            problems.append(problem)
    if not problems:
        raise BenchmarkDataError(f"no LiveCodeBench problems dated in [{start}, {end}): check --start-date/--end-date "
                                 "or give data that covers them (--data-path)")
    return problems


def is_iso_date(text: str) -> bool:
    """YYYY-MM-DD and a real date. The window compares date strings, so anything else would select everything."""
    import datetime

    try:
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)) and datetime.date.fromisoformat(text) is not None
    except ValueError:
        return False


def load_sample() -> list[Problem]:
    """The bundled sample (upstream schema, see benchmarks/data/README.md): for tests and the demo."""
    return load(data_path=str(SAMPLE_FILE))


def to_problem(row: dict, *, where: str = "") -> Problem | None:
    """One upstream row as a Problem; a row without tests is skipped with a warning (it cannot be graded). A row
    without its id or statement, or with tests that do not decode, is an error naming the row and the field."""
    qid = row.get("question_id")
    if not isinstance(qid, (str, int)) or not str(qid).strip():
        raise BenchmarkDataError(f"livecodebench {where}: no question_id: every problem needs its own id; check "
                                 "that the dump keeps the upstream schema (livecodebench/code_generation_lite)")
    if not isinstance(row.get("question_content"), str):
        raise BenchmarkDataError(f"livecodebench {where} ({qid}): no question_content (the problem statement); "
                                 "check the dump")
    tests = decoded(row, "public_test_cases", where, qid, json_list) \
        + decoded(row, "private_test_cases", where, qid, decode_private_tests)
    if not tests:
        log.warning("livecodebench %s (%s) has no tests: skipped; check that the dump includes "
                    "public_test_cases/private_test_cases", where, qid)
        return None
    starter = row.get("starter_code") or ""
    meta = decoded(row, "metadata", where, qid, json_dict)
    fn_name = meta.get("func_name") or method_name(starter)
    if starter and not fn_name:
        log.warning("livecodebench %s (%s): functional problem without a function name: skipped", where, qid)
        return None
    # str.replace, not format: statements are full of braces; the statement goes in last
    template = PROMPT_FUNCTIONAL.replace("{starter_code}", starter) if starter else PROMPT_STDIN
    prompt = template.replace("{question}", row["question_content"])
    return Problem(
        id=f"lcb/{qid}", prompt=prompt, grader="code",
        reference={"tests": tests, "fn_name": fn_name if starter else None, "starter_code": starter},
        metadata={"difficulty": row.get("difficulty"), "platform": row.get("platform"),
                  "contest_date": str(row.get("contest_date", ""))[:10], "question_id": qid,
                  "contest_id": row.get("contest_id"), "title": row.get("question_title"),
                  "question_content": row["question_content"],   # for LiveCodeBench's own result format
                  "testtype": "functional" if starter else "stdin"})


def decode_private_tests(packed) -> list[dict]:
    """LiveCodeBench's packing: a JSON list, else base64 -> zlib -> pickle (of a JSON string) -> JSON list,
    decoded by the code grader's refusing unpickler (pickle runs code on load; test data needs no globals)."""
    if not packed:
        return []
    if isinstance(packed, list):
        return packed
    from graders.code.lcb_tests import decode_private_test_cases

    return decode_private_test_cases(packed)


def method_name(starter_code: str) -> str | None:
    """LeetCode starter code names the method to call: `def <name>(self, ...)`."""
    match = re.search(r"def\s+(\w+)\s*\(\s*self", starter_code)
    return match.group(1) if match else None
