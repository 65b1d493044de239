"""`mimo-eval merge RUN_DIRS... --out DIR`: join the shards of one evaluation (`mimo-eval run --shard K/N`) into
one run directory that `score`, `leaderboard`, `compare`, `show` and `audit` read like any other.

Refused, each with one line that says what to do: inputs whose settings differ (every key of COMPARABLE_KEYS,
n and --limit), samples from servers that reported different models, a benchmark whose data changed since the
shards ran, a (problem, sample) pair stored by two inputs
(an overlap: two machines ran one shard, or a shard was merged twice), pairs that no input has (a gap: a shard
missing or unfinished; `--allow-gaps` writes the unfinished run anyway, and `mimo-eval run` with `--out` set to
the merged run directory fills it: the command to run is printed), and an --out that already holds a run. Samples and
their scores are copied unchanged, each sample keeping its server, model and seed; the merged config.json lists
where they came from (`merged_from`). Samples a shard stored but never graded are graded here.
"""
from __future__ import annotations

import json
import shlex
from collections import Counter
from pathlib import Path

from mimo_eval.harness.shard import shard_of
from mimo_eval.harness.files import CONFIG, COST, SAMPLES, SCORES, RunStoreError, latest_by_key, read_jsonl
from mimo_eval.harness.store import COMPARABLE_KEYS, RunStore, comparable

SHOWN = 3   # examples named in an error message


def merge_runs(run_dirs: list[Path], out: Path, *, allow_gaps: bool = False, grade_workers: int = 4) -> dict:
    """Write the merged run to `out`; returns {"samples", "graded", "gaps", "summary"} for the report."""
    from mimo_eval.harness.rescore import problems_of
    from mimo_eval.harness.summary import asked

    configs = [_config(Path(d)) for d in run_dirs]
    _check_settings(run_dirs, configs)
    first = configs[0]
    _, problems = problems_of(first, run_dirs[0])
    samples, scores = _union(run_dirs)
    _check_models(samples)
    n = first["n"]
    wanted = [(p.id, i) for p in asked(problems, first.get("limit")) for i in range(n)]
    gaps = [key for key in wanted if key not in samples]
    if gaps and not allow_gaps:
        raise RunStoreError(f"{len(gaps)} of {len(wanted)} samples are in no input ({_gap_note(gaps, configs)}): "
                            "finish or add the missing shard, or pass --allow-gaps to write an unfinished run")
    store = _create(Path(out), first, run_dirs, configs)
    try:
        order = {pid: j for j, (pid, _) in enumerate(wanted)}
        for key in sorted(samples, key=lambda k: (order.get(k[0], len(order)), k[0], k[1])):
            store.append(SAMPLES, samples[key])
            if key in scores:
                store.append(SCORES, scores[key])
        for d in run_dirs:   # each shard's generation time, so the merged summary's cost adds them up
            for row in read_jsonl(Path(d) / COST):
                store.append(COST, {**row, "run_dir": str(d)})
    finally:
        store.close()
    summary = None
    if not gaps:
        from mimo_eval.harness.rescore import rescore

        summary = rescore(store.path, grade_workers=grade_workers, progress=False)
    return {"samples": len(samples), "graded": len(scores), "gaps": len(gaps), "summary": summary,
            "run_dir": store.path, "finish": finish_command(first, store.path)}


def finish_command(config: dict, run_dir: Path) -> str:
    """The `mimo-eval run` that generates what a merged run lacks: --out names the run directory itself."""
    options = config.get("benchmark_options") or {}
    words = ["mimo-eval", "run"]
    words += ["--task-file", options["task_file"], "--grader", config["grader"]] if "task_file" in options \
        else [config["benchmark"]]
    words += ["--model", config["model"], "--n", str(config["n"])]
    for key in ("temperature", "top_p", "max_tokens", "seed", "limit", "start_date", "end_date", "data_path"):
        value = config.get(key, options.get(key))
        if value is not None:
            words += [f"--{key.replace('_', '-')}", str(value)]
    if config.get("system_prompt") != "":
        words += ["--system-prompt", "none" if config.get("system_prompt") is None else config["system_prompt"]]
    if config.get("chat_template_kwargs"):
        words += ["--chat-template-kwargs", json.dumps(config["chat_template_kwargs"])]
    if config.get("code_mode") not in (None, "lcb"):
        words += ["--code-mode", config["code_mode"]]
    words += ["--backend", config["backend"]["backend"], "--out", str(run_dir)]
    return " ".join(shlex.quote(w) for w in words)


