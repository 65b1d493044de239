"""The run directory: config.json, samples.jsonl (append-only), scores.jsonl, summary.json.

One directory per (model, benchmark): re-running the same command finds it and resumes. A run is
comparable only if the settings in `COMPARABLE_KEYS` match; anything else (n, workers, engine versions)
may change between invocations. Each generation is one JSONL line, written and flushed as it finishes and
never rewritten, so a `kill -9` at any moment loses at most the line being written; that torn tail is moved
to `samples.torn` on the next open and the generation is redone. A writing client holds an exclusive flock on
`run.lock`, so a second one on the same run is refused in one line. Settings bind once a generation is stored.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# Settings that change what a sample means. n is not among them: a larger n extends a run.
COMPARABLE_KEYS = ("model", "benchmark", "benchmark_version", "prompt_sha256", "system_prompt",
                   "temperature", "top_p", "max_tokens", "seed", "benchmark_options", "code_mode",
                   "generation_options",   # result-changing backend options (mimo_eval.run.generation_options)
                   "truncated")            # how a response cut at max_tokens is scored
# What a key reads as in a run recorded before it existed; at that value it is also left out of the settings hash
COMPARABLE_DEFAULTS = {"generation_options": None, "truncated": "grade"}


def comparable(config: dict, key: str):
    return config.get(key, COMPARABLE_DEFAULTS.get(key))

SAMPLES, SCORES, CONFIG, SUMMARY, LOCK = "samples.jsonl", "scores.jsonl", "config.json", "summary.json", "run.lock"


class RunStoreError(RuntimeError):
    """The run directory cannot be used as asked; the message says what to do."""


def slug(text: str) -> str:
    """A path-safe name for a model id or path: 'Qwen/Qwen2.5-7B' -> 'Qwen--Qwen2.5-7B'."""
    text = text.rstrip("/").replace("/", "--")
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text)[-120:] or "model"


def run_dir_for(out: Path, model: str, benchmark: str) -> Path:
    return Path(out) / f"{slug(model)}__{benchmark}"


def read_jsonl(path: Path, *, tolerate_torn_tail: bool = True) -> list[dict]:
    """Rows of a JSONL file. A last line without its newline is a torn write and is skipped;
    a malformed line anywhere else is an error naming the file and line."""
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop()   # b"" when the file ends with a newline
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise RunStoreError(f"{path}:{number}: malformed JSONL line ({err.msg}); "
                                "delete or repair that line and re-run") from None
    if torn.strip() and not tolerate_torn_tail:
        raise RunStoreError(f"{path}: last line is incomplete; delete it and re-run")
    return rows


def _repair_tail(path: Path) -> None:
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
    log.warning("%s: moved a torn last line (%d bytes) to %s; that generation will be redone",
                path, len(data) - cut, path.with_suffix(".torn").name)


class RunStore:
    """Append-only access to one run directory. Thread-safe appends (generation and grading threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._files: dict[str, object] = {}
        self._lock_file = None

    # -- config ---------------------------------------------------------------------------------
    @staticmethod
    def open(path: Path, config: dict, *, new_run: bool = False) -> "RunStore":
        """Create the run, or resume it if its recorded settings match `config` (see COMPARABLE_KEYS). The
        directory is locked until close(). It binds its settings only once a generation is stored, so a first
        attempt that failed before that (server down, model not loading) leaves nothing to refuse the fix."""
        path = Path(path)
        if new_run and has_generations(path):
            path = _next_free(path)
        path.mkdir(parents=True, exist_ok=True)
        store = RunStore(path)
        store.lock()
        try:
            _atomic_write(path / CONFIG, _resumed_config(path, config))
            for name in (SAMPLES, SCORES):
                _repair_tail(path / name)
        except BaseException:
            store.close()
            raise
        return store

    def lock(self) -> None:
        """Exclusive lock on the run directory for this store's lifetime: two clients on one run would generate
        everything twice. flock is released by the kernel when the process dies, kill -9 included."""
        import fcntl

        f = open(self.path / LOCK, "a+", encoding="utf-8")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise RunStoreError(f"{self.path} is in use by another mimo-eval process (pid {holder}): wait for it "
                                "to finish, or give this one another --out DIR") from None
        f.truncate(0)
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock_file = f

    @property
    def config(self) -> dict:
        return json.loads((self.path / CONFIG).read_text())

    # -- rows -------------------------------------------------------------------------------------
    def samples(self) -> list[dict]:
        return read_jsonl(self.path / SAMPLES)

    def scores(self) -> list[dict]:
        return read_jsonl(self.path / SCORES)

    def append(self, name: str, row: dict) -> None:
        """Write one JSON line and flush it to the OS before returning (survives kill -9)."""
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock:
            f = self._files.get(name)
            if f is None:
                f = self._files[name] = open(self.path / name, "a", encoding="utf-8")
            f.write(line)
            f.flush()

    def write_summary(self, summary: dict) -> None:
        _atomic_write(self.path / SUMMARY, summary)

    def rewrite_scores(self, rows: list[dict]) -> None:
        """Replace scores.jsonl whole (re-scoring); samples are never rewritten."""
        tmp = self.path / (SCORES + ".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        os.replace(tmp, self.path / SCORES)

    def close(self) -> None:
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()
            if self._lock_file is not None:
                self._lock_file.close()   # releases the flock
                self._lock_file = None


def has_generations(path: Path) -> bool:
    """Whether a run directory holds at least one complete sample line (a torn last line does not count)."""
    samples = Path(path) / SAMPLES
    if not samples.is_file():
        return False
    with open(samples, "rb") as f:   # stops at the first complete line: a long run's file is not read whole
        return any(line.endswith(b"\n") and line.strip() for line in f)


def _resumed_config(path: Path, config: dict) -> dict:
    """The config to record: `config` itself for a fresh run, else the old run's provenance kept and extended;
    refused when a setting in COMPARABLE_KEYS differs from stored generations'."""
    existing = path / CONFIG
    if not existing.exists() or not has_generations(path):
        return config
    old = json.loads(existing.read_text())
    diffs = [k for k in COMPARABLE_KEYS if comparable(old, k) != comparable(config, k)]
    if diffs:
        shown = "; ".join(f"{k}: run has {comparable(old, k)!r}, asked {comparable(config, k)!r}" for k in diffs)
        raise RunStoreError(f"{path} was made with other settings ({shown}). Results would not be "
                            "comparable: pass --new-run to start a fresh run beside it, or --out DIR")
    bookkeeping = {"created", "history"}
    changed = sorted(k for k in set(old) | set(config)
                     if k not in COMPARABLE_KEYS and k not in bookkeeping and old.get(k) != config.get(k))
    _log_n_change(path, old.get("n"), config.get("n"))
    if set(changed) - {"n"}:
        log.warning("%s: resuming with changed settings that do not affect results: %s", path,
                    [k for k in changed if k != "n"])
    # what earlier invocations used is kept, so a run's provenance is never overwritten
    history = old.get("history", []) + ([{k: old.get(k) for k in changed}] if changed else [])
    return {**config, "created": old.get("created", config.get("created")), "history": history}


def _log_n_change(path: Path, old: int | None, new: int | None) -> None:
    """A larger n extends a run; a smaller one changes what is reported, which the user must be told."""
    if old is None or new is None or old == new:
        return
    if new > old:
        log.info("%s: n raised from %d to %d: the run is extended", path, old, new)
    else:
        log.warning("%s: n lowered from %d to %d: the summary reports on the first %d samples of each problem "
                    "(the ones stored beyond them are kept and count again at --n %d)", path, old, new, new, old)


def latest_by_key(rows: list[dict]) -> dict[tuple[str, int], dict]:
    """(problem_id, sample_index) -> row; a later duplicate (e.g. a re-score) wins."""
    return {(r["problem_id"], int(r["sample_index"])): r for r in rows}


def _next_free(path: Path) -> Path:
    i = 2
    while (path.parent / f"{path.name}-{i}").exists():
        i += 1
    return path.parent / f"{path.name}-{i}"


def _atomic_write(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
