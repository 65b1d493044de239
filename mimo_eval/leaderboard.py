"""Leaderboard: every run's summary.json under a folder, as a MiMo-style table (benchmarks as rows, models as
columns, "pass@1 ± SE (n)") in markdown, CSV or a self-contained HTML page with a plot (base64 PNG, no server).

The ± is the sampling (run-to-run) standard error; the between-problem standard error (what lighteval prints)
is in the detail table beside it, labelled, never mixed with the first.
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BENCHMARK_ORDER = ("math500", "aime24", "aime25", "lcb_v5", "lcb_v6", "livecodebench")
CELL_NOTE = "cell = pass@1 (avg@n) ± sampling SE (n); between-problem SE in the detail table"
# Published pass@1 (XiaomiMiMo/MiMo README = report Tables 4-6; research/eval_harness.md §1), for side-by-side columns
PUBLISHED = {
    "MiMo-7B-RL": {"math500": 95.8, "aime24": 68.2, "aime25": 55.4, "lcb_v5": 57.8, "lcb_v6": 49.3},
    "MiMo-7B-SFT": {"math500": 93.0, "aime24": 58.7, "aime25": 44.3, "lcb_v5": 52.3, "lcb_v6": 45.5},
    "MiMo-7B-RL-Zero": {"math500": 93.6, "aime24": 56.4, "aime25": 46.3, "lcb_v5": 49.1, "lcb_v6": 42.9},
    "R1-Distill-Qwen-7B": {"math500": 92.8, "aime24": 55.5, "aime25": 38.8, "lcb_v5": 37.6, "lcb_v6": 23.9},
}


@dataclass(frozen=True)
class Board:
    summaries: list[dict]     # one per (model, benchmark): the latest run
    references: tuple[str, ...] = ()   # PUBLISHED models shown beside the runs

    @property
    def models(self) -> list[str]:
        return sorted({s["model"] for s in self.summaries})

    @property
    def benchmarks(self) -> list[str]:
        names = {s["benchmark"] for s in self.summaries}
        return [b for b in BENCHMARK_ORDER if b in names] + sorted(names - set(BENCHMARK_ORDER))

    def get(self, benchmark: str, model: str) -> dict | None:
        return next((s for s in self.summaries if (s["benchmark"], s["model"]) == (benchmark, model)), None)


def collect(runs_dir: Path, references: tuple[str, ...] = ()) -> Board:
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"{runs_dir} is not a folder: give the --out folder of `mimo-eval run`")
    latest: dict[tuple[str, str], tuple[float, dict]] = {}
    for path in sorted(runs_dir.rglob("summary.json")):
        summary = json.loads(path.read_text())
        key, mtime = (summary["model"], summary["benchmark"]), path.stat().st_mtime
        if key in latest:
            log.warning("two runs of %s on %s; showing the newer (%s)", *key, path.parent)
        if key not in latest or mtime >= latest[key][0]:
            latest[key] = (mtime, summary)
    if not latest:
        raise FileNotFoundError(f"no summary.json under {runs_dir}: finish a run (`mimo-eval run`) or "
                                "score one (`mimo-eval score RUN_DIR`)")
    return Board([s for _, s in latest.values()], tuple(references))


def cell(summary: dict | None) -> str:
    if summary is None:
        return "-"
    return f"{summary['pass@1']:.1f} ± {summary['sampling_se']:.1f} ({summary['n']})"


def detail_rows(board: Board) -> list[dict]:
    rows = []
    for s in sorted(board.summaries, key=lambda s: (board.benchmarks.index(s["benchmark"]), s["model"])):
        out = s["outcomes"]
        maj = s.get("maj@k") or {}
        rows.append({
            "benchmark": s["benchmark"], "model": s["model"], "n": s["n"], "problems": s["num_problems"],
            "pass@1": f"{s['pass@1']:.2f}", "sampling SE": f"{s['sampling_se']:.2f}",
            "between-problem SE": f"{s['between_problem_se']:.2f}",
            "95% CI (sampling)": "{:.1f}–{:.1f}".format(*s["ci95_sampling"]),
            "pass@n": f"{s['pass@k'][str(s['n'])]:.1f}",
            "maj@n": f"{maj[str(s['n'])]:.1f}" if str(s["n"]) in maj else "-",
            "timeouts": out.get("timeout", 0), "errors": out.get("error", 0),
            "no answer": out.get("no_answer", 0), "truncated": out.get("truncated", 0),
            "T / top-p / max tokens": f"{s.get('temperature')} / {s.get('top_p')} / {s.get('max_tokens')}",
            "prompt": str(s.get("prompt_sha256", ""))[:8]})
    return rows


def render(board: Board, fmt: str) -> str:
    return {"md": _markdown, "csv": _csv, "html": _html}[fmt](board)


def _header(board: Board) -> list[str]:
    return ["benchmark"] + board.models + [f"{r} (paper)" for r in board.references]


def _main_rows(board: Board) -> list[list[str]]:
    return [[b] + [cell(board.get(b, m)) for m in board.models]
            + [f"{PUBLISHED[r][b]:.1f}" if b in PUBLISHED[r] else "-" for r in board.references]
            for b in board.benchmarks]


def _md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def _markdown(board: Board) -> str:
    details = detail_rows(board)
    return "\n\n".join([_md_table(_header(board), _main_rows(board)), f"_{CELL_NOTE}_",
                        _md_table(list(details[0]), [list(d.values()) for d in details])]) + "\n"


def _csv(board: Board) -> str:
    buf = io.StringIO()
    details = detail_rows(board)
    writer = csv.DictWriter(buf, fieldnames=list(details[0]))
    writer.writeheader()
    writer.writerows(details)
    return buf.getvalue()


def _html_table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(board: Board) -> str:
    details = detail_rows(board)
    style = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:14px}th{background:#f3f3f3}"
             "td:first-child,th:first-child{text-align:left}img{max-width:100%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>mimo-eval leaderboard</title>"
            f"<style>{style}</style></head><body><h1>mimo-eval leaderboard</h1>"
            f"{_html_table(_header(board), _main_rows(board))}<p><em>{html.escape(CELL_NOTE)}</em></p>"
            f"{_plot_html(board)}"
            f"<h2>Details</h2>{_html_table(list(details[0]), [list(d.values()) for d in details])}</body></html>\n")


def _plot_html(board: Board) -> str:
    try:
        png = plot_png_base64(board)
    except ImportError:   # matplotlib is the `plot` extra; the tables still tell the story
        log.warning("no plot in the HTML page: pip install 'mimo-eval[plot]' (matplotlib)")
        return "<p>(plot omitted: install matplotlib with <code>pip install 'mimo-eval[plot]'</code>)</p>"
    return f"<img alt='pass@1 by benchmark and model' src='data:image/png;base64,{png}'>"


def plot_png_base64(board: Board) -> str:
    """Grouped bars of pass@1 with 95% sampling intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benchmarks, models = board.benchmarks, board.models
    width = 0.8 / max(1, len(models))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(benchmarks) * max(1, len(models)) ** 0.5), 4.2), dpi=110)
    for j, model in enumerate(models):
        xs, ys, errs = [], [], []
        for i, b in enumerate(benchmarks):
            s = board.get(b, model)
            if s is not None:
                xs.append(i + (j - (len(models) - 1) / 2) * width)
                ys.append(s["pass@1"])
                errs.append(1.96 * s["sampling_se"])
        bars = ax.bar(xs, ys, width, yerr=errs, capsize=3, label=model)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set_xticks(range(len(benchmarks)), benchmarks)
    ax.set_ylabel("pass@1 (avg@n), %")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(3, len(models)), frameon=False)
    ax.set_title("error bars: 95% sampling interval", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _num(x: float) -> str:
    return "-" if x != x else f"{x:.2f}"   # NaN: not estimable (n = 1 or a single problem)


def print_run(run_dir: Path) -> None:
    """One run's summary as rich tables: headline, pass@k / maj@k, outcomes, breakdowns."""
    from rich.console import Console
    from rich.table import Table

    s = json.loads((Path(run_dir) / "summary.json").read_text())
    console = Console()
    t = Table(title=f"{s['model']} on {s['benchmark']}  (n={s['n']}, {s['num_problems']} problems)")
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
    for key, groups in (s.get("breakdown") or {}).items():
        console.print(f"by {key}: " + ", ".join(f"{g} {v['pass@1']:.1f} ({v['num_problems']})"
                                                for g, v in groups.items()))
    console.print(f"run directory: {run_dir}")
