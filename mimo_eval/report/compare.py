"""`mimo-eval compare RUN_A RUN_B`: is A better than B on the same problems? A paired bootstrap per benchmark.

Each problem's pass rate c_i/n_i is computed per run; problems are resampled with replacement (the same
draw for both runs, hence paired) and the difference of the means is recorded. Reported: the observed
difference in points, its 95% percentile interval and a two-sided p-value (twice the smaller tail share of
the resampled differences on either side of 0). Only problems complete in both runs (all n samples graded) are
compared: an unfinished run is compared on what it has finished, and the table says how many problems were left
out and why. A run compared with itself (the same directory twice, or a folder holding two runs of one benchmark,
which would otherwise pick one of them for both sides) is refused. Each side is labelled by its model and the
settings in which the two runs differ (`probe (temperature=1.0)`), or by its run directory when they differ in
none. Each run's truncation policy applies, as in its summary.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mimo_eval.harness.scoring import counted_wrong, graded
from mimo_eval.harness.files import latest_by_key
from mimo_eval.harness.store import COMPARABLE_KEYS, REPORT_KEYS, RunStore, comparable


@dataclass(frozen=True)
class Comparison:
    benchmark: str
    model_a: str
    model_b: str
    num_problems: int
    pass1_a: float
    pass1_b: float
    diff: float               # a - b, points
    ci95: tuple[float, float]
    p_value: float
    left_out: int             # problems not complete in both runs (unfinished, or in one run only)
    complete: tuple[int, int] = (0, 0)    # problems with all n samples graded, in A and in B
    total: tuple[int, int] = (0, 0)       # problems in each run's benchmark
    runs: tuple[str, str] = ("", "")      # the run directories' names


def problem_rates(run_dir: Path) -> dict[str, float]:
    """Per problem whose first n samples are all graded, the share correct. A problem with fewer is left out:
    its rate would come from whichever samples happened to finish first."""
    store = RunStore(Path(run_dir))
    config = store.config
    n, policy = config["n"], comparable(config, "truncated")
    samples = latest_by_key(store.samples())
    by_problem: dict[str, list[bool]] = {}
    for (pid, index), row in latest_by_key(store.scores()).items():
        if index < n and (pid, index) in samples:
            right = graded(row)["correct"] and not counted_wrong(samples[(pid, index)], policy)
            by_problem.setdefault(pid, []).append(bool(right))
    return {pid: sum(v) / n for pid, v in by_problem.items() if len(v) == n}


def paired_bootstrap(a: list[float], b: list[float], *, resamples: int = 10000, seed: int = 0):
    import numpy as np

    diffs = np.asarray(a) - np.asarray(b)
    rng = np.random.default_rng(seed)
    draws = diffs[rng.integers(0, len(diffs), size=(resamples, len(diffs)))].mean(axis=1)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    p = min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean()))
    return float(diffs.mean()), (float(lo), float(hi)), float(p)


def compare_runs(run_a: Path, run_b: Path, *, resamples: int = 10000, seed: int = 0) -> Comparison:
    if Path(run_a).resolve() == Path(run_b).resolve():
        raise ValueError(f"{run_a} and {run_b} are the same directory: that compares a run with itself; "
                         "give two different runs")
    ca, cb = (RunStore(Path(r)).config for r in (run_a, run_b))
    if ca["benchmark"] != cb["benchmark"]:
        raise ValueError(f"{run_a} is {ca['benchmark']} but {run_b} is {cb['benchmark']}: "
                         "compare runs of one benchmark")
    ra, rb = problem_rates(run_a), problem_rates(run_b)
    common = sorted(set(ra) & set(rb))
    if not common:
        raise ValueError(f"{run_a} and {run_b} share no complete problem (all n samples graded): finish the runs "
                         "(re-run the same command) first")
    a, b = [ra[p] for p in common], [rb[p] for p in common]
    diff, ci, p = paired_bootstrap(a, b, resamples=resamples, seed=seed)
    total = tuple(min(c.get("limit") or c["num_problems"], c["num_problems"]) for c in (ca, cb))
    label_a, label_b = side_labels(ca, cb, _distinct_names(Path(run_a), Path(run_b)))
    return Comparison(ca["benchmark"], label_a, label_b, len(common), 100 * sum(a) / len(a),
                      100 * sum(b) / len(b), 100 * diff, (100 * ci[0], 100 * ci[1]), p,
                      left_out=max(total) - len(common), complete=(len(ra), len(rb)), total=total,
                      runs=(Path(run_a).resolve().name, Path(run_b).resolve().name))


def side_labels(ca: dict, cb: dict, names: tuple[str, str]) -> tuple[str, str]:
    """The model plus the settings in which the two runs differ; the run directory when nothing tells them apart."""
    from mimo_eval.report.leaderboard import setting_labels

    keys = [k for k in COMPARABLE_KEYS + REPORT_KEYS if k != "model"]
    settings = [{k: comparable(c, k) for k in keys} for c in (ca, cb)]
    a, b = setting_labels([ca["model"], cb["model"]], settings)
    if a == b:
        return f"{a} [{names[0]}]", f"{b} [{names[1]}]"
    return a, b


def _distinct_names(a: Path, b: Path) -> tuple[str, str]:
    """The two run directories as paths below their common folder (`a/M__aime24`, `b/M__aime24`)."""
    a, b = a.resolve(), b.resolve()
    common = Path(os.path.commonpath([a, b]))
    return str(a.relative_to(common)), str(b.relative_to(common))


def compare_paths(path_a: Path, path_b: Path, **kwargs) -> list[Comparison]:
    """Two run directories, or two folders of runs matched by benchmark."""
    if (Path(path_a) / "config.json").is_file() and (Path(path_b) / "config.json").is_file():
        return [compare_runs(path_a, path_b, **kwargs)]
    runs_a, runs_b = _runs_by_benchmark(path_a), _runs_by_benchmark(path_b)
    shared = sorted(set(runs_a) & set(runs_b))
    if not shared:
        raise ValueError(f"{path_a} and {path_b} have no benchmark in common: give two run directories "
                         "or two folders holding runs of the same benchmarks")
    return [compare_runs(runs_a[b], runs_b[b], **kwargs) for b in shared]


def _runs_by_benchmark(folder: Path) -> dict[str, Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: give a run directory or a folder of runs")
    runs: dict[str, list[Path]] = {}
    for config in sorted(folder.glob("*/config.json")):
        runs.setdefault(RunStore(config.parent).config["benchmark"], []).append(config.parent)
    for benchmark, dirs in runs.items():
        if len(dirs) > 1:   # picking one would be a silent choice (and the same one for `compare F F`)
            raise ValueError(f"{folder} holds {len(dirs)} runs of {benchmark} ({', '.join(d.name for d in dirs)}): "
                             "give the two run directories to compare instead of folders")
    return {benchmark: dirs[0] for benchmark, dirs in runs.items()}


def render_comparison(results: list[Comparison]) -> str:
    head = "| benchmark | A | B | problems | pass@1 A | pass@1 B | A − B | 95% CI | p |\n|" + "---|" * 9
    rows = [f"| {c.benchmark} | {c.model_a} | {c.model_b} | {c.num_problems} | {c.pass1_a:.1f} | {c.pass1_b:.1f} "
            f"| {c.diff:+.1f} | {c.ci95[0]:+.1f} … {c.ci95[1]:+.1f} | {c.p_value:.3f} |" for c in results]
    notes = [f"{c.benchmark}: compared on {c.num_problems} problems; {c.left_out} left out (unfinished or missing "
             f"in one run: {c.runs[0]} has {c.complete[0]} of {c.total[0]} complete, {c.runs[1]} has "
             f"{c.complete[1]} of {c.total[1]})" for c in results if c.left_out]
    return "\n".join([head, *rows, "", "paired bootstrap over problems (10,000 resamples by default)", *notes])
