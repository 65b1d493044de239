"""Is `mimo-eval run` generation-bound? Grading overlaps generation, so a full run should take about as long as
the slower of generating alone and grading alone, not their sum.

    python tools/bench_overlap.py                                  # writes results/bench_overlap.md
    python tools/bench_overlap.py --delays-ms 50 200 --concurrency 8 --grade-workers 4

Workload: qwen25math_math100 at n 8 (100 MATH problems x 8 = 800 real responses), served by the fake
OpenAI-compatible server of tests/fake_openai_server.py on 127.0.0.1: each request is answered after a fixed
delay with the recorded response of that (problem, sample), so grading is the real math grader on real text
(pass@1 must come out 91.125, as in tests/test_run.py). For each delay, three commands, each a fresh process:
  gen    generation alone: OpenAIBackend.generate on the run's own requests (this script, --generate-only);
  full   `mimo-eval run qwen25math_math100 --backend openai --concurrency C` (generate, store, grade as it goes);
  grade  `mimo-eval score RUN --rescore` on the finished run (grading alone, same grade workers).
Wall times include interpreter start and imports in all three. full/max = full / max(gen, grade) is 1.0 for
perfect overlap; full/sum = full / (gen + grade) is what a run that graded only after generating would reach, 1.0.
span s: first to last sample stored in the full run (its generation, as slowed by grading on the same CPUs);
tail s: seconds the full run went on after its last sample was stored (grading the last samples, the summary).
The server runs in this process (threads that mostly sleep), the commands in their own processes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

BENCHMARK, MODEL, N = "qwen25math_math100", "fake-model", 8


def run_requests():
    """The requests `mimo-eval run` makes for this benchmark at n 8 (same messages, same per-sample seeds)."""
    from benchmarks import qwen25math_math100
    from mimo_eval.harness.run import messages_for, sample_seed
    from mimo_eval.types import Request

    return [Request(problem_id=p.id, sample_index=i, messages=messages_for(p, ""), seed=sample_seed(0, p.id, i))
            for p in qwen25math_math100.load() for i in range(N)]


def recorded_replies(delay_s: float):
    """The fake server's script: after `delay_s`, the recorded response for the request's (prompt, seed)."""
    from benchmarks import qwen25math_math100
    from fake_openai_server import Reply

    prompts = {p.id: p.prompt for p in qwen25math_math100.load()}
    texts = {(r["problem_id"], r["sample_index"]): r["text"] for r in qwen25math_math100.recorded_generations()}
    by_key = {(prompts[r.problem_id], r.seed): texts[(r.problem_id, r.sample_index)] for r in run_requests()}

    def script(body: dict, attempt: int) -> Reply:
        text = by_key[(body["messages"][-1]["content"], body["seed"])]
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return Reply(delay_s=delay_s, body={"choices": [choice], "usage": {"completion_tokens": len(text.split())}})

    return script


def generate_only(base_url: str, concurrency: int) -> None:
    from mimo_eval.backends.openai import OpenAIBackend
    from mimo_eval.types import SamplingParams

    requests = run_requests()
    done = sum(1 for _ in OpenAIBackend(model=MODEL, base_url=base_url, concurrency=concurrency)
               .generate(requests, SamplingParams()))
    if done != len(requests):
        raise SystemExit(f"generated {done} of {len(requests)}")


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, epoch time at exit) of a fresh process."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start, time.time()


def measure(delay_ms: float, concurrency: int, grade_workers: int, tmp: Path) -> dict:
    from fake_openai_server import FakeOpenAIServer

    cli = [sys.executable, "-m", "mimo_eval.cli"]
    out = tmp / f"runs-{delay_ms:g}"
    with FakeOpenAIServer(script=recorded_replies(delay_ms / 1000)) as server:
        gen, _ = timed([sys.executable, __file__, "--generate-only", server.base_url, "--concurrency", str(concurrency)])
        full, full_end = timed(cli + ["run", BENCHMARK, "--model", MODEL, "--backend", "openai", "--base-url", server.base_url,
                            "--concurrency", str(concurrency), "--n", str(N), "--grade-workers", str(grade_workers),
                            "--out", str(out), "--no-progress"])
        served = len(server.generation_attempts())
    run_dir = out / f"{MODEL}__{BENCHMARK}"
    stored = [json.loads(line)["time"] for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    grade, _ = timed(cli + ["score", str(run_dir), "--rescore", "--grade-workers", str(grade_workers), "--no-progress"])
    summary = json.loads((run_dir / "summary.json").read_text())
    if served != 2 * N * 100 or summary["pass@1"] != 91.125:
        raise SystemExit(f"unexpected run: {served} requests served, pass@1 {summary['pass@1']} (expected 91.125)")
    return {"delay_ms": delay_ms, "gen": gen, "grade": grade, "full": full, "span": max(stored) - min(stored),
            "tail": full_end - max(stored),
            "pass@1": summary["pass@1"]}


def render(rows: list[dict], args: argparse.Namespace) -> tuple[Table, str]:
    head = ["delay", "gen s", "grade s", "full s", "gen+grade s", "full/max", "full/sum", "span s", "tail s", "pass@1"]
    table = Table(title=f"{BENCHMARK} n={N}: {100 * N} requests, concurrency {args.concurrency}, "
                        f"{args.grade_workers} grade workers ({os.cpu_count()} CPUs)")
    for h in head:
        table.add_column(h, justify="right")
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        cells = [f"{r['delay_ms']:g} ms", f"{r['gen']:.2f}", f"{r['grade']:.2f}", f"{r['full']:.2f}",
                 f"{r['gen'] + r['grade']:.2f}", f"{r['full'] / max(r['gen'], r['grade']):.2f}",
                 f"{r['full'] / (r['gen'] + r['grade']):.2f}", f"{r['span']:.2f}", f"{r['tail']:.2f}", f"{r['pass@1']:.3f}"]
        table.add_row(*cells)
        lines.append("| " + " | ".join(cells) + " |")
    return table, "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays-ms", type=float, nargs="+", default=[25.0, 50.0, 100.0, 200.0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--grade-workers", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_overlap.md")
    parser.add_argument("--generate-only", metavar="BASE_URL", help=argparse.SUPPRESS)   # the gen measurement
    args = parser.parse_args()
    if args.generate_only:
        generate_only(args.generate_only, args.concurrency)
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(d, args.concurrency, args.grade_workers, Path(tmp)) for d in args.delays_ms]
    table, markdown = render(rows, args)
    Console(width=130).print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# Grading overlaps generation\n\n`python tools/bench_overlap.py "
                        f"--delays-ms {' '.join(f'{d:g}' for d in args.delays_ms)} --concurrency {args.concurrency} "
                        f"--grade-workers {args.grade_workers}`\n\n{table.title}. Wall seconds of fresh processes "
                        f"(interpreter start included); 1.00 in the first ratio is perfect overlap.\n\n"
                        f"{markdown}\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