def _check_models(samples: dict) -> None:
    """Shards whose servers reported different models are two evaluations, not one (as `run` refuses them)."""
    names: dict[str, tuple[str, int]] = {}
    for key, row in samples.items():
        if row.get("model"):
            names.setdefault(row["model"], key)
    if len(names) > 1:
        shown = "; ".join(f"{name!r} (e.g. {pid}#{i})" for name, (pid, i) in sorted(names.items())[:SHOWN])
        raise RunStoreError(f"the inputs' samples come from {len(names)} models as their servers reported them "
                            f"({shown}): merge only the shards of one model's evaluation")


def _config(run_dir: Path) -> dict:
    return RunStore.existing(run_dir, made_by="`mimo-eval run --shard K/N`").config


def _check_settings(run_dirs: list[Path], configs: list[dict]) -> None:
    if len(run_dirs) < 2:
        raise ValueError("give two or more run directories to merge")
    if len({Path(d).resolve() for d in run_dirs}) != len(run_dirs):
        raise ValueError("a run directory is given twice: each shard once")
    for key in (*COMPARABLE_KEYS, "n", "limit"):
        values = [comparable(c, key) for c in configs]
        for d, v in zip(run_dirs[1:], values[1:]):
            if v != values[0]:
                raise RunStoreError(f"cannot merge runs made with other settings ({key}: {run_dirs[0]} has "
                                    f"{values[0]!r}, {d} has {v!r}): merge only the shards of one evaluation")


def _union(run_dirs: list[Path]) -> tuple[dict, dict]:
    """All inputs' samples and their scores by (problem, index); a pair in two inputs is an overlap."""
    samples: dict[tuple[str, int], dict] = {}
    scores: dict[tuple[str, int], dict] = {}
    owner: dict[tuple[str, int], Path] = {}
    overlaps = []
    for d in run_dirs:
        store = RunStore(Path(d))
        mine, graded = latest_by_key(store.samples()), latest_by_key(store.scores())
        for key, row in mine.items():
            if key in owner:
                overlaps.append((key, owner[key], d))
                continue
            owner[key], samples[key] = Path(d), row
            if key in graded:
                scores[key] = graded[key]
    if overlaps:
        shown = "; ".join(f"{k[0]}#{k[1]} in {a} and {b}" for k, a, b in overlaps[:SHOWN])
        raise RunStoreError(f"{len(overlaps)} samples are stored by two inputs ({shown}): the same shard ran twice "
                            "or a merged run is among the inputs; keep one copy of each shard")
    return samples, scores


def _gap_note(gaps: list[tuple[str, int]], configs: list[dict]) -> str:
    """Which shards the missing pairs belong to, when the inputs are shards of one split."""
    counts = {c.get("shard", "").partition("/")[2] for c in configs if c.get("shard")}
    examples = ", ".join(f"{pid}#{i}" for pid, i in gaps[:SHOWN])
    if len(counts) != 1:
        return f"e.g. {examples}"
    total = int(counts.pop())
    by_shard = Counter(shard_of(pid, i, total) for pid, i in gaps)
    have = {c["shard"] for c in configs}
    parts = [f"shard {k}/{total}: {m} missing" + ("" if f"{k}/{total}" in have else " (not given)")
             for k, m in sorted(by_shard.items())]
    return "; ".join(parts) + f"; e.g. {examples}"


def _create(out: Path, first: dict, run_dirs: list[Path], configs: list[dict]) -> RunStore:
    if (out / CONFIG).exists() or (out.exists() and any(out.iterdir())):
        raise RunStoreError(f"{out} already exists and is not empty: give --out a new directory")
    sources = [{"run_dir": str(d), "shard": c.get("shard"), "backend": c.get("backend"),
                "versions": c.get("versions"), "created": c.get("created")} for d, c in zip(run_dirs, configs)]
    config = {**first, "shard": None, "merged_from": sources,
              "created": min(c.get("created") or "" for c in configs) or first.get("created")}
    return RunStore.open(out, config)
