"""Speed of our DockerSandbox against `docker run` per test and an unisolated host subprocess per test.

    python tools/bench_sandbox.py                 # writes results/bench_sandbox.md
    python tools/bench_sandbox.py --quick         # fewer submissions, for a smoke run

Strategies, all on the same programs and inputs, with `--workers` threads (default 2 = this machine's cores):
  (a) `docker run --rm -i` per test: the runner image, hardened flags, a fresh container per test;
  (b) DockerSandbox: one request per submission to the long-lived driver, one pair of containers per worker
      (the driver's and the tests', whose zygote forks each test);
  (c) host `subprocess.run` per test, rlimits only (no isolation): the anchor a judge without containers pays;
  (d) LocalSandbox: our driver on the host (no isolation), for reference.
Programs: trivial (echo one line) and realistic (20,000 ints on stdin: sort, running max, dict count).
Every output is checked. ms/test = workers x wall / tests (per-worker cost); tests/s = tests / wall.
Targets at 10 tests per submission: (b) >= 20x faster than (a), and no slower than (c).
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sandboxes import Limits, LocalSandbox  # noqa: E402
from sandboxes.build import image_name  # noqa: E402
from sandboxes.docker import DockerSandbox  # noqa: E402

TRIVIAL = "print(input())"
REALISTIC = """import sys
data = sys.stdin.buffer.read().split()
xs = sorted(map(int, data[1:]))
best, run = 0, -1
for x in xs:
    run = max(run, x)
    best += run & 7
counts = {}
for x in xs:
    counts[x % 1000] = counts.get(x % 1000, 0) + 1
