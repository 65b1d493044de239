"""Our rewards next to verl 0.9.1's own scorers, each inside verl's own reward managers on CPU, in one run.

    .venvs/verl/bin/python tools/bench_rewards.py [--out results/bench_rewards.md] [--repeats 3]   (PYTHONPATH=.; ~15 min)

Math: the 800 Qwen2.5-Math responses (../shared/data/math_grader_heldout, stored labels from Qwen's
math_equal), decoded by verl's managers from a byte-level tokenizer built in code (exact round trip).
Each scorer runs in a fresh process (no cache carries over from another scorer), --repeats times
(interleaved; the median run is reported, with the range), warmed on 16 other symbolic samples first
(imports, parser tables and our worker processes start there) and timed from a collected heap. Scorers:
verl's default for lighteval/MATH (`math_reward`), `math_dapo`, its Math-Verify scorer
(`verl.utils.reward_score.math_verify`) and our adapter, all in `NaiveRewardManager`; our batch adapter
in `BatchRewardManager` and our async adapter in the reward loop's `RewardLoopWorker`, with a pool of 2
workers. Accuracy = share scored correct (stored labels: 91.0%). Code: 64 completions x 20 stdin tests,
verl's CPU scorer (`prime_code`, unsandboxed) vs ours (Docker sandbox). Ratios against the anchors of
the same run are what count: absolute rates move with the machine's load. Each scorer runs in
tools/reward_managers.py; this script starts those processes and prints the tables.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reward_managers import CODE_SCORERS, CODE_VARIANTS, MATH_SCORERS, ROOT, load_pairs  # noqa: E402

KNOWN_MISLABEL = "10{,}000"   # idx 72: response \\boxed{10000} stored as wrong (math_grader_heldout/README.md)
OVERHEAD_PATHS = ("graders.math.grade", "adapter")


def in_child(section: str, name: str, tmp: Path) -> list:
    """One scorer in a fresh process (no cache carries over from another scorer)."""
    out = tmp / (hashlib.sha1(f"{section}/{name}".encode()).hexdigest()[:12] + ".json")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, str(ROOT / "tools" / "reward_managers.py"), section, name, str(out)],
                   check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def measure(repeats: int) -> tuple[dict[str, list], dict[str, list]]:
    """Every math and overhead scorer `repeats` times, interleaved, so a slow spell of this shared host hits every
    scorer; then each code scorer once. Returns (math and overhead runs per name, code run per name)."""
    runs: dict[str, list] = {name: [] for name in (*MATH_SCORERS, *OVERHEAD_PATHS)}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for name in MATH_SCORERS:
                runs[name].append(in_child("math", name, Path(tmp)))
            for name in OVERHEAD_PATHS:
                runs[name].append(in_child("overhead", name, Path(tmp)))
        code = {name: in_child("code", name, Path(tmp)) for name in CODE_SCORERS}
    return runs, code


def math_rows(runs: dict[str, list], median: dict[str, list], labels: list[bool]) -> list[list[str]]:
    mv_rate = 800 / median["verl math_verify"][0]
    sm_rate = 800 / median["verl math_reward (default)"][0]
    rows = []
    for name in MATH_SCORERS:
        wall, _, acc = median[name]
        correct = [a > 0 for a in acc]
        spread = "-".join(f"{800 / w:,.0f}" for w in (max(r[0] for r in runs[name]), min(r[0] for r in runs[name])))
        rows.append([name, f"{100 * sum(correct) / 800:.1f}%", f"{sum(c == lab for c, lab in zip(correct, labels))}/800",
                     f"{800 / wall:,.0f}", spread, f"{800 / wall / mv_rate:.1f}x", f"{800 / wall / sm_rate:.2f}x"])
    return rows


def agreement_rows(results: dict, labels: list[bool], pairs) -> list[list[str]]:
    """Each class of disagreement between our reward-mode adapter and a verl scorer, with who the labels favour."""
    from graders.math import grade

    verdicts = [grade(gold=g, response=r, mode="reward", timeout_s=10) for g, r in pairs]
    reasons = [("hedged" if v.detail.startswith("hedged") else v.reason) for v in verdicts]
    ours = [a > 0 for a in results["ours, reward mode (naive)"][2]]
    rows = []
    for name in ("verl math_reward (default)", "verl math_dapo", "verl math_verify"):
        theirs = [a > 0 for a in results[name][2]]
        mislabel = [p[0] == KNOWN_MISLABEL for p in pairs]
        classes = Counter((o, t, lab, why, bad) for o, t, lab, why, bad in
                          zip(ours, theirs, labels, reasons, mislabel) if o != t)
        rows.append([name, f"{sum(o == t for o, t in zip(ours, theirs))}/800", "", ""])
        for (o, t, lab, why, bad), n in classes.most_common():
            right = "ours" if (o == lab) != bad else name.split()[1]
            note = " (idx 72, a known wrong label)" if bad else ""
            rows.append(["", f"{n}", f"ours {int(o)} ({why}), verl {int(t)}, label {int(lab)}{note}", right])
    return rows


def table(console, md: list[str], title: str, header: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    t = Table(title=title)
    for h in header:
        t.add_column(h)
    for r in rows:
        t.add_row(*r)
    console.print(t)
    md += [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows] + [""]


def report(console, md: list[str], runs: dict[str, list], code: dict[str, list], repeats: int) -> None:
    """The four tables, printed and added to `md` as markdown."""
    pairs, labels = load_pairs()
    median = {name: sorted(r, key=lambda run: run[0])[len(r) // 2] for name, r in runs.items()}
    table(console, md, "Math: 800 Qwen2.5-Math responses through verl's managers (stored labels: 91.0% correct)",
          ["scorer", "scored correct", "agree with labels", "rewards/s (median)", f"range over {repeats} runs",
           "vs verl math_verify", "vs verl math_reward"], math_rows(runs, median, labels))
    table(console, md, "Agreement with our reward mode, and each disagreement class (who the stored labels favour)",
          ["verl scorer", "count", "class", "right"], agreement_rows(median, labels, pairs))
    expected = [p for p, (n, ok) in CODE_VARIANTS.items() for _ in range(n) if ok]
    verl_rate = 64 * 20 / code["verl prime_code (naive, unsandboxed)"][0]
    table(console, md, "Code: 64 completions x 20 stdin tests (48 completions pass all)",
          ["scorer", "all tests pass", "tests/s", "vs verl prime_code"],
          [[name, f"{sum(a >= 1.0 for a in acc)}/64 (expected {len(expected)})", f"{64 * 20 / wall:,.0f}",
            f"{64 * 20 / wall / verl_rate:.2f}x"] for name, (wall, _, acc) in code.items()])
    naive, grade_s, adapter_s = (median["ours, reward mode (naive)"][0], median["graders.math.grade"][0],
                                 median["adapter"][0])
    table(console, md, "Adapter overhead: the same 800 calls, serially",
          ["path", "s per 800", "vs graders.math.grade"],
          [["graders.math.grade(mode='reward')", f"{grade_s:.2f}", "1.00x"],
           ["graders.rewards.verl.compute_score, called directly", f"{adapter_s:.2f}", f"{adapter_s / grade_s:.2f}x"],
           ["the same inside verl's NaiveRewardManager (+ decode)", f"{naive:.2f}", f"{naive / grade_s:.2f}x"]])


def main() -> None:
    from rich.console import Console

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_rewards.md")
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh-process runs per math scorer, interleaved; the median run is reported")
    args = parser.parse_args()
    import verl

    console, md = Console(), [f"Made by `PYTHONPATH=. .venvs/verl/bin/python tools/bench_rewards.py` "
                              f"(verl {verl.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}).", ""]
    runs, code = measure(args.repeats)
    report(console, md, runs, code, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# Rewards benchmark\n\n" + "\n".join(md))
    console.print(f"written to {args.out}")


if __name__ == "__main__":
    main()
