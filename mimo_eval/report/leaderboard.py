"""Leaderboard: every run's summary.json under a folder, as a MiMo-style table (benchmarks as rows, models as
columns, "pass@1 ± SE (n)") in markdown, CSV or a self-contained HTML page with a plot (base64 PNG, no server).

A column is a model at one set of settings (temperature, top-p, max tokens, seed, system prompt, result-changing
backend options, chat template variables, the truncation policy): two runs of one model at different settings are
two columns, named by what differs. A row is a benchmark at one set of data settings (version, prompt, options such
as a LiveCodeBench window), named likewise; a --limit run is always labelled "[first N of M problems]", so a smoke
test never reads as a full run. Two runs at identical settings are one cell: the one with more samples per problem
is shown (the newer on a tie) and the other is named under the table. The detail table names the run directory
each cell comes from.

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

from mimo_eval.harness.files import read_summary

log = logging.getLogger(__name__)

BENCHMARK_ORDER = ("math500", "aime24", "aime25", "lcb_v5", "lcb_v6", "livecodebench")
CELL_NOTE = "cell = pass@1 (avg@n) ± sampling SE (n); between-problem SE in the detail table"
# Settings that belong to a benchmark's data rather than to how the model was run: they tell rows apart.
BENCHMARK_SETTINGS = ("benchmark_version", "prompt_sha256", "benchmark_options", "code_mode")
LABELLED_APART = ("model", "benchmark", "limit")   # names of their own, or (limit) a note on every row that has one
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
    entries: list[Entry]               # one per (model, benchmark, settings): the run with most samples, else newest
    references: tuple[str, ...] = ()   # PUBLISHED models shown beside the runs
    root: Path = Path(".")             # the folder the runs were collected from (run paths are shown relative to it)
    hidden: tuple[str, ...] = ()       # one note per run not shown because another has the same settings

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
    by_key: dict[str, list[tuple[tuple, Path, dict]]] = {}
    for path in sorted(runs_dir.rglob("summary.json")):
        summary = read_summary(path.parent)
        # more samples per problem first, then the newer: a quick rerun at small n never hides a fuller run
        rank = (summary["n"], path.stat().st_mtime)
        by_key.setdefault(_key(summary, run_settings(summary)), []).append((rank, path.parent, summary))
    if not by_key:
        raise FileNotFoundError(f"no summary.json under {runs_dir}: finish a run (`mimo-eval run`) or "
                                "score one (`mimo-eval score RUN_DIR`)")
    shown, hidden = [], []
    for runs in by_key.values():
        runs.sort(key=lambda r: r[0], reverse=True)
        (_, best, summary), others = runs[0], runs[1:]
        shown.append({**summary, "run_dir": str(best)})
        for _, other, s in others:
            note = (f"{_relative(other, runs_dir)} (n={s['n']}) not shown: same settings as "
                    f"{_relative(best, runs_dir)} (n={summary['n']}), which has more samples or is newer")
            log.warning("%s", note)
            hidden.append(note)
    columns = _labels(shown, "model", lambda k: k not in BENCHMARK_SETTINGS)
    rows = [label + _limit_note(s) for s, label in zip(shown, _labels(shown, "benchmark",
                                                                        lambda k: k in BENCHMARK_SETTINGS))]
    return Board([Entry(s, c, r) for s, c, r in zip(shown, columns, rows)], tuple(references), runs_dir,
                 tuple(hidden))


def _limit_note(summary: dict) -> str:
    """A --limit run's row says so whatever else is on the board."""
    if not summary.get("limit"):
        return ""
    return f" [first {summary['num_problems']} of {summary.get('benchmark_problems', '?')} problems]"


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _key(summary: dict, settings: dict) -> str:
    return json.dumps([summary["model"], summary["benchmark"], settings], sort_keys=True, ensure_ascii=False)


def _labels(summaries: list[dict], name: str, wanted) -> list[str]:
    """Per summary, its `name` (model or benchmark) followed by the wanted settings in which the runs sharing that
    name differ, e.g. "model-A (temperature=1.0)"; the bare name when they do not differ."""
    parts = [{k: v for k, v in run_settings(s).items() if k not in LABELLED_APART and wanted(k)} for s in summaries]
    return setting_labels([s[name] for s in summaries], parts)


def setting_labels(names: list[str], settings: list[dict]) -> list[str]:
    """Each name followed by the settings in which it differs from the others of that name (`compare` labels its
    two sides with it, so two settings of one model never read "probe | probe")."""
    labels = []
    for name, mine in zip(names, settings):
        siblings = [d for other, d in zip(names, settings) if other == name]
        keys = sorted({k for d in siblings for k in d})
        differ = [k for k in keys if len({json.dumps(d.get(k), sort_keys=True) for d in siblings}) > 1]
        shown = ", ".join(f"{k}={_short(mine.get(k))}" for k in differ)
        labels.append(f"{name} ({shown})" if shown else name)
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
            "prompt": str(s.get("prompt_sha256", ""))[:8],
            "run": _relative(Path(s["run_dir"]), board.root)})
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
    notes = [f"_{note}_" for note in board.hidden]
    return "\n\n".join([_md_table(_header(board), _main_rows(board)), f"_{CELL_NOTE}_", *notes,
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
            + "".join(f"<p><em>{html.escape(note)}</em></p>" for note in board.hidden) +
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
