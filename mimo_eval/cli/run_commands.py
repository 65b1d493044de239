"""Flags and entry points of `mimo-eval run | score | leaderboard | compare`.

    mimo-eval run aime24 --model XiaomiMiMo/MiMo-7B-RL --backend vllm          # MiMo defaults: n 32, T 0.6, p 0.95
    mimo-eval run lcb_v5 --model M --backend openai --base-url http://host:8000/v1 --concurrency 64
    mimo-eval run aime24 --model XiaomiMiMo/MiMo-7B-RL --backend vllm --num-speculative-tokens 1   # MTP
    mimo-eval run qwen25math_math100 --model qwen25-math --backend replay --replay-file gens.jsonl
    mimo-eval score runs/M__aime24 [--rescore]
    mimo-eval leaderboard runs --format md|csv|html [--html-out board.html]
    mimo-eval compare runs/A__aime24 runs/B__aime24
    mimo-eval merge runs/M__aime24__shard1of2 runs/M__aime24__shard2of2 --out runs/M__aime24
    mimo-eval show runs/M__aime24 --wrong --limit 5     # also: audit runs/M__aime24 --against math-verify

Backend options are flags of their backend only (a flag of another backend is an error); all are recorded in
config.json. Those that change what a sample is (completion mode, dtype, max model length) refuse a resume at
other values; speed options (concurrency, timeouts, batch size, GPUs, MTP) may change between invocations.

Known failures (unknown benchmark, missing model path, malformed JSONL, a changed setting) print one line
`mimo-eval: error: ...` that says what to do, and exit with status 2. Ctrl-C prints one line (how many generations
are saved) and exits 130.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mimo_eval.cli.flags import _fraction, _iso_date, _non_negative_float, _non_negative_int, _positive_int, \
    os_error_line

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130   # 128 + SIGINT, what shells report for Ctrl-C


def add_commands(sub) -> None:
    """run / score / leaderboard / compare (here) and merge / show / audit / export-lcb (inspect_commands.py)."""
    from mimo_eval.cli.inspect_commands import ARGUMENTS

    arguments = {"run": _run_args, "score": _score_args, "leaderboard": _leaderboard_args, "compare": _compare_args,
                 **ARGUMENTS}
    for name, help_text in (("run", "generate, grade and summarize one benchmark for one model (resumable)"),
                            ("score", "grade a run's ungraded samples (or all, --rescore) and rewrite its summary"),
                            ("leaderboard", "table of every run under a folder: benchmarks x models"),
                            ("compare", "paired bootstrap test between two runs or two run folders"),
                            ("merge", "join the shards of one evaluation (--shard K/N) into one run"),
                            ("show", "why samples were graded as they were: gold, extracted answer, reason, tail"),
                            ("audit", "regrade a math run with Math-Verify 0.9.0 and list every differing sample"),
                            ("export-lcb", "write a LiveCodeBench run in LiveCodeBench's own result format")):
        p = sub.add_parser(name, help=help_text)
        arguments[name](p)
        p.set_defaults(func=dispatch)


def _run_args(p: argparse.ArgumentParser) -> None:
    from benchmarks.registry import BENCHMARKS

    p.add_argument("benchmark", nargs="?", help=f"one of: {', '.join(BENCHMARKS)} (or --task-file FILE)")
    p.add_argument("--model", required=True, help="hub id or local directory (replay: a label for the run)")
    p.add_argument("--backend", choices=("vllm", "openai", "hf", "replay"), default="vllm")
    from mimo_eval.cli.backend_options import add_backend_args
    from mimo_eval.cli.run_options import add_run_options

    add_run_options(p, add_backend_args(p))
    p.add_argument("--n", type=_positive_int, help="samples per problem (default: the benchmark's MiMo setting)")
    p.add_argument("--temperature", type=_non_negative_float, default=0.6)
    p.add_argument("--top-p", type=_fraction, default=0.95)
    p.add_argument("--max-tokens", type=_positive_int, help="generation limit per sample (default 32768)")
    p.add_argument("--seed", type=_non_negative_int, default=0)
    p.add_argument("--system-prompt", default="",
                   help="default: an empty system message, as MiMo's evaluation sends (it also keeps a template's "
                        "default system text out); 'none' sends no system message at all, as lighteval and "
                        "LiveCodeBench's runner do (and some templates and APIs require)")
    p.add_argument("--start-date", type=_iso_date, help="LiveCodeBench: first contest date (YYYY-MM-DD), inclusive")
    p.add_argument("--end-date", type=_iso_date, help="LiveCodeBench: last contest date (YYYY-MM-DD), exclusive")
    p.add_argument("--data-path", help="LiveCodeBench: a save_to_disk folder or JSON/JSONL dump "
                                       "(else $LCB_DATA_PATH, else the HF hub)")
    p.add_argument("--out", type=Path, default=Path("runs"), help="folder holding run directories")
    p.add_argument("--new-run", action="store_true", help="start a separate run even if one with other settings exists")
    p.add_argument("--grade-workers", type=_positive_int, default=4, help="grading threads")
    p.add_argument("--code-mode", choices=("lcb", "all_tests"), default="lcb",
                   help="code: stop at the first failing test (LiveCodeBench) or run all (for calibrate-tests)")
    p.add_argument("--no-progress", action="store_true")


def _score_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--rescore", action="store_true", help="regrade every sample (scores.jsonl is replaced)")
    p.add_argument("--truncated", choices=("grade", "wrong"),
                   help="count responses cut at max tokens as graded (MiMo's protocol) or as wrong, from now on; "
                        "no regrading, the summary is rewritten")
    from mimo_eval.cli.run_options import add_report_option

    add_report_option(p)
    p.add_argument("--grade-workers", type=_positive_int, default=4)
    p.add_argument("--no-progress", action="store_true")


def _leaderboard_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs_dir", type=Path)
    p.add_argument("--format", choices=("md", "csv", "html"), default="md")
    p.add_argument("--html-out", type=Path, help="also write the HTML page (with its plot) here")
    from mimo_eval.report.leaderboard import ERROR_BARS, PUBLISHED

    p.add_argument("--error-bars", choices=ERROR_BARS, default="both",
                   help="the plot's 95%% intervals: sampling SE (reruns), between-problem SE (the problem set: "
                        "whether two models are separable), or both (default)")

    p.add_argument("--reference", action="append", default=[], choices=tuple(PUBLISHED),
                   help="add a published model's pass@1 as a column (repeatable)")


def _compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_a", type=Path, help="a run directory, or a folder of runs (matched by benchmark)")
    p.add_argument("run_b", type=Path)
    p.add_argument("--resamples", type=_positive_int, default=10000)
    p.add_argument("--seed", type=_non_negative_int, default=0)


def dispatch(args: argparse.Namespace) -> int:
    from benchmarks.common import BenchmarkDataError
    from benchmarks.registry import UnknownBenchmarkError
    from mimo_eval.backends.common import BackendError
    from mimo_eval.harness.metrics import SampleCountError
    from mimo_eval.harness.run import Interrupted
    from mimo_eval.harness.files import RunStoreError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from mimo_eval.cli import inspect_commands

    handler = {"run": cmd_run, "score": cmd_score, "leaderboard": cmd_leaderboard, "compare": cmd_compare,
               **inspect_commands.HANDLERS}
    try:
        return handler[args.command](args)
    except (UnknownBenchmarkError, BenchmarkDataError, BackendError, SampleCountError, RunStoreError,
            ValueError, FileNotFoundError) as err:
        print(f"mimo-eval: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:   # a full disk, a read-only folder: nothing stored is lost, the line says what to do
        print(f"mimo-eval: error: {os_error_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as stop:   # Ctrl-C: what is stored is safe; a traceback would only hide that
        print(stop, file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("interrupted: nothing is lost; rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def cmd_run(args: argparse.Namespace) -> int:
    from benchmarks.registry import get
    from mimo_eval.cli.backend_options import make_backend
    from mimo_eval.cli.run_options import benchmark_choice, chat_template_check, extra_body, max_tokens, system_prompt
    from mimo_eval.harness.run import RunSettings, execute
    from mimo_eval.types import SamplingParams

    benchmark, task = benchmark_choice(args)
    get(benchmark, task)   # an unknown name fails before any model is loaded
    options = {k: v for k, v in (("start_date", args.start_date), ("end_date", args.end_date),
                                 ("data_path", args.data_path)) if v}
    body = extra_body(args)
    chat_template_check(args, body)
    settings = RunSettings(
        benchmark=benchmark, model=args.model, out=args.out, n=args.n,
        sampling=SamplingParams(temperature=args.temperature, top_p=args.top_p, max_tokens=max_tokens(args, body),
                                seed=args.seed),
        system_prompt=system_prompt(args.system_prompt), benchmark_options={**options, **task},
        grade_workers=args.grade_workers, code_mode=args.code_mode, raw_prompt=args.api_mode == "completion",
        new_run=args.new_run, progress=not args.no_progress, truncated=args.truncated, shard=args.shard,
        progress_every=(args.progress_every, args.progress_percent), limit=args.limit,
        chat_template_kwargs=args.chat_template_kwargs)
    if settings.raw_prompt and settings.system_prompt:
        raise ValueError("--system-prompt needs --api-mode chat: completion mode sends the prompt as raw text")
    run_dir = execute(settings, make_backend(args))
    if settings.shard:
        print(f"shard {args.shard[0]}/{args.shard[1]} stored in {run_dir}; when every shard is done: "
              f"mimo-eval merge SHARD_DIRS... --out DIR")
        return 0
    return _print_and_report(run_dir, args.report_to)


def _print_and_report(run_dir: Path, targets: list[str]) -> int:
    from mimo_eval.report.run_table import print_run

    print_run(run_dir)
    if targets:
        from mimo_eval.report.trackers import report

        for line in report(run_dir, targets):
            print(line)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from mimo_eval.harness.rescore import rescore

    rescore(args.run_dir, regrade_all=args.rescore, grade_workers=args.grade_workers, progress=not args.no_progress,
            truncated=args.truncated)
    return _print_and_report(args.run_dir, args.report_to)


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from mimo_eval.report.leaderboard import collect, render

    board = collect(args.runs_dir, tuple(args.reference))
    if args.html_out:
        args.html_out.write_text(render(board, "html", args.error_bars), encoding="utf-8")
    print(render(board, args.format, args.error_bars))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from mimo_eval.report.compare import compare_paths, render_comparison

    print(render_comparison(compare_paths(args.run_a, args.run_b, resamples=args.resamples, seed=args.seed)))
    return 0
