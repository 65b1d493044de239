"""The replay backend: recorded generations read back from JSONL (the format in mimo_eval/backends/replay.py).

Covers: explicit and order-derived sample indices, the text field's aliases, gzip, optional fields, each kind of
malformed line as a one-line error naming file and line (strict) or collected in `bad_lines` (strict=False),
requests with no recording, and replaying the shared Qwen2.5-Math record (100 MATH problems x 8 samples,
shared/data/math_grader_heldout/qwen25math_math_cot_100.jsonl) converted to the per-sample format.

Run: python -m pytest -q tests/test_backends_replay.py
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import shared_data

from mimo_eval.backends import BackendError, make_backend
from mimo_eval.backends.replay import ReplayBackend
from mimo_eval.types import Request, SamplingParams

QWEN_RECORD = "math_grader_heldout/qwen25math_math_cot_100.jsonl"   # in ../shared/data beside the checkout


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def request(problem_id: str, index: int) -> Request:
    return Request(problem_id=problem_id, sample_index=index, messages=(), seed=0)


def test_explicit_indices_and_optional_fields(tmp_path):
    path = write_lines(tmp_path / "g.jsonl", [
        {"problem_id": "aime24/1", "sample_index": 1, "text": "B", "finish_reason": "length", "num_tokens": 9},
        {"problem_id": "aime24/1", "sample_index": 0, "text": "A", "seed": 42, "reasoning": "think"},
    ])
    backend = ReplayBackend(path)
    first, second = backend.generate([request("aime24/1", 0), request("aime24/1", 1)], SamplingParams())
    assert (first.text, first.seed, first.reasoning) == ("A", 42, "think")
    assert (second.text, second.finish_reason, second.num_tokens) == ("B", "length", 9)


def test_indices_follow_file_order_when_absent_and_text_aliases(tmp_path):
    path = write_lines(tmp_path / "g.jsonl", [
        {"problem_id": 7, "completion": "first"},
        {"problem_id": "8", "response": "other"},
        {"problem_id": 7, "text": "second"},
        "",
    ])
    backend = ReplayBackend(path)
    assert backend.keys() == [("7", 0), ("7", 1), ("8", 0)]
    replayed = backend.generate([request("7", 1), request("7", 0)], SamplingParams())
    assert [c.text for c in replayed] == ["second", "first"]


def test_gzip_file(tmp_path):
    path = tmp_path / "g.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"problem_id": "p", "text": "x"}) + "\n")
    assert ReplayBackend(path).keys() == [("p", 0)]


BAD_LINES = [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object, got list"),
    ('{"text": "no id"}', "missing 'problem_id'"),
    ('{"problem_id": "p"}', "missing the generation"),
    ('{"problem_id": "p", "text": ["a", "b"]}', "missing the generation"),
    ('{"problem_id": "p", "text": "x", "sample_index": -1}', "'sample_index' must be an integer >= 0"),
    ('{"problem_id": "p", "text": "x", "sample_index": "3"}', "'sample_index' must be an integer >= 0"),
    ('{"problem_id": "p", "text": "x", "num_tokens": "many"}', "'num_tokens' must be int"),
    ('{"problem_id": "p", "text": "dup", "sample_index": 0}', "repeats problem_id 'p' sample_index 0"),
]


@pytest.mark.parametrize("line, reason", BAD_LINES)
def test_malformed_line_is_a_one_line_error_naming_file_and_line(tmp_path, line, reason):
    path = write_lines(tmp_path / "g.jsonl", [{"problem_id": "p", "text": "ok"}, line])
    with pytest.raises(BackendError) as e:
        ReplayBackend(path)
    message = str(e.value)
    assert message.startswith(f"{path}:2: ") and reason in message and "--skip-bad-lines" in message
    assert "\n" not in message


def test_lenient_mode_collects_bad_lines_and_keeps_the_rest(tmp_path):
    path = write_lines(tmp_path / "g.jsonl", [{"problem_id": "p", "text": "ok"}] + [line for line, _ in BAD_LINES])
    with pytest.warns(UserWarning, match=f"skipped {len(BAD_LINES)} malformed line"):
        backend = ReplayBackend(path, strict=False)
    assert [bad.line_number for bad in backend.bad_lines] == list(range(2, 2 + len(BAD_LINES)))
    assert backend.keys() == [("p", 0)]


def test_missing_recordings_raise_after_the_recorded_ones(tmp_path):
    backend = ReplayBackend(write_lines(tmp_path / "g.jsonl", [{"problem_id": "p", "text": "ok"}]))
    got = []
    with pytest.raises(BackendError, match="has no generation for 2 of 3 requests \\(first: p sample 1\\)"):
        for completion in backend.generate([request("p", 0), request("p", 1), request("q", 0)], SamplingParams()):
            got.append(completion)
    assert [c.text for c in got] == ["ok"]


def test_missing_file(tmp_path):
    with pytest.raises(BackendError, match="does not exist"):
        make_backend("replay", path=tmp_path / "nope.jsonl")


def test_replays_recorded_qwen25_math_generations(tmp_path):
    rows = [json.loads(line) for line in shared_data(QWEN_RECORD).read_text().splitlines()]
    path = write_lines(tmp_path / "samples.jsonl", [
        {"problem_id": f"math/{row['idx']}", "sample_index": i, "text": text}
        for row in rows for i, text in enumerate(row["code"])])
    backend = ReplayBackend(path)
    requests = [request(f"math/{row['idx']}", i) for row in rows for i in range(8)]
    completions = list(backend.generate(requests, SamplingParams()))
    assert len(completions) == 800 and len(rows) == 100
    assert completions[3].text == rows[0]["code"][3]
    assert backend.config() == {"backend": "replay", "path": str(path), "strict": True, "records": 800}
