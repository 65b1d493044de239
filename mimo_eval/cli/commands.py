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

# the flag value checks are shared by every subcommand (cli.py imports them from here)
from mimo_eval.cli.flags import (_fraction, _iso_date, _non_negative_float, _non_negative_int,  # noqa: F401
                                  _positive_float, _positive_int, os_error_line)

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130   # 128 + SIGINT, what shells report for Ctrl-C


def add_harness_arguments(name: str, p: argparse.ArgumentParser) -> None:
    from mimo_eval.cli.inspect_commands import ARGUMENTS

    {"run": _run_args, "score": _score_args, "leaderboard": _leaderboard_args, "compare": _compare_args,
     **ARGUMENTS}[name](p)


def _run_args(p: argparse.ArgumentParser) -> None:
    from benchmarks.registry import BENCHMARKS

    p.add_argument("benchmark", nargs="?", help=f"one of: {', '.join(BENCHMARKS)} (or --task-file FILE)")
    p.add_argument("--model", required=True, help="hub id or local directory (replay: a label for the run)")
    p.add_argument("--backend", choices=("vllm", "openai", "hf", "replay"), default="vllm")
    from mimo_eval.cli.run_options import add_run_options

    add_run_options(p, _backend_args(p))
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


def _backend_args(p: argparse.ArgumentParser):
    """Each backend's own constructor options. Defaults are None so that a flag given for another backend can be
    told apart; the constructor's default applies when a flag is left out. Returns the openai group."""
    g = openai = p.add_argument_group("openai backend")
    g.add_argument("--base-url", action="append", help="server URL (default http://localhost:8000/v1); repeat it "
                                                       "for several servers of one model")
    g.add_argument("--concurrency", type=_positive_int, help="requests in flight per server (default 32)")
    g.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key "
                                                        "(default OPENAI_API_KEY; the key is never recorded)")
    g.add_argument("--api-mode", choices=("chat", "completion"),
                   help="chat (default): the server applies the chat template; completion: the benchmark prompt "
                        "is sent as raw text, no template (base models)")
    g.add_argument("--request-timeout", type=_positive_float, metavar="S",
                   help="seconds one whole generation may take (default 3600)")
    g.add_argument("--stall-timeout", type=_positive_float, metavar="S",
                   help="a server that sends no byte for S seconds is stalled: the request moves to another server "
                        "(default 300; needs streaming)")
    g.add_argument("--no-stream", action="store_true", default=None,
                   help="ask for whole answers instead of streamed ones (then only --request-timeout bounds a "
                        "stalled server)")
    g.add_argument("--max-retries", type=_non_negative_int, help="retries per request (default 5)")
    g.add_argument("--thinking-opened", type=_thinking_opened, metavar="auto|yes|no",
                   help="openai and replay backends: whether the chat template ends the prompt inside an open <think> "
                        "(R1-distill, QwQ), so a response cut mid-thinking has no answer; auto (default): the "
                        "server renders the first prompt (vLLM's /tokenize), else unknown (replay: unknown). The hf "
                        "and vllm backends render the template themselves and always know")
    g = p.add_argument_group("vllm backend")
    g.add_argument("--tensor-parallel-size", type=_positive_int, help="GPUs per model (default 1)")
    g.add_argument("--num-speculative-tokens", type=_positive_int,
                   help="MiMo's MTP speculative decoding: tokens proposed per step (default off; MiMo uses 1)")
    g.add_argument("--max-model-len", type=_positive_int, help="context length (default: the model's)")
    g.add_argument("--gpu-memory-utilization", type=_fraction, help="share of GPU memory vLLM may take (default 0.9)")
    g.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="vllm and hf backends: run the model repository's own code")
    from mimo_eval.cli.run_options import _KeyValues   # KEY=VALUE, JSON when it parses, a key twice refused

    g.add_argument("--engine-arg", action=_KeyValues, metavar="KEY=VALUE",
                   help="one more vllm.LLM(...) argument (repeatable; VALUE read as JSON when it parses), e.g. "
                        "max_num_seqs=64, data_parallel_size=2, enable_chunked_prefill=false, "
                        "speculative_config='{\"method\": \"mtp\", \"num_speculative_tokens\": 1}'")
    g = p.add_argument_group("hf backend")
    g.add_argument("--batch-size", type=_positive_int, help="sequences per generate call (default 8)")
    g.add_argument("--device", help="auto (default), cpu, cuda, cuda:1, ...")
    g = p.add_argument_group("replay backend")
    g.add_argument("--replay-file", help="JSONL of recorded generations")
    g.add_argument("--skip-bad-lines", action="store_true", default=None,
                   help="skip malformed lines with a warning each (default: the first one is an error)")
    return openai


