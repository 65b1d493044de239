"""Leaderboard: every run's summary.json under a folder, as a MiMo-style table (benchmarks as rows, models as
columns, "pass@1 ± SE (n)") in markdown, CSV or a self-contained HTML page with a plot (base64 PNG, no server).

A column is a model at one set of settings (temperature, top-p, max tokens, seed, system prompt, result-changing
backend options): two runs of one model at different settings are two columns, named by what differs. A row is a
benchmark at one set of data settings (version, prompt, options such as a LiveCodeBench window), named likewise.
Two runs at identical settings are one cell: the newer is shown and the other named in a warning.

The ± is the sampling (run-to-run) standard error; the between-problem standard error (what lighteval prints)
is in the detail table beside it, labelled, never mixed with the first. The plot draws either one or both, and
says which.
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
# Settings that belong to a benchmark's data rather than to how the model was run: they tell rows apart.
BENCHMARK_SETTINGS = ("benchmark_version", "prompt_sha256", "benchmark_options", "code_mode")
ERROR_BARS = ("both", "sampling", "between-problem")
# Published pass@1 (XiaomiMiMo/MiMo README = report Tables 4-6; research/eval_harness.md §1), for side-by-side columns
PUBLISHED = {
    "MiMo-7B-RL": {"math500": 95.8, "aime24": 68.2, "aime25": 55.4, "lcb_v5": 57.8, "lcb_v6": 49.3},
    "MiMo-7B-SFT": {"math500": 93.0, "aime24": 58.7, "aime25": 44.3, "lcb_v5": 52.3, "lcb_v6": 45.5},
    "MiMo-7B-RL-Zero": {"math500": 93.6, "aime24": 56.4, "aime25": 46.3, "lcb_v5": 49.1, "lcb_v6": 42.9},
    "R1-Distill-Qwen-7B": {"math500": 92.8, "aime24": 55.5, "aime25": 38.8, "lcb_v5": 37.6, "lcb_v6": 23.9},
}


@dataclass(frozen=True)
class Entry:
    summary: dict
    column: str       # the model, plus the run settings that tell its columns apart
    row: str          # the benchmark, plus the data settings that tell its rows apart


@dataclass(frozen=True)
class Board:
    entries: list[Entry]               # one per (model, benchmark, settings): the latest run
    references: tuple[str, ...] = ()   # PUBLISHED models shown beside the runs

    @property
    def models(self) -> list[str]:
        return sorted({e.column for e in self.entries})

    @property
    def benchmarks(self) -> list[str]:
        rows = {e.row: e.summary["benchmark"] for e in self.entries}
        order = {b: i for i, b in enumerate(BENCHMARK_ORDER)}
        return sorted(rows, key=lambda r: (order.get(rows[r], len(order)), rows[r], r))

    def benchmark_of(self, row: str) -> str:
        return next(e.summary["benchmark"] for e in self.entries if e.row == row)

    def get(self, row: str, column: str) -> dict | None:
        return next((e.summary for e in self.entries if (e.row, e.column) == (row, column)), None)


def run_settings(summary: dict) -> dict:
    """What a run was asked with (COMPARABLE_KEYS); summaries written before `settings` existed carry a subset."""
    if "settings" in summary:
        return summary["settings"]
    legacy = ("model", "benchmark", "prompt_sha256", "temperature", "top_p", "max_tokens", "seed")
    return {k: summary.get(k) for k in legacy}


def collect(runs_dir: Path, references: tuple[str, ...] = ()) -> Board:
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"{runs_dir} is not a folder: give the --out folder of `mimo-eval run`")
    latest: dict[str, tuple[float, Path, dict]] = {}
    for path in sorted(runs_dir.rglob("summary.json")):
        summary = json.loads(path.read_text())
        key, mtime = _key(summary, run_settings(summary)), path.stat().st_mtime
        if key in latest:
            older, newer = sorted([(mtime, path), latest[key][:2]])
            log.warning("two runs of %s on %s at the same settings; showing the newer (%s), not %s",
                        summary["model"], summary["benchmark"], newer[1].parent, older[1].parent)
        if key not in latest or mtime >= latest[key][0]:
            latest[key] = (mtime, path, summary)
    if not latest:
        raise FileNotFoundError(f"no summary.json under {runs_dir}: finish a run (`mimo-eval run`) or "
                                "score one (`mimo-eval score RUN_DIR`)")
    summaries = [s for _, _, s in latest.values()]
    columns = _labels(summaries, "model", lambda k: k not in BENCHMARK_SETTINGS)
    rows = _labels(summaries, "benchmark", lambda k: k in BENCHMARK_SETTINGS)
    return Board([Entry(s, c, r) for s, c, r in zip(summaries, columns, rows)], tuple(references))


def _key(summary: dict, settings: dict) -> str:
    return json.dumps([summary["model"], summary["benchmark"], settings], sort_keys=True, ensure_ascii=False)


def _labels(summaries: list[dict], name: str, wanted) -> list[str]:
    """Per summary, its `name` (model or benchmark) followed by the wanted settings in which the runs sharing that
    name differ, e.g. "model-A (temperature=1.0)"; the bare name when they do not differ."""
    def part(s: dict) -> dict:
        return {k: v for k, v in run_settings(s).items() if k not in ("model", "benchmark") and wanted(k)}

    labels = []
    for s in summaries:
        siblings = [part(o) for o in summaries if o[name] == s[name]]
        keys = sorted({k for d in siblings for k in d})
        differ = [k for k in keys if len({json.dumps(d.get(k), sort_keys=True) for d in siblings}) > 1]
        shown = ", ".join(f"{k}={_short(part(s).get(k))}" for k in differ)
        labels.append(f"{s[name]} ({shown})" if shown else s[name])
    return labels


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 24 else text[:23] + "…"


def cell(summary: dict | None) -> str:
    if summary is None:
        return "-"
    return f"{summary['pass@1']:.1f} ± {summary['sampling_se']:.1f} ({summary['n']})"


def detail_rows(board: Board) -> list[dict]:
    rows = []
    for e in sorted(board.entries, key=lambda e: (board.benchmarks.index(e.row), e.column)):
        s, out = e.summary, e.summary["outcomes"]
        maj = s.get("maj@k") or {}
        rows.append({
            "benchmark": e.row, "model": e.column, "n": s["n"], "problems": s["num_problems"],
            "pass@1": f"{s['pass@1']:.2f}", "sampling SE": f"{s['sampling_se']:.2f}",
            "between-problem SE": f"{s['between_problem_se']:.2f}",
            # two numeric columns, so a spreadsheet or pandas reads the interval without parsing "a–b"
            "95% CI low (sampling)": f"{s['ci95_sampling'][0]:.2f}",
            "95% CI high (sampling)": f"{s['ci95_sampling'][1]:.2f}",
            "pass@n": f"{s['pass@k'][str(s['n'])]:.1f}",
            "maj@n": f"{maj[str(s['n'])]:.1f}" if str(s["n"]) in maj else "-",
            "timeouts": out.get("timeout", 0), "errors": out.get("error", 0),
            "no answer": out.get("no_answer", 0), "truncated": out.get("truncated", 0),
            "T / top-p / max tokens": f"{s.get('temperature')} / {s.get('top_p')} / {s.get('max_tokens')}",
            "prompt": str(s.get("prompt_sha256", ""))[:8]})
    return rows


def render(board: Board, fmt: str, error_bars: str = "both") -> str:
    """The board as md, csv or html; `error_bars` (ERROR_BARS) picks what the HTML page's plot draws."""
    if fmt == "html":
        return _html(board, error_bars)
    return {"md": _markdown, "csv": _csv}[fmt](board)


