"""LiveCodeBench code generation (Jain et al. 2024, https://livecodebench.github.io): Python programs judged on tests.

MiMo-7B windows (arXiv 2505.07608 §3.5.1): v5 = problems dated 2024-08-01 to 2025-02-01 (279 problems), v6 =
2025-02-01 to 2025-05-01; pass@1 averaged over 8 samples. Windows are half-open [start, end) so v5 and v6 never
share a problem. Data: `livecodebench/code_generation_lite` through `datasets` (files test.jsonl..test6.jsonl =
release_v6), or a local copy (`--data-path` / $LCB_DATA_PATH: a `save_to_disk` folder or a JSON/JSONL dump in the
upstream schema). `private_test_cases` are decoded as upstream stores them (JSON, else base64 -> zlib -> pickle ->
JSON) with an unpickler that refuses every global. Prompts: LiveCodeBench's DeepSeek-R1 style, one for stdin
problems and one for functional (starter-code) problems, as the user turn (the backend applies the chat template).
"""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from benchmarks.common import DATA_DIR, BenchmarkDataError
from benchmarks.types import Problem

log = logging.getLogger(__name__)

DEFAULT_N = 8
BREAKDOWN_KEYS = ("difficulty", "platform")
WINDOWS = {"v5": ("2024-08-01", "2025-02-01"), "v6": ("2025-02-01", "2025-05-01")}
HUB_DATASET = "livecodebench/code_generation_lite"
HUB_FILES = ["test.jsonl"] + [f"test{i}.jsonl" for i in range(2, 7)]   # release_v6 = the first six files
SAMPLE_FILE = DATA_DIR / "lcb_sample.jsonl"
DATA_PATH_ENV = "LCB_DATA_PATH"

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
    rows = _read_rows(data_path or os.environ.get(DATA_PATH_ENV))
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
    tests = _decoded(row, "public_test_cases", where, qid, _json_list) \
        + _decoded(row, "private_test_cases", where, qid, decode_private_tests)
    if not tests:
        log.warning("livecodebench %s (%s) has no tests: skipped; check that the dump includes "
                    "public_test_cases/private_test_cases", where, qid)
        return None
    starter = row.get("starter_code") or ""
    meta = _decoded(row, "metadata", where, qid, _json_dict)
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


def _decoded(row: dict, field: str, where: str, qid, decode):
    """A packed field of a row, decoded; what does not decode is named (row, id, field), never a traceback."""
    try:
        value = decode(row.get(field))
    except BenchmarkDataError:
        raise
    except Exception as err:  # noqa: BLE001 - JSON, base64, zlib and pickle each raise their own kinds
        raise BenchmarkDataError(f"livecodebench {where} ({qid}): {field} does not decode ({type(err).__name__}: "
                                 f"{str(err)[:80]}); check the dump or re-download it") from None
    if field == "metadata":
        if not isinstance(value, dict):
            raise BenchmarkDataError(f"livecodebench {where} ({qid}): metadata is not a JSON object; check the dump")
    elif not isinstance(value, list) or not all(isinstance(t, dict) and "input" in t and "output" in t
                                                for t in value):
        raise BenchmarkDataError(f"livecodebench {where} ({qid}): {field} is not a list of tests with input and "
                                 "output; check the dump")
    return value


def decode_private_tests(packed) -> list[dict]:
    """LiveCodeBench's packing: a JSON list, else base64 -> zlib -> pickle (of a JSON string) -> JSON list,
    decoded by the code grader's refusing unpickler (pickle runs code on load; test data needs no globals)."""
    if not packed:
        return []
    if isinstance(packed, list):
        return packed
    from graders.code.lcb_tests import decode_private_test_cases

    return decode_private_test_cases(packed)


def _read_rows(data_path: str | None) -> list[dict]:
    if data_path:
        path = Path(data_path)
        if path.is_dir():
            from datasets import load_from_disk

            return list(load_from_disk(str(path)))
        if not path.is_file():
            raise BenchmarkDataError(f"LiveCodeBench data path {path} does not exist: give a `save_to_disk` folder "
                                     "or a JSON/JSONL dump of livecodebench/code_generation_lite")
        return _read_json_rows(path)
    try:
        from datasets import load_dataset

        return list(load_dataset(HUB_DATASET, data_files=HUB_FILES, split="train"))
    except Exception as err:  # noqa: BLE001 - any hub failure gets the same advice
        raise BenchmarkDataError(f"cannot load {HUB_DATASET} from the Hugging Face hub ({type(err).__name__}); "
                                 f"pass --data-path (or set {DATA_PATH_ENV}) to a local copy, or use "
                                 "the bundled sample: benchmark lcb_sample") from None


def _read_json_rows(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise BenchmarkDataError(f"{path}:{number}: malformed JSONL line ({err.msg}); repair or delete that "
                                     "line") from None
    return rows


def _json_list(value) -> list:
    if not value:
        return []
    return value if isinstance(value, list) else json.loads(value)


def _json_dict(value) -> dict:
    if not value:
        return {}
    return value if isinstance(value, dict) else json.loads(value)


def method_name(starter_code: str) -> str | None:
    """LeetCode starter code names the method to call: `def <name>(self, ...)`."""
    match = re.search(r"def\s+(\w+)\s*\(\s*self", starter_code)
    return match.group(1) if match else None
