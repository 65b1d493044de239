"""Flags and entry points of `mimo-eval run | score | leaderboard | compare`.

    mimo-eval run aime24 --model XiaomiMiMo/MiMo-7B-RL --backend vllm          # MiMo defaults: n 32, T 0.6, p 0.95
    mimo-eval run lcb_v5 --model M --backend openai --base-url http://host:8000/v1
    mimo-eval run qwen25math_math100 --model qwen25-math --backend replay --replay-file gens.jsonl
    mimo-eval score runs/M__aime24 [--rescore]
    mimo-eval leaderboard runs --format md|csv|html [--html-out board.html]
    mimo-eval compare runs/A__aime24 runs/B__aime24

Known failures (unknown benchmark, missing model path, malformed JSONL, a changed setting) print one line
`mimo-eval: error: ...` that says what to do, and exit with status 2.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

EXIT_USAGE = 2


def add_harness_arguments(name: str, p: argparse.ArgumentParser) -> None:
    {"run": _run_args, "score": _score_args, "leaderboard": _leaderboard_args, "compare": _compare_args}[name](p)


def _run_args(p: argparse.ArgumentParser) -> None:
    from benchmarks.registry import BENCHMARKS

    p.add_argument("benchmark", help=f"one of: {', '.join(BENCHMARKS)}")
    p.add_argument("--model", required=True, help="hub id or local directory (replay: a label for the run)")
    p.add_argument("--backend", choices=("vllm", "openai", "hf", "replay"), default="vllm")
    p.add_argument("--base-url", default="http://localhost:8000/v1", help="openai backend: server URL")
    p.add_argument("--replay-file", help="replay backend: JSONL of recorded generations")
    p.add_argument("--tensor-parallel-size", type=int, default=1, help="vllm backend")
    p.add_argument("--n", type=int, help="samples per problem (default: the benchmark's MiMo setting)")
    p.add_argument("--temperature", type=float, default=0.6)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--max-tokens", type=int, default=32768)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--system-prompt", default="", help="default empty, as MiMo recommends")
    p.add_argument("--start-date", help="LiveCodeBench: first contest date (YYYY-MM-DD), inclusive")
    p.add_argument("--end-date", help="LiveCodeBench: last contest date (YYYY-MM-DD), exclusive")
    p.add_argument("--data-path", help="LiveCodeBench: a save_to_disk folder or JSON/JSONL dump "
                                       "(else $LCB_DATA_PATH, else the HF hub)")
    p.add_argument("--out", type=Path, default=Path("runs"), help="folder holding run directories")
    p.add_argument("--new-run", action="store_true", help="start a separate run even if one with other settings exists")
    p.add_argument("--grade-workers", type=int, default=4, help="grading threads")
    p.add_argument("--code-mode", choices=("lcb", "all_tests"), default="lcb",
                   help="code: stop at the first failing test (LiveCodeBench) or run all (for calibrate-tests)")
    p.add_argument("--no-progress", action="store_true")


def _score_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--rescore", action="store_true", help="regrade every sample (scores.jsonl is replaced)")
    p.add_argument("--grade-workers", type=int, default=4)
    p.add_argument("--no-progress", action="store_true")


def _leaderboard_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs_dir", type=Path)
    p.add_argument("--format", choices=("md", "csv", "html"), default="md")
    p.add_argument("--html-out", type=Path, help="also write the HTML page (with its plot) here")
    from mimo_eval.leaderboard import PUBLISHED

    p.add_argument("--reference", action="append", default=[], choices=tuple(PUBLISHED),
                   help="add a published model's pass@1 as a column (repeatable)")


def _compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_a", type=Path, help="a run directory, or a folder of runs (matched by benchmark)")
    p.add_argument("run_b", type=Path)
    p.add_argument("--resamples", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)


def dispatch(args: argparse.Namespace) -> int:
    from benchmarks.common import BenchmarkDataError
    from benchmarks.registry import UnknownBenchmarkError
    from mimo_eval.backends.common import BackendError
    from mimo_eval.metrics import SampleCountError
    from mimo_eval.store import RunStoreError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    handler = {"run": cmd_run, "score": cmd_score, "leaderboard": cmd_leaderboard, "compare": cmd_compare}
    try:
        return handler[args.command](args)
    except (UnknownBenchmarkError, BenchmarkDataError, BackendError, SampleCountError, RunStoreError,
            ValueError, FileNotFoundError) as err:
        print(f"mimo-eval: error: {err}", file=sys.stderr)
        return EXIT_USAGE


def make_backend(args: argparse.Namespace):
    from mimo_eval.backends import make_backend as build

    if args.backend == "replay":
        if not args.replay_file:
            raise ValueError("--backend replay needs --replay-file PATH (a JSONL of recorded generations)")
        return build("replay", path=args.replay_file)
    model = args.model
    if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().exists():
        raise FileNotFoundError(f"model path {model} does not exist: give a local model directory "
                                "(with config.json) or a hub id such as XiaomiMiMo/MiMo-7B-RL")
    if args.backend == "openai":
        return build("openai", model=model, base_url=args.base_url)
    if args.backend == "vllm":
        return build("vllm", model=model, tensor_parallel_size=args.tensor_parallel_size, seed=args.seed)
    return build("hf", model=model)


def cmd_run(args: argparse.Namespace) -> int:
    from benchmarks.registry import get
    from mimo_eval.run import RunSettings, execute
    from mimo_eval.types import SamplingParams

    get(args.benchmark)   # an unknown name fails before any model is loaded
    options = {k: v for k, v in (("start_date", args.start_date), ("end_date", args.end_date),
                                 ("data_path", args.data_path)) if v}
    settings = RunSettings(
        benchmark=args.benchmark, model=args.model, out=args.out, n=args.n,
        sampling=SamplingParams(temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens,
                                seed=args.seed),
        system_prompt=args.system_prompt, benchmark_options=options, grade_workers=args.grade_workers,
        code_mode=args.code_mode,
        new_run=args.new_run, progress=not args.no_progress)
    run_dir = execute(settings, make_backend(args))
    from mimo_eval.leaderboard import print_run

    print_run(run_dir)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from mimo_eval.leaderboard import print_run
    from mimo_eval.run import rescore

    rescore(args.run_dir, regrade_all=args.rescore, grade_workers=args.grade_workers, progress=not args.no_progress)
    print_run(args.run_dir)
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from mimo_eval.leaderboard import collect, render

    board = collect(args.runs_dir, tuple(args.reference))
    if args.html_out:
        args.html_out.write_text(render(board, "html"), encoding="utf-8")
    print(render(board, args.format))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from mimo_eval.compare import compare_paths, render_comparison

    print(render_comparison(compare_paths(args.run_a, args.run_b, resamples=args.resamples, seed=args.seed)))
    return 0
