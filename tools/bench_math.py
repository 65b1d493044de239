"""Our math grader next to Math-Verify 0.9.0, on the held-out data, in one run.

    python tools/bench_math.py [--data ../shared/data/math_grader_heldout] [--out results/bench_math.md]
    python tools/bench_math.py --only-speed     # section 4 alone, printed

Sections: (1) Math-Verify's own 269 labelled test pairs, (2) the 800 Qwen2.5-Math responses
(agreement with Math-Verify and with the stored labels), (3) MathArena's 55 human-corrected parser
failures, (7) the 800 in reward mode at the default deadline (which real responses time out, and
how), (4) speed on the 800 (each grader in a fresh process, one call at a time, every pair once;
throughput with 2 workers), (5) the pathological inputs of issue #3 and (6) 665 real reasoning-model
outputs (tools/bench_math_reasoning.py). Prints rich tables and writes them as Markdown.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders.math import grade, grade_many

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_math_reasoning import section_reasoning  # noqa: E402

# Correctness sections use a generous deadline so that machine load cannot turn a comparison into a
# timeout; the default 1 s deadline is what sections 4 and 5 measure.
CORRECTNESS_TIMEOUT_S = 10.0

PATHOLOGICAL = {
    "9^{9^{9}}": "\\boxed{9^{9^{9}}}",
    "2^{2^{2^{2^{2^{2}}}}}": "\\boxed{2^{2^{2^{2^{2^{2}}}}}}",
    "1000000!": "\\boxed{1000000!}",
    "10,000 nested braces": "\\boxed{" + "{" * 10000 + "1" + "}" * 10000 + "}",
    "1 MB response": ("Let us think. " * 75000)[:1_000_000] + " \\boxed{7}",
}


def mv_parse_verify(gold: str, pred: str, match_types=None, precision=None, strict=None, allow_set=None) -> bool:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    def configs(types):
        if types in (None, "parse_default"):
            return None
        out = []
        for t in types:
            out.append(LatexExtractionConfig(boxed_match_priority=0) if t == "latex" else ExprExtractionConfig())
        return out

    cfg = configs(match_types)
    g = parse(gold, cfg) if cfg else parse(gold)
    p = parse(pred, cfg) if cfg else parse(pred)
    kw = {}
    if precision is not None:
        kw["float_rounding"] = precision
    if strict is not None:
        kw["strict"] = strict
    if allow_set is not None:
        kw["allow_set_relation_comp"] = allow_set
    return bool(verify(g, p, **kw))


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open()]


def section_mv_tests(data: Path, out: list[str], console: Console) -> None:
    rows = load_jsonl(data / "math_verify_testcases.jsonl")
    # An upstream test's flags are passed on to our opt-in options: float_rounding as `decimals`, and
    # strict / allow_set_relation_comp under the same names (None: the default).
    ours = [grade(gold=r["gold"], response=r["pred"], timeout_s=CORRECTNESS_TIMEOUT_S, decimals=r["precision"],
                  strict=r["strict"] is not False, allow_set_relation_comp=r["allow_set_relation_comp"] is True)
            for r in rows]
    ours_ok = mv_ok = 0
    mismatches = []
    for r, v in zip(rows, ours):
        mv = mv_parse_verify(r["gold"], r["pred"], r["match_types"], r["precision"], r["strict"], r["allow_set_relation_comp"])
        mv_ok += int(mv) == r["expected"]
        if int(v.correct) == r["expected"]:
            ours_ok += 1
        else:
            mismatches.append((r, v))
    _table(console, out, "1. Math-Verify's 269 test pairs: verdicts matching the labels",
           ["grader", "matching", "of"], [["ours", ours_ok, len(rows)], ["Math-Verify 0.9.0", mv_ok, len(rows)]])
    out.append("Our mismatches (label, gold, response tail, our extracted answer, reason):\n")
    for r, v in mismatches:
        out.append(f"- label={r['expected']} gold=`{r['gold'][:60]}` pred=`{r['pred'][-80:]!s}` "
                   f"extracted=`{v.extracted}` reason={v.reason} {v.detail[:80]}".replace("\n", " "))
    out.append("")


def qwen_pairs(data: Path) -> tuple[list[tuple[str, str]], list[tuple[int, bool]]]:
    pairs, labels = [], []
    for row in load_jsonl(data / "qwen25math_math_cot_100.jsonl"):
        for resp, score in zip(row["code"], row["score"]):
            pairs.append((row["gt"], resp))
            labels.append((row["idx"], bool(score)))
    return pairs, labels


def section_qwen(data: Path, out: list[str], console: Console) -> list[tuple[str, str]]:
    pairs, labels = qwen_pairs(data)
    ours = grade_many(pairs, workers=2, progress=False, timeout_s=CORRECTNESS_TIMEOUT_S)
    mv = [mv_parse_verify("$" + g + "$", r) for g, r in pairs]
    agree = sum(o.correct == m for o, m in zip(ours, mv))
    _table(console, out, "2. 800 Qwen2.5-Math responses", ["measure", "value"], [
        ["ours agree with Math-Verify", f"{agree}/800"],
        ["ours agree with stored labels", f"{sum(o.correct == l[1] for o, l in zip(ours, labels))}/800"],
        ["Math-Verify agrees with stored labels", f"{sum(m == l[1] for m, l in zip(mv, labels))}/800"],
        ["accuracy ours / Math-Verify", f"{sum(o.correct for o in ours) / 8:.2f} / {sum(mv) / 8:.2f}"],
    ])
    out.append("Disagreements with Math-Verify (idx, gold, our extracted, ours, MV, stored label):\n")
    for (g, _), o, m, (idx, lab) in zip(pairs, ours, mv, labels):
        if o.correct != m:
            out.append(f"- idx {idx}: gold=`{g}` ours=`{o.extracted}` -> {o.correct} ({o.reason}); MV -> {m}; label {lab}")
    out.append("")
    return pairs


def section_matharena(data: Path, out: list[str], console: Console) -> None:
    rows = [r for r in load_jsonl(data / "matharena_parse_manual.jsonl") if r["kind"] == "manual_mapper"]
    pairs = [(r["human_corrected"], "\\boxed{" + r["raw_boxed_content"] + "}") for r in rows]
    ours = grade_many(pairs, workers=2, progress=False, timeout_s=CORRECTNESS_TIMEOUT_S)
    mv = [mv_parse_verify("$" + g + "$", p) for g, p in pairs]
    _table(console, out, "3. MathArena manual_mapper rows judged equal to the human correction",
           ["grader", "correct", "of"], [["ours", sum(v.correct for v in ours), len(rows)], ["Math-Verify 0.9.0", sum(mv), len(rows)]])
    out.append("Rows we miss (human correction, raw boxed content with whitespace folded, our reason):\n")
    for r, v in zip(rows, ours):
        if not v.correct:
            raw = " ".join(r["raw_boxed_content"].split())
            out.append(f"- `{r['human_corrected'][:70]}` vs `{raw[:110]}`: {v.reason}")
    out.append("")


def _timed(fn, pairs, clock=time.perf_counter) -> list[float]:
    times = []
    for g, r in pairs:
        t = clock()
        fn(g, r)
        times.append((clock() - t) * 1000)
    return times


class _InProcess:
    """Stands in for the worker pool in `--time-fresh ours-cpu`: the worker's job runs here, in a process
    warmed by `graders.math.warm` as the zygote is, so its CPU time can be read per pair."""

    def call(self, fn, args, timeout_s, cache=False):
        return fn(*args)


def time_fresh(which: str, data: Path) -> None:
    """Child-process entry (`--time-fresh ours|ours-cpu|mv|mv-cpu`): one call to start the grader (our
    worker pool, or Math-Verify's imports), then every one of the 800 pairs once; prints the times as
    JSON. `-cpu`: CPU time of the grading process instead of wall time (immune to a loaded machine)."""
    import logging

    import graders.math

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    if which == "ours-cpu":
        import graders.math.warm

        graders.math.warm.warm()

        graders.math.shared_pool = lambda *args: _InProcess()
    fn = ((lambda g, r: grade(gold=g, response=r)) if which.startswith("ours")
          else (lambda g, r: mv_parse_verify("$" + g + "$", r)))
    clock = time.process_time if which.endswith("-cpu") else time.perf_counter
    t = time.perf_counter()
    fn("1", "\\boxed{x+1}")
    start_s = time.perf_counter() - t
    print(json.dumps({"start_s": start_s, "times_ms": _timed(fn, qwen_pairs(data)[0], clock)}))


def section_speed(data: Path, pairs, out: list[str], console: Console) -> None:
    runs = {}
    for which in ("ours", "mv", "ours-cpu", "mv-cpu"):
        child = subprocess.run([sys.executable, __file__, "--time-fresh", which, "--data", str(data)],
                               capture_output=True, text=True, check=True)
        runs[which] = json.loads(child.stdout.strip().splitlines()[-1])
    t0 = time.perf_counter()
    grade_many(pairs, workers=2, progress=False)
    two = len(pairs) / (time.perf_counter() - t0)
    q = lambda ts, p: statistics.quantiles(ts, n=100)[p - 1]  # noqa: E731
    stats = {w: (statistics.median(r["times_ms"]), q(r["times_ms"], 99), statistics.mean(r["times_ms"]),
                 max(r["times_ms"])) for w, r in runs.items()}
    rows = []
    for ours, mv, what in (("ours", "mv", "wall"), ("ours-cpu", "mv-cpu", "CPU")):
        for w, name in ((ours, "ours"), (mv, "Math-Verify 0.9.0")):
            rows.append([f"{name}, {what}", f"{runs[w]['start_s']:.2f}", *(f"{x:.3f}" for x in stats[w]),
                         sum(t > 50 for t in runs[w]["times_ms"]), f"{two:.0f}" if w == "ours" else ""])
        rows.append([f"ratio MV / ours, {what}", "", *(f"{m / o:.1f}x" for m, o in zip(stats[mv], stats[ours])), "", ""])
    _table(console, out, "4. Speed on the 800 pairs: each grader in a fresh process, every pair once, one call at a "
           "time (ms per pair; start s = the first call, which starts our worker pool or imports Math-Verify; "
           "CPU = the grading process's CPU time, ours with the worker's job run in a warmed process)",
           ["grader", "start s", "median", "p99", "mean", "max", "pairs over 50 ms", "pairs/s, 2 workers"], rows)
    slowest = sorted(range(len(pairs)), key=lambda i: -runs["ours"]["times_ms"][i])[:5]
    out.append("Our five slowest pairs, wall (CPU) ms and gold: " + "; ".join(
        f"{runs['ours']['times_ms'][i]:.1f} ({runs['ours-cpu']['times_ms'][i]:.1f}) `{pairs[i][0]}`" for i in slowest) + "\n")


def section_pathological(out: list[str], console: Console) -> None:
    rows = []
    for name, resp in PATHOLOGICAL.items():
        t = time.perf_counter()
        v = grade(gold="2", response=resp, timeout_s=1.0)
        ours_s = time.perf_counter() - t
        t = time.perf_counter()
        try:
            mv = mv_parse_verify("$2$", resp)
        except BaseException as exc:  # noqa: BLE001 - recording what the anchor does
            mv = type(exc).__name__
        rows.append([name, f"{ours_s:.2f}", f"{v.correct} ({v.reason})", f"{time.perf_counter() - t:.2f}", str(mv)])
    _table(console, out, "5. Pathological responses, gold 2, deadline 1 s (Math-Verify: its default 5 s signal timeouts)",
           ["input", "ours s", "ours verdict", "Math-Verify s", "MV verdict"], rows)


def section_deadline(pairs: list[tuple[str, str]], out: list[str], console: Console) -> None:
    """The 800 at the default 1 s deadline, reward mode: how many real responses the deadline decides, and
    how many right ones a CPU-bound deadline turns into a 0 (`response_too_costly`; starved stays masked)."""
    generous = grade_many(pairs, workers=2, mode="reward", progress=False, timeout_s=CORRECTNESS_TIMEOUT_S)
    tight = grade_many(pairs, workers=2, mode="reward", progress=False, timeout_s=1.0)
    count = lambda reason: sum(v.reason == reason for v in tight)  # noqa: E731
    lost = sum(g.score == 1.0 and t.score == 0.0 for g, t in zip(generous, tight))
    _table(console, out, "7. The 800 in reward mode at the default 1 s deadline", ["measure", "value"], [
        ["response_too_costly (score 0)", count("response_too_costly")], ["timeout, starved (masked)", count("timeout")],
        [f"reward 1.0 at {CORRECTNESS_TIMEOUT_S:g} s, 0.0 at 1 s", lost],
    ])


def _table(console: Console, out: list[str], title: str, header: list[str], rows: list[list]) -> None:
    table = Table(title=title)
    for h in header:
        table.add_column(h)
    for r in rows:
        table.add_row(*map(str, r))
    console.print(table)
    out += [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    out.append("")


def main() -> None:
    import logging

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)   # it logs whole pathological inputs
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=here.parent / "shared/data/math_grader_heldout")
    parser.add_argument("--out", type=Path, default=here / "results/bench_math.md")
    parser.add_argument("--reasoning-data", type=Path, default=here.parent / "shared/data/reasoning_outputs")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--only-reasoning", action="store_true", help="section 6 only")
    parser.add_argument("--only-speed", action="store_true", help="section 4 only (the warm path), printed, not written")
    parser.add_argument("--time-fresh", choices=("ours", "mv", "ours-cpu", "mv-cpu"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_fresh:
        return time_fresh(args.time_fresh, args.data)
    console, out = Console(), ["# Math grader vs Math-Verify 0.9.0", "", "Command: `python tools/bench_math.py`", ""]
    if args.only_speed:
        return section_speed(args.data, qwen_pairs(args.data)[0], out, console)
    if not args.only_reasoning:
        section_mv_tests(args.data, out, console)
        pairs = section_qwen(args.data, out, console)
        section_matharena(args.data, out, console)
        section_deadline(pairs, out, console)
        if not args.skip_speed:
            section_speed(args.data, pairs, out, console)
            section_pathological(out, console)
    section_reasoning(args.reasoning_data, out, console, mv_parse_verify, _table, CORRECTNESS_TIMEOUT_S)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(out) + "\n")
    console.print(f"written {args.out}")


if __name__ == "__main__":
    main()
