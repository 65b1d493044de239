"""`mimo-eval score RUN_DIR [--rescore] [--truncated wrong|grade]`: grade what a run has stored and not graded
(everything with --rescore, replacing scores.jsonl only once every new grade exists), then rewrite its summary.

The truncation policy is applied to stored verdicts when the summary is written, so `--truncated` changes the
count without regrading: one run gives both numbers.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from benchmarks import registry
from benchmarks.types import Benchmark, Problem
from mimo_eval.harness.progress import RunProgress
from mimo_eval.harness.run import grader_for
from mimo_eval.harness.settings import benchmark_version, load_problems
from mimo_eval.harness.summary import asked, write_summary
from mimo_eval.harness.scoring import score_row
from mimo_eval.harness.files import SCORES, latest_by_key
from mimo_eval.harness.store import RunStore


def rescore(run_dir: Path, *, regrade_all: bool = False, grade_workers: int = 4, progress: bool = True,
            sandbox_factory: Callable | None = None, truncated: str | None = None) -> dict:
    """`mimo-eval score`: grade what a run has not graded (all of it with regrade_all), then summarize; with
    `truncated` ("grade" | "wrong") the run's truncation policy is set first (no regrading: it is applied to the
    stored verdicts). The problems are reloaded from the benchmark in config.json and must hash to the same version."""
    store = RunStore.existing(run_dir, made_by="`mimo-eval run`")
    config = store.config
    if config.get("shard"):   # a part of every problem: metrics would be of a biased subset
        raise ValueError(f"{run_dir} is shard {config['shard']} of a run: join the shards with `mimo-eval merge "
                         "SHARD_DIRS... --out DIR`, then score DIR")
    bench, problems = problems_of(config, run_dir)
    store.lock()   # a client still generating into this run would race the grades
    try:
        if truncated is not None:
            store.update_config({"truncated": truncated})
        _grade_stored(store, bench, asked(problems, config.get("limit")), config, regrade_all, grade_workers,
                      progress, sandbox_factory)
        return write_summary(store, problems, bench, config["n"])
    finally:
        store.close()


def problems_of(config: dict, run_dir: Path) -> tuple[Benchmark, list[Problem]]:
    """The benchmark and problems a run was made on, refused when the data changed since."""
    bench = registry.get(config["benchmark"], config.get("benchmark_options"))
    problems = load_problems(bench, config.get("benchmark_options", {}))
    if benchmark_version(problems) != config["benchmark_version"]:
        raise ValueError(f"{run_dir}: the benchmark data changed since this run ({config['benchmark_version']} -> "
                         f"{benchmark_version(problems)}); re-run it with --new-run instead of re-scoring")
    return bench, problems


def _grade_stored(store: RunStore, bench: Benchmark, problems: list[Problem], config: dict, regrade_all: bool,
                  grade_workers: int, progress: bool, sandbox_factory: Callable | None) -> None:
    n, by_id = config["n"], {p.id: p for p in problems}
    samples = latest_by_key(store.samples())   # a malformed line fails here, before any grade is touched
    scores = {} if regrade_all else latest_by_key(store.scores())
    todo = [row for key, row in samples.items() if key not in scores and row["problem_id"] in by_id and key[1] < n]
    regraded = []
    with grader_for(bench, sandbox_factory, config.get("code_mode") or "lcb",
                    config.get("thinking_opened")) as grade_fn, \
            ThreadPoolExecutor(grade_workers) as pool, \
            RunProgress(len(todo), done_generated=len(todo), graded=[], enabled=progress) as bar:
        for row in pool.map(lambda s: score_row(by_id[s["problem_id"]], s, grade_fn), todo):
            if regrade_all:
                regraded.append(row)
            else:
                store.append(SCORES, row)
            bar.graded(row)
    if regrade_all:   # atomic: the old grades stay until every new one exists
        store.rewrite_scores(regraded)