print(xs[len(xs) // 2], best, max(counts.values()))
"""
LIMITS = Limits(time_s=10.0, memory_mb=512)
A_SAMPLE = 8  # tests per round timed for (a): ~0.2 s each, and it does not batch
HOST_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
DOCKER_RUN_FLAGS = ["--rm", "-i", "--init", "--network", "none", "--read-only", "--tmpfs", "/tmp:size=64m",
                    "--memory", "576m", "--memory-swap", "576m", "--pids-limit", "128", "--cpus", "1",
                    "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", "65534:65534",
                    "--ulimit", "nofile=256:256", "--ulimit", "fsize=16777216:16777216", "--log-driver", "none"]


def make_inputs(kind: str, n: int, seed: int) -> list[tuple[str, str]]:
    """(stdin, expected stdout) pairs; expected computed here, independently of any sandbox."""
    rng, cases = random.Random(seed), []
    for i in range(n):
        if kind == "trivial":
            line = f"case {seed}-{i}"
            cases.append((line + "\n", line + "\n"))
            continue
        xs = [rng.randrange(10 ** 9) for _ in range(20000)]
        s = sorted(xs)
        best, run = 0, -1
        for x in s:
            run = max(run, x)
            best += run & 7
        counts: dict[int, int] = {}
        for x in s:
            counts[x % 1000] = counts.get(x % 1000, 0) + 1
        stdin = f"{len(xs)}\n" + " ".join(map(str, xs)) + "\n"
        cases.append((stdin, f"{s[len(s) // 2]} {best} {max(counts.values())}\n"))
    return cases


def docker_run_test(program: str, stdin: str) -> str:
    proc = subprocess.run(["docker", "run", *DOCKER_RUN_FLAGS, image_name(), "python3", "-c", program],
                          input=stdin.encode(), capture_output=True, timeout=60)
    return proc.stdout.decode()


def host_subprocess_test(program_file: str, stdin: str) -> str:
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMITS.memory_mb << 20,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20,) * 2)
    proc = subprocess.run([HOST_PYTHON, program_file], input=stdin.encode(), capture_output=True,
                          timeout=LIMITS.time_s, preexec_fn=limits)
    return proc.stdout.decode()


def timed(workers: int, tasks: list, fn) -> tuple[float, list]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        outs = list(pool.map(fn, tasks))
    return time.perf_counter() - t0, outs


def bench_strategy(name: str, program: str, submissions: list[list[tuple[str, str]]], workers: int,
                   sandboxes: dict, program_file: str) -> float:
    """Per-worker ms/test for these submissions (warm); raises if any output is wrong."""
    if name in ("b", "d"):
        sb = sandboxes[name]
        def submit(sub):
            res = sb.run(program, [stdin for stdin, _ in sub], LIMITS)
            assert res.infra_error is None, res.infra_error
            return [r.stdout for r in res.results]
        wall, outs = timed(workers, submissions, submit)
        got = [o for sub in outs for o in sub]
        want = [out for sub in submissions for _, out in sub]
    else:  # per-test strategies do not batch, so (a) is timed on a sample of the round's tests
        cases = [case for sub in submissions for case in sub][:A_SAMPLE if name == "a" else None]
        fn = (lambda s: docker_run_test(program, s)) if name == "a" else \
            (lambda s: host_subprocess_test(program_file, s))
        wall, got = timed(workers, [stdin for stdin, _ in cases], fn)
        want = [out for _, out in cases]
    bad = sum(g != w for g, w in zip(got, want))
    assert not bad and len(got) == len(want), f"{name}: {bad} wrong outputs"
    return workers * wall * 1000 / len(got)


def bench_row(kind: str, program: str, k: int, rounds: int, workers: int, sandboxes: dict,
              program_file: str) -> dict[str, list[float]]:
    """Strategies interleaved round by round, so a load change on this shared machine hits all of them."""
    per_round: dict[str, list[float]] = {s: [] for s in "abcd"}
    warm = [make_inputs(kind, k, 10_000 + w) for w in range(workers)]
    for s in "abcd":  # warm-up: containers started, caches hot
        bench_strategy(s, program, warm, workers, sandboxes, program_file)
    for r in range(rounds):
        subs = [make_inputs(kind, k, workers * r + w) for w in range(workers)]  # one submission per worker
        for s in "abcd":
            per_round[s].append(bench_strategy(s, program, subs, workers, sandboxes, program_file))
    return per_round


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="fewer rounds per row")
    ap.add_argument("--out", default="results/bench_sandbox.md")
    args = ap.parse_args()
    rounds = {10: 3, 100: 2} if args.quick else {10: 9, 100: 5}
    sandboxes = {"b": DockerSandbox(workers=args.workers), "d": LocalSandbox(workers=args.workers)}
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind, program in (("trivial", TRIVIAL), ("realistic", REALISTIC)):
                program_file = os.path.join(tmp, f"{kind}.py")
                Path(program_file).write_text(program)
                for k, n_rounds in rounds.items():
                    per_round = bench_row(kind, program, k, n_rounds, args.workers, sandboxes, program_file)
                    rows.append((kind, k, per_round))
                    print(f"{kind} K={k}: " + ", ".join(f"{s} {statistics.median(v):.1f}"
                                                         for s, v in per_round.items()), flush=True)
    finally:
        sandboxes["b"].close()
    report(rows, args, rounds)
    return 0


STRATEGY_NAMES = {"a": "(a) docker run/test", "b": "(b) DockerSandbox", "c": "(c) host subprocess/test",
                  "d": "(d) LocalSandbox"}


def report(rows, args, rounds) -> None:
    from rich.console import Console
    from rich.table import Table

    header = ["program", "tests/sub"] + [STRATEGY_NAMES[s] for s in "abcd"] + ["(a)/(b)", "(c)/(b)"]
    lines = []
    for kind, k, per_round in rows:
        med = {s: statistics.median(v) for s, v in per_round.items()}
        ratio = {x: statistics.median(a / b for a, b in zip(per_round[x], per_round["b"])) for x in "ac"}
        cells = [f"{med[s]:.1f} ({1000 * args.workers / med[s]:.0f})" for s in "abcd"]
        lines.append([kind, str(k), *cells, f"{ratio['a']:.1f}x", f"{ratio['c']:.2f}x"])
    table = Table(*header, title=f"Sandbox speed: ms/test (tests/s), {args.workers} workers")
    for line in lines:
        table.add_row(*line)
    Console().print(table)
    md = ["# Sandbox speed benchmark\n",
          f"Command: `python tools/bench_sandbox.py{' --quick' if args.quick else ''}`  ",
          f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; host: {platform.platform()}, "
          f"{os.cpu_count()} cores, load average at end {os.getloadavg()[0]:.1f} (shared machine); "
          f"image {image_name()}; host Python for (c): {HOST_PYTHON}.\n",
          "Cells: median over rounds of ms/test (tests/s). ms/test = workers x wall / tests (per-worker cost); "
          f"tests/s = workers x 1000 / ms. Each round gives every strategy one submission per worker, "
          f"interleaved; rounds: {rounds} (by tests per submission). (a) is timed on {A_SAMPLE} tests per round "
          "(it does not batch). Ratios are medians of per-round ratios; > 1 means (b) is faster.\n",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(line) + " |" for line in lines]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(md) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
