"""The run directory: config.json, samples.jsonl (append-only), scores.jsonl, summary.json.

One directory per (model, benchmark): re-running the same command finds it and resumes. A run is
comparable only if the settings in `COMPARABLE_KEYS` match; anything else (n, workers, engine versions)
may change between invocations. Each generation is one JSONL line, written and flushed as it finishes and
never rewritten, so a `kill -9` or a full disk at any moment loses at most the line being written; every writer
(`run`, `score`, `merge`) takes an exclusive flock on `run.lock` first and then moves a torn last line of each
appended file aside (`samples.torn`, `scores.torn`, ...), so no append lands on a fragment and the lost generation
or grade is redone. A second client on the same run is refused in one line. Settings bind once a generation is
stored. How each file is read back and checked: harness/files.py.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from mimo_eval.harness.files import CONFIG, CONFIG_DAMAGED, COST, LOCK, SAMPLES, SCORES, SUMMARY, RunStoreError, \
    atomic_write, read_json, read_jsonl, repair_tail

log = logging.getLogger(__name__)

# Settings that change what a sample means. n is not among them: a larger n extends a run.
COMPARABLE_KEYS = ("model", "benchmark", "benchmark_version", "prompt_sha256", "system_prompt",
                   "temperature", "top_p", "max_tokens", "seed", "benchmark_options", "code_mode",
                   "generation_options",     # result-changing backend options (harness/settings.py)
                   "chat_template_kwargs")   # rendered into every prompt (e.g. enable_thinking)
# Settings of what a summary counts: they may change between invocations (`score --truncated`, a --limit smoke
# test later run whole) without touching a stored sample, but they label every result made with them
REPORT_KEYS = ("truncated",   # how a response cut at max_tokens is scored
               "limit")       # only the first N problems
# What a key reads as in a run recorded before it existed; at that value it is also left out of the settings hash
COMPARABLE_DEFAULTS = {"generation_options": None, "truncated": "grade", "chat_template_kwargs": None, "limit": None}


def comparable(config: dict, key: str):
    return config.get(key, COMPARABLE_DEFAULTS.get(key))


def differences(old: dict, new: dict) -> list[str]:
    """The COMPARABLE_KEYS in which two configs differ."""
    return [k for k in COMPARABLE_KEYS if comparable(old, k) != comparable(new, k)]


class RunStore:
    """Append-only access to one run directory. Thread-safe appends (generation and grading threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._files: dict[str, object] = {}
        self._lock_file = None

    @staticmethod
    def existing(path: Path, made_by: str = "`mimo-eval run` or `mimo-eval merge`") -> "RunStore":
        """A run directory that exists (to read, score, audit or merge); anything else is a one-line error."""
        path = Path(path)
        if not (path / CONFIG).is_file():
            raise FileNotFoundError(f"{path} is not a run directory (no config.json): give a folder made by {made_by}")
        return RunStore(path)

    # -- config ---------------------------------------------------------------------------------
    @staticmethod
    def open(path: Path, config: dict, *, new_run: bool = False, pass_over: frozenset = frozenset()) -> "RunStore":
        """Create the run, or resume it if its recorded settings match `config` (see COMPARABLE_KEYS). The
        directory is locked until close(). It binds its settings only once a generation is stored, so a first
        attempt that failed before that (server down, model not loading) leaves nothing to refuse the fix."""
        path = Path(path)
        if new_run:
            path = _run_for_new_run(path, config, pass_over)
        path.mkdir(parents=True, exist_ok=True)
        store = RunStore(path)
        store.lock()
        try:
            atomic_write(path / CONFIG, _resumed_config(path, config))
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
        for name in (SAMPLES, SCORES, COST):   # every writer locks first, so no append lands on a torn line
            repair_tail(self.path / name)

    @property
    def config(self) -> dict:
        return read_json(self.path / CONFIG, CONFIG_DAMAGED)

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
            try:
                f.write(line)
                f.flush()
            except OSError as err:   # a full disk: flush's error names no file; the torn tail is repaired on resume
                raise OSError(err.errno, err.strerror, str(self.path / name)) from None

    def update_config(self, changes: dict) -> None:
        """Set settings that do not change a stored sample (REPORT_KEYS), keeping the old values in `history`."""
        config = self.config
        changed = {k: config.get(k) for k, v in changes.items() if config.get(k) != v}
        if changed:
            config = {**config, **changes, "history": config.get("history", []) + [changed]}
            atomic_write(self.path / CONFIG, config)

    def write_summary(self, summary: dict) -> None:
        atomic_write(self.path / SUMMARY, summary)

    def rewrite_scores(self, rows: list[dict]) -> None:
        """Replace scores.jsonl whole (re-scoring); samples are never rewritten."""
        tmp = self.path / (SCORES + ".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        os.replace(tmp, self.path / SCORES)

    def close(self) -> None:
        with self._lock:
            for f in self._files.values():
                try:
                    f.close()
                except OSError:   # the line a full disk refused: already reported by append(), a torn tail now
                    pass
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
        return {**config, "truncated": config.get("truncated") or "grade"}
    old = read_json(existing, CONFIG_DAMAGED)
    if config.get("truncated") is None:   # not asked: the policy the run has (set by `score --truncated`) stays
        config = {**config, "truncated": comparable(old, "truncated")}
    diffs = differences(old, config)
    if diffs:
        shown = "; ".join(f"{k}: run has {comparable(old, k)!r}, asked {comparable(config, k)!r}" for k in diffs)
        raise RunStoreError(f"{path} was made with other settings ({shown}). Results would not be "
                            "comparable: pass --new-run to start a fresh run beside it, or --out DIR")
    bookkeeping = {"created", "history"}
    changed = sorted(k for k in set(old) | set(config)
                     if k not in COMPARABLE_KEYS and k not in bookkeeping and old.get(k) != config.get(k))
    _log_n_change(path, old.get("n"), config.get("n"))
    for key in set(changed) & set(REPORT_KEYS):
        log.warning("%s: the summary now counts with %s=%r (was %r)", path, key, config.get(key), old.get(key))
    quiet = {"n", *REPORT_KEYS}
    if set(changed) - quiet:
        log.warning("%s: resuming with changed settings that do not affect results: %s", path,
                    [k for k in changed if k not in quiet])
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


def _run_for_new_run(path: Path, config: dict, pass_over: frozenset = frozenset()) -> Path:
    """--new-run: the first of PATH, PATH-2, PATH-3, ... (but those in `pass_over`) that holds a run at exactly
    these settings (rerunning the same command resumes it), holds no generation yet, or does not exist."""
    candidate, i = path, 1
    while has_generations(candidate) or candidate in pass_over:
        if candidate not in pass_over and (candidate / CONFIG).is_file() \
                and not differences(read_json(candidate / CONFIG, CONFIG_DAMAGED), config):
            return candidate
        i += 1
        candidate = path.parent / f"{path.name}-{i}"
    return candidate
