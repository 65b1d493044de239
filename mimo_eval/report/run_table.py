"""One run's summary as rich tables in the terminal (`run`, `score`, `merge` and the demo end with it): the headline
pass@1 with both standard errors, pass@k and maj@k, outcomes, breakdowns, and what the run cost."""
from __future__ import annotations

from pathlib import Path

from mimo_eval.harness.files import read_summary


def _num(x: float) -> str:
    return "-" if x != x else f"{x:.2f}"   # NaN: not estimable (n = 1 or a single problem)


def print_run(run_dir: Path) -> None:
    """One run's summary as rich tables: headline, pass@k / maj@k, outcomes, breakdowns."""
    from rich.console import Console
    from rich.table import Table

    s = read_summary(run_dir)
    console = Console()
    limited = f" of {s.get('benchmark_problems')}, --limit {s['limit']}" if s.get("limit") else ""
    t = Table(title=f"{s['model']} on {s['benchmark']}  (n={s['n']}, {s['num_problems']}{limited} problems)")
    for col in ("pass@1\n(avg@n)", "sampling\nSE", "between-problem\nSE", "95% CI\n(sampling)", "run-to-run\nSD"):
        t.add_column(col, justify="right", overflow="fold")
    t.add_row(f"{s['pass@1']:.2f}", f"{s['sampling_se']:.2f}", _num(s["between_problem_se"]),
              "{:.2f} – {:.2f}".format(*s["ci95_sampling"]), _num(s["per_run_sd_observed"]))
    console.print(t)
    ks = Table(title="pass@k, maj@k, outcomes")
    for col in ["metric"] + list(s["pass@k"]):
        ks.add_column(col, justify="right")
    ks.add_row("pass@k", *[f"{v:.1f}" for v in s["pass@k"].values()])
    if s.get("maj@k"):
        ks.add_row("maj@k", *[f"{s['maj@k'].get(k, float('nan')):.1f}" if k != "1" else "-" for k in s["pass@k"]])
    console.print(ks)
    console.print("outcomes: " + ", ".join(f"{k} {v}" for k, v in s["outcomes"].items()))
    if s.get("samples_beyond_n"):
        console.print(f"reported on the first {s['n']} samples of each problem: {s['samples_beyond_n']} stored "
                      "beyond them are not counted (a larger --n counts them)", soft_wrap=True)
    for key, groups in (s.get("breakdown") or {}).items():
        console.print(f"by {key}: " + ", ".join(f"{g} {v['pass@1']:.1f} ({v['num_problems']})"
                                                for g, v in groups.items()))
    if s.get("cost"):
        console.print(cost_line(s["cost"]), soft_wrap=True)
    console.print(f"run directory: {run_dir}")


def cost_line(cost: dict) -> str:
    """`cost: wall 3m05s over 2 invocations, 412.5 output tokens/s, output tokens mean 8213, p95 21877`."""
    wall = f"{int(cost['wall_s'] // 60)}m{int(cost['wall_s'] % 60):02d}s"
    parts = [f"wall {wall} over {cost['invocations']} invocation{'s' * (cost['invocations'] != 1)}"]
    if cost.get("output_tokens_per_s") is not None:
        parts.append(f"{cost['output_tokens_per_s']:.1f} output tokens/s")
    if cost.get("output_tokens_mean") is not None:
        parts.append(f"output tokens mean {cost['output_tokens_mean']:.0f}, p95 {cost['output_tokens_p95']}")
    return "cost: " + ", ".join(parts)
