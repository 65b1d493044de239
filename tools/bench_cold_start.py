"""Cold start, ours against Math-Verify 0.9.0: a fresh Python process imports the grader and gives its first verdict
that needs SymPy (`x+1` against a boxed `1+x`), timed inside that process from before the import to the verdict.
Each repetition starts one fresh process per grader, interleaved (ours, Math-Verify, ours, ...), so a load change
hits both; the table gives the median, the range, and the median of each repetition's ratio.

    python tools/bench_cold_start.py [--repeats 15] [--out results/bench_cold_start.md] [--baseline DIR]

`--baseline DIR`: also time the grader of another checkout (e.g. `git worktree add /tmp/before main`), interleaved.

Ours (graders/zygote.py): the first call that needs SymPy forks the grading zygote, which forks the first worker
at once; that worker imports SymPy and the LaTeX parser (collector off), then compares. Math-Verify imports SymPy
and its parser in the calling process and compares there. Also timed: the second verdict of a new shape in the
same process (ours: the same cold first worker; Math-Verify: its warmed process), and the load average before
and after (a shared machine).

Byte code: `graders/` is byte-compiled first, as `pip install` does and as Math-Verify's site-packages are. Where
PYTHONDONTWRITEBYTECODE is set (this machine), a checkout would otherwise compile our modules from source in
every fresh process (~20 ms).
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
if sys.argv[1] == "ours":
    from graders.math import grade
    first = lambda: grade(gold="x+1", response="so \\boxed{1+x}").correct
    second = lambda: grade(gold="\\sqrt{12}", response="so \\boxed{2\\sqrt{3}}").correct
else:
    import logging
    from math_verify import parse, verify
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    first = lambda: verify(parse("$x+1$"), parse("so \\boxed{1+x}"))
    second = lambda: verify(parse("$\\sqrt{12}$"), parse("so \\boxed{2\\sqrt{3}}"))
ok = first()
t1 = time.perf_counter()
ok2 = second()
t2 = time.perf_counter()
print(json.dumps({"cold_s": t1 - t0, "second_s": t2 - t1, "ok": bool(ok) and bool(ok2)}))
"""


def once(which: str, root: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", CHILD, which], cwd=root, env=env, capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["ok"]:
        raise SystemExit(f"{which}: a verdict was wrong: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=ROOT / "results/bench_cold_start.md")
    parser.add_argument("--baseline", type=Path, help="another checkout whose grader is timed too")
    args = parser.parse_args()
    graders = {"ours": ("ours", ROOT), "mv": ("mv", ROOT)}
    if args.baseline:
        graders["baseline"] = ("ours", args.baseline.resolve())
    for _, root in graders.values():
        compileall.compile_dir(root / "graders", quiet=1)
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {key: [] for key in graders}
    for _ in range(args.repeats):
        for key, (which, root) in graders.items():
            runs[key].append(once(which, root))
    load_after = os.getloadavg()
    rows = []
    names = {"ours": "ours", "mv": "Math-Verify 0.9.0", "baseline": f"ours at {args.baseline}"}
    for key, result in runs.items():
        cold = [r["cold_s"] for r in result]
        second = [r["second_s"] * 1000 for r in result]
        rows.append(f"| {names[key]} | {statistics.median(cold):.3f} | {min(cold):.3f}-{max(cold):.3f} | "
                    f"{statistics.median(second):.1f} |")
    ratio = statistics.median(r["cold_s"] for r in runs["mv"]) / statistics.median(r["cold_s"] for r in runs["ours"])
    paired = statistics.median(m["cold_s"] / o["cold_s"] for m, o in zip(runs["mv"], runs["ours"]))
    lines = ["# Cold start: fresh process, import + first verdict that needs SymPy", "",
             f"Command: `python tools/bench_cold_start.py --repeats {args.repeats}"
             f"{' --baseline ' + str(args.baseline) if args.baseline else ''}`; load average "
             f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; {os.cpu_count()} CPUs.", "",
             "| grader | cold start s (median) | range | second verdict, new shape, ms (median) |",
             "|---|---|---|---|", *rows, "", f"Math-Verify / ours (median cold start): {ratio:.2f}x; "
             f"median of the {args.repeats} paired ratios: {paired:.2f}x", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