def _thinking_opened(text: str) -> bool | None:
    choices = {"auto": None, "yes": True, "no": False}
    if text not in choices:
        raise argparse.ArgumentTypeError(f"must be auto, yes or no, got {text!r}")
    return choices[text]


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
    from mimo_eval.harness.store import RunStoreError

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


# run flag (argparse dest) -> (backends that take it, constructor parameter)
BACKEND_FLAGS = {
    "base_url": (("openai",), "base_url"), "concurrency": (("openai",), "concurrency"),
    "api_key_env": (("openai",), "api_key_env"), "api_mode": (("openai",), "mode"),
    "request_timeout": (("openai",), "timeout_s"), "max_retries": (("openai",), "max_retries"),
    "stall_timeout": (("openai",), "stall_timeout_s"), "no_stream": (("openai",), "stream"),
    "tensor_parallel_size": (("vllm",), "tensor_parallel_size"),
    "num_speculative_tokens": (("vllm",), "num_speculative_tokens"), "max_model_len": (("vllm",), "max_model_len"),
    "gpu_memory_utilization": (("vllm",), "gpu_memory_utilization"), "engine_arg": (("vllm",), "engine_kwargs"),
    "trust_remote_code": (("vllm", "hf"), "trust_remote_code"),
    "batch_size": (("hf",), "batch_size"), "device": (("hf",), "device"),
    "replay_file": (("replay",), "path"), "skip_bad_lines": (("replay",), "strict"),
    "thinking_opened": (("openai", "replay"), "thinking_opened"),
}
# engines a backend imports lazily: missing ones fail here, before a run folder exists
BACKEND_ENGINES = {"vllm": (("vllm", "vllm"),), "hf": (("torch", "hf"), ("transformers", "hf"))}


def backend_options(args: argparse.Namespace) -> dict:
    """The chosen backend's constructor options from the flags given; a flag of another backend is an error."""
    options = {}
    for dest, (backends, parameter) in BACKEND_FLAGS.items():
        value = getattr(args, dest)
        if value is None:
            continue
        if args.backend not in backends:
            raise ValueError(f"--{dest.replace('_', '-')} is an option of the {' and '.join(backends)} backend, "
                             f"not of --backend {args.backend}: drop it or change --backend")
        options[parameter] = not value if dest in ("skip_bad_lines", "no_stream") else value
    from mimo_eval.cli.run_options import extra_body

    body = extra_body(args)
    if body is not None and args.backend != "openai":
        raise ValueError(f"--extra-body and --request are options of the openai backend, not of --backend "
                         f"{args.backend}: drop them or change --backend")
    if body is not None:
        options["extra_body"] = body
    return options


def make_backend(args: argparse.Namespace):
    import importlib.util

    from mimo_eval.backends import make_backend as build
    from mimo_eval.backends.common import missing_extra

    options = backend_options(args)
    if args.backend == "replay":
        if not args.replay_file:
            raise ValueError("--backend replay needs --replay-file PATH (a JSONL of recorded generations)")
        return _replay_backend(build, options)
    model = args.model
    if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().exists():
        raise FileNotFoundError(f"model path {model} does not exist: give a local model directory "
                                "(with config.json) or a hub id such as XiaomiMiMo/MiMo-7B-RL")
    for module, extra in BACKEND_ENGINES.get(args.backend, ()):
        if importlib.util.find_spec(module) is None:
            raise missing_extra(module, extra)
    if args.backend == "vllm":
        options["seed"] = args.seed
    return build(args.backend, model=model, **options)


def _replay_backend(build, options: dict):
    """With --skip-bad-lines every skipped line is reported (file:line and why), then their count."""
    import warnings

    with warnings.catch_warnings(record=True):   # the backend's one-line summary is replaced by the report below
        warnings.simplefilter("always")
        backend = build("replay", **options)
    log = logging.getLogger("mimo_eval.replay")
    for bad in backend.bad_lines:
        log.warning("%s; line skipped", bad)
    if backend.bad_lines:
        log.warning("%s: skipped %d malformed line(s) (--skip-bad-lines)", backend.path, len(backend.bad_lines))
    return backend


def cmd_run(args: argparse.Namespace) -> int:
    from benchmarks.registry import get
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
