"""LiveCodeBench's rows in the upstream schema (`livecodebench/code_generation_lite`): read from the hub through
`datasets`, from a `save_to_disk` folder or from a JSON/JSONL dump, and their packed fields decoded, each failure
one error naming the row, the problem and the field (benchmarks/livecodebench.py turns rows into problems).
"""
from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import BenchmarkDataError

HUB_DATASET = "livecodebench/code_generation_lite"
HUB_FILES = ["test.jsonl"] + [f"test{i}.jsonl" for i in range(2, 7)]   # release_v6 = the first six files
DATA_PATH_ENV = "LCB_DATA_PATH"


def read_rows(data_path: str | None) -> list[dict]:
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


def json_list(value) -> list:
    if not value:
        return []
    return value if isinstance(value, list) else json.loads(value)


def json_dict(value) -> dict:
    if not value:
        return {}
    return value if isinstance(value, dict) else json.loads(value)


def decoded(row: dict, field: str, where: str, qid, decode):
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