def _header(board: Board) -> list[str]:
    return ["benchmark"] + board.models + [f"{r} (paper)" for r in board.references]


def _main_rows(board: Board) -> list[list[str]]:
    return [[b] + [cell(board.get(b, m)) for m in board.models]
            + [f"{PUBLISHED[r][board.benchmark_of(b)]:.1f}" if board.benchmark_of(b) in PUBLISHED[r] else "-"
               for r in board.references]
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


def _html(board: Board, error_bars: str) -> str:
    details = detail_rows(board)
    style = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:14px}th{background:#f3f3f3}"
             "td:first-child,th:first-child{text-align:left}img{max-width:100%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>mimo-eval leaderboard</title>"
            f"<style>{style}</style></head><body><h1>mimo-eval leaderboard</h1>"
            f"{_html_table(_header(board), _main_rows(board))}<p><em>{html.escape(CELL_NOTE)}</em></p>"
            f"{_plot_html(board, error_bars)}"
            f"<h2>Details</h2>{_html_table(list(details[0]), [list(d.values()) for d in details])}</body></html>\n")


def _plot_html(board: Board, error_bars: str) -> str:
    try:
        png = plot_png_base64(board, error_bars)
    except ImportError:   # matplotlib is the `plot` extra; the tables still tell the story
        log.warning("no plot in the HTML page: pip install 'mimo-eval[plot]' (matplotlib)")
        return "<p>(plot omitted: install matplotlib with <code>pip install 'mimo-eval[plot]'</code>)</p>"
    return (f"<img alt='pass@1 by benchmark and model' src='data:image/png;base64,{png}'>"
            f"<p><em>{html.escape(ERROR_BAR_NOTE[error_bars])}</em></p>")


