"""The files of a run directory and how each is read back: every line checked (a JSON object, its keys and their
types), a damaged line or JSON file one error naming the file, the line and what to do; a torn last line (a write
cut by kill -9 or a full disk) moved aside; JSON files replaced atomically.
"""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

SAMPLES, SCORES, CONFIG, SUMMARY, LOCK = "samples.jsonl", "scores.jsonl", "config.json", "summary.json", "run.lock"
COST = "cost.jsonl"   # one line per invocation (mimo_eval/harness/cost.py)


CONFIG_DAMAGED = "it records the run's settings: restore it from a backup, or start the run again with --new-run"
SUMMARY_DAMAGED = "rewrite it from the stored grades with `mimo-eval score RUN_DIR`"


class RunStoreError(RuntimeError):
    """The run directory cannot be used as asked; the message says what to do."""


def slug(text: str) -> str:
    """A path-safe name for a model id or path: 'Qwen/Qwen2.5-7B' -> 'Qwen--Qwen2.5-7B'."""
    text = text.rstrip("/").replace("/", "--")
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text)[-120:] or "model"


def run_dir_for(out: Path, model: str, benchmark: str) -> Path:
    return Path(out) / f"{slug(model)}__{benchmark}"


# What every line of a run's JSONL files must hold (key -> type); a line without them is named, never a traceback
ROW_FIELDS = {SAMPLES: {"problem_id": str, "sample_index": int, "text": str},
              SCORES: {"problem_id": str, "sample_index": int, "correct": bool}}
REPAIR = {SAMPLES: "delete that line and re-run: its generation is redone",
          SCORES: "delete that line and re-run `mimo-eval score RUN_DIR`: it is regraded"}


def read_jsonl(path: Path, *, tolerate_torn_tail: bool = True) -> list[dict]:
    """Rows of a JSONL file. A last line without its newline is a torn write and is skipped; a malformed line
    anywhere else (not JSON, NUL bytes, not an object, a run file's line without its fields) is an error naming
    the file, the line and what to do."""
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop()   # b"" when the file ends with a newline
    fields = ROW_FIELDS.get(path.name, {})
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row, problem = _parse_row(line, fields)
        if problem:
            fix = REPAIR.get(path.name, "delete or repair that line and re-run")
            raise RunStoreError(f"{path}:{number}: {problem}; {fix}")
        rows.append(row)
    if torn.strip() and not tolerate_torn_tail:
        raise RunStoreError(f"{path}: last line is incomplete; delete it and re-run")
    return rows


def _parse_row(line: bytes, fields: dict) -> tuple[dict | None, str | None]:
    """(row, None), or (None, what is wrong with the line)."""
    if b"\0" in line:
        return None, "NUL bytes instead of a JSON line (a write lost in a crash or a full disk)"
    try:
        row = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as err:
        return None, f"malformed JSONL line ({err.msg})"
    if not isinstance(row, dict):
        return None, f"a JSON {type(row).__name__}, not an object"
    for key, kind in fields.items():
        if key not in row:
            return None, f"no {key!r} field"
        value = row[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return None, f"{key!r} must be {'an integer' if kind is int else f'a {kind.__name__}'}, got {value!r:.40}"
    return row, None


def read_json(path: Path, what: str) -> dict:
    """A JSON object file of a run directory (config.json, summary.json); damage is one line saying how to fix it."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (ValueError, UnicodeDecodeError) as err:   # JSONDecodeError is a ValueError
        raise RunStoreError(f"{path} is damaged ({err}): {what}") from None
    if not isinstance(value, dict):
        raise RunStoreError(f"{path} is damaged (a JSON {type(value).__name__}, not an object): {what}")
    return value


def repair_tail(path: Path) -> None:
    """Move an incomplete last line (a write cut by kill -9) aside so appends start on a fresh line."""
    if not path.exists():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with open(path.with_suffix(".torn"), "ab") as torn:
        torn.write(data[cut:] + b"\n")
    with open(path, "r+b") as f:
        f.truncate(cut)
    lost = {SAMPLES: "that generation will be redone", SCORES: "that grade will be redone"}.get(path.name, "")
    log.warning("%s: moved a torn last line (%d bytes) to %s; %s", path, len(data) - cut,
                path.with_suffix(".torn").name, lost or "nothing else was lost")


SUMMARY_KEYS = ("model", "benchmark", "n", "num_problems", "pass@1", "sampling_se", "between_problem_se",
                "ci95_sampling", "pass@k", "outcomes")


def read_summary(run_dir: Path) -> dict:
    """A run's summary.json, checked for the keys the leaderboard and the run table read."""
    path = Path(run_dir) / SUMMARY
    summary = read_json(path, SUMMARY_DAMAGED)
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        raise RunStoreError(f"{path} is damaged (no {', '.join(map(repr, missing))}): {SUMMARY_DAMAGED}")
    return summary


def latest_by_key(rows: list[dict]) -> dict[tuple[str, int], dict]:
    """(problem_id, sample_index) -> row; a later duplicate (e.g. a re-score) wins."""
    return {(r["problem_id"], int(r["sample_index"])): r for r in rows}


def atomic_write(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
