"""Replay recorded generations so they can be regraded without a model.

File format: JSONL (optionally gzipped, `.jsonl.gz`), one generation per line, UTF-8:

    {"problem_id": "aime24/3", "sample_index": 0, "text": "... \\boxed{204}", "finish_reason": "stop"}

- `problem_id` (string; numbers are turned into strings) and the text are required. The text is read from
  `text`, else `completion`, else `response` (the first of them present; it must be a string).
- `sample_index` (int >= 0) is optional: when a line has none, it is the count of earlier lines with the same
  problem_id, so a file written in order needs no indices. Mixing both styles for one problem is an error if it
  produces the same index twice.
- Optional: `finish_reason` (str), `num_tokens` (int), `seed` (int), `reasoning` (str). Other keys are ignored,
  so a run's own `samples.jsonl` replays as it is.

A line that is not valid JSON, not an object, lacks a required field, or repeats a (problem_id, sample_index)
pair raises `BackendError` naming the file and line number. With `strict=False` such lines are skipped and listed
in `bad_lines` for the caller to report. A file with no usable line (empty, or every line skipped) is an error.
A request with no recorded generation raises `BackendError` after every recorded one has been yielded.
"""
from __future__ import annotations

import gzip
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from mimo_eval.backends.common import BackendError, base_versions
from mimo_eval.types import Completion, Request, SamplingParams

TEXT_KEYS = ("text", "completion", "response")


@dataclass(frozen=True)
class BadLine:
    path: str
    line_number: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line_number}: {self.reason}"


class ReplayBackend:
    name = "replay"

    def __init__(self, path: str | Path, *, strict: bool = True, thinking_opened: bool | None = None):
        """thinking_opened: whether the recorded generations answered a prompt that ended inside an open thinking
        block (the recording does not say; None: unknown, graded from the response alone)."""
        self.path = Path(path)
        self.strict, self._thinking_opened = strict, thinking_opened
        self.bad_lines: list[BadLine] = []
        if not self.path.is_file():
            raise BackendError(f"replay file {self.path} does not exist: give the path of a generations JSONL file")
        self.records = self._load()
        if not self.records:   # said here: "no generation for 30 of 30 requests" would blame --n
            skipped = f" (all {len(self.bad_lines)} skipped as malformed)" if self.bad_lines else ""
            what = f"has no usable line{skipped}" if self.bad_lines else "is empty"
            raise BackendError(f"replay file {self.path} {what}: give a JSONL file with one generation per line")
        if self.bad_lines:
            warnings.warn(f"skipped {len(self.bad_lines)} malformed line(s) in {self.path}, first: {self.bad_lines[0]}")

    def keys(self) -> list[tuple[str, int]]:
        """The recorded (problem_id, sample_index) pairs, sorted, so a caller can build matching requests."""
        return sorted(self.records)

    def generate(self, requests: Sequence[Request], sampling: SamplingParams) -> Iterator[Completion]:
        missing = []
        for request in requests:
            record = self.records.get((request.problem_id, request.sample_index))
            if record is None:
                missing.append(request)
            else:
                yield record
        if missing:
            first = missing[0]
            raise BackendError(
                f"{self.path} has no generation for {len(missing)} of {len(requests)} requests (first: "
                f"{first.problem_id} sample {first.sample_index}): ask for fewer samples (--n) or record them"
            )

    def versions(self) -> dict[str, str]:
        return base_versions()

    def config(self) -> dict:
        return {"backend": self.name, "path": str(self.path), "strict": self.strict, "records": len(self.records)}

    def thinking_opened(self, request: Request) -> bool | None:
        return self._thinking_opened

    def _load(self) -> dict[tuple[str, int], Completion]:
        records: dict[tuple[str, int], Completion] = {}
        next_index: dict[str, int] = {}
        opener = gzip.open if self.path.suffix == ".gz" else open
        with opener(self.path, "rt", encoding="utf-8") as f:
            for line_number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    completion = _parse_line(line, next_index)
                    key = (completion.problem_id, completion.sample_index)
                    if key in records:
                        raise ValueError(f"repeats problem_id {key[0]!r} sample_index {key[1]}")
                except ValueError as e:
                    bad = BadLine(str(self.path), line_number, str(e))
                    if self.strict:
                        # the flag a user types, not the parameter (strict=False) it sets
                        raise BackendError(f"{bad}; fix or delete the line, or pass --skip-bad-lines to skip it")
                    self.bad_lines.append(bad)
                    continue
                records[key] = completion
                next_index[completion.problem_id] = max(next_index.get(completion.problem_id, 0), key[1] + 1)
        return records


def _parse_line(line: str, next_index: dict[str, int]) -> Completion:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    problem_id = row.get("problem_id")
    if not isinstance(problem_id, (str, int)) or isinstance(problem_id, bool):
        raise ValueError("missing 'problem_id' (string)")
    problem_id = str(problem_id)
    text_key = next((k for k in TEXT_KEYS if k in row), None)
    if text_key is None or not isinstance(row[text_key], str):
        raise ValueError("missing the generation: a string field 'text' (or 'completion' / 'response')")
    index = row.get("sample_index", next_index.get(problem_id, 0))
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"'sample_index' must be an integer >= 0, got {index!r}")
    return Completion(
        problem_id=problem_id,
        sample_index=index,
        text=row[text_key],
        finish_reason=_optional(row, "finish_reason", str),
        num_tokens=_optional(row, "num_tokens", int),
        seed=_optional(row, "seed", int),
        reasoning=_optional(row, "reasoning", str),
    )


def _optional(row: dict, key: str, kind: type):
    value = row.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ValueError(f"'{key}' must be {kind.__name__} or null, got {value!r}")
    return value