ERROR_BAR_NOTE = {
    "sampling": "error bars: 95% interval from the sampling SE (how far a rerun with other seeds could move it)",
    "between-problem": "error bars: 95% interval from the between-problem SE (how sure the skill is, given only "
                       "these problems: the one that says whether two models are separable)",
    "both": "error bars: 95% intervals, thick = sampling SE (reruns), thin = between-problem SE (the problem set)",
}


def error_bar(summary: dict, kind: str) -> float:
    """Half-width of the 95% interval from one standard error; NaN (n = 1, one problem) draws no bar."""
    se = summary["sampling_se" if kind == "sampling" else "between_problem_se"]
    return 0.0 if se != se else 1.96 * se


def plot_png_base64(board: Board, error_bars: str = "both") -> str:
    """Grouped bars of pass@1 with 95% intervals as error bars: sampling, between-problem, or both (ERROR_BARS)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benchmarks, models = board.benchmarks, board.models
    kinds = ("between-problem", "sampling") if error_bars == "both" else (error_bars,)
    width = 0.8 / max(1, len(models))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(benchmarks) * max(1, len(models)) ** 0.5), 4.2), dpi=110)
    for j, model in enumerate(models):
        placed = [(i + (j - (len(models) - 1) / 2) * width, board.get(b, model)) for i, b in enumerate(benchmarks)]
        placed = [(x, s) for x, s in placed if s is not None]
        bars = ax.bar([x for x, _ in placed], [s["pass@1"] for _, s in placed], width, label=model)
        for kind in kinds:   # the wider interval first, so the narrower one stays visible on top
            thick = kind == "sampling" and error_bars == "both"
            ax.errorbar([x for x, _ in placed], [s["pass@1"] for _, s in placed], fmt="none", ecolor="#222",
                        yerr=[error_bar(s, kind) for _, s in placed], elinewidth=3 if thick else 1,
                        capsize=0 if thick else 4)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, label_type="center", color="white")   # clear of the bars
    ax.set_xticks(range(len(benchmarks)), benchmarks)
    ax.set_ylabel("pass@1 (avg@n), %")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(3, len(models)), frameon=False)
    ax.set_title(ERROR_BAR_NOTE[error_bars].split(" (")[0] if error_bars != "both" else
                 "error bars: 95%, thick = sampling, thin = between-problem", fontsize=9)
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
    if s.get("samples_beyond_n"):
        console.print(f"reported on the first {s['n']} samples of each problem: {s['samples_beyond_n']} stored "
                      "beyond them are not counted (a larger --n counts them)", soft_wrap=True)
    for key, groups in (s.get("breakdown") or {}).items():
        console.print(f"by {key}: " + ", ".join(f"{g} {v['pass@1']:.1f} ({v['num_problems']})"
                                                for g, v in groups.items()))
    console.print(f"run directory: {run_dir}")
