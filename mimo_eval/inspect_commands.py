"""Flags and entry points of `mimo-eval merge | show | audit` (the harness's second pass; see merge.py, show.py,
audit.py). Errors are the `mimo-eval: error: ...` line of mimo_eval/commands.py."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def _merge_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="the shards' run directories")
    p.add_argument("--out", type=Path, required=True, help="the merged run directory (must not exist yet)")
    p.add_argument("--allow-gaps", action="store_true",
                   help="write the merged run even if samples are missing (it stays unfinished, no summary)")
    p.add_argument("--grade-workers", type=_positive_int, default=4, help="threads for samples left ungraded")


def _show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--problem", metavar="ID", help="only this problem (full id, or the part after the last '/')")
    which = p.add_mutually_exclusive_group()
    for flag, outcome in (("--wrong", "wrong"), ("--no-answer", "no_answer"), ("--timeout", "timeout"),
                          ("--error", "error")):
        which.add_argument(flag, dest="outcome", action="store_const", const=outcome,
                           help=f"only samples whose outcome is {outcome}")
    p.add_argument("--truncated", action="store_true", help="only samples cut at max_tokens (finish_reason length)")
    p.add_argument("--limit", type=_positive_int, metavar="K", help="show at most K samples")
    p.add_argument("--tail", type=int, default=300, metavar="CHARS", help="characters of the response shown (300)")


def _audit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path)
    p.add_argument("--against", choices=("math-verify", "plain-judge"), required=True,
                   help="math runs: Math-Verify 0.9.0; code runs: the programs rerun as plain processes")
    p.add_argument("--sandbox", choices=("auto", "docker", "local"), default="auto",
                   help="plain-judge: where the programs run (auto: Docker when an engine answers)")


def cmd_merge(args: argparse.Namespace) -> int:
    from mimo_eval.merge import merge_runs

    result = merge_runs(args.run_dirs, args.out, allow_gaps=args.allow_gaps, grade_workers=args.grade_workers)
    print(f"merged {len(args.run_dirs)} runs into {result['run_dir']}: {result['samples']} samples")
    if result["gaps"]:
        print(f"{result['gaps']} samples missing: the run is unfinished; generate the rest with `mimo-eval run "
              f"... --out {Path(result['run_dir']).parent}` or merge the missing shard")
        return 0
    from mimo_eval.leaderboard import print_run

    print_run(result["run_dir"])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from mimo_eval.show import render, select

    rows = select(args.run_dir, problem=args.problem, outcome=args.outcome, truncated=args.truncated)
    print(render(rows, limit=args.limit, tail=args.tail), end="")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    if args.against == "math-verify":
        from mimo_eval.audit import audit, render

        print(render(audit(args.run_dir)), end="")
        return 0
    from benchmarks import registry
    from graders.code import judge_sandbox
    from mimo_eval.audit_code import audit_code, render_code
    from mimo_eval.run import benchmark_version, load_problems

    if not (args.run_dir / "config.json").is_file():
        raise FileNotFoundError(f"{args.run_dir} is not a run directory (no config.json)")
    config = json.loads((args.run_dir / "config.json").read_text())
    if config.get("grader") != "code":
        raise ValueError(f"{args.run_dir} is a {config.get('grader')} run: --against plain-judge audits code runs "
                         "(math runs: --against math-verify)")
    problems = load_problems(registry.get(config["benchmark"]), config.get("benchmark_options", {}))
    if benchmark_version(problems) != config["benchmark_version"]:
        raise ValueError(f"{args.run_dir}: the benchmark data changed since this run; the tests would not be "
                         "the ones it was graded on")
    sandbox = judge_sandbox(args.sandbox)
    try:
        print(render_code(audit_code(args.run_dir, problems, sandbox)), end="")
    finally:
        sandbox.close()
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


ARGUMENTS = {"merge": _merge_args, "show": _show_args, "audit": _audit_args}
HANDLERS = {"merge": cmd_merge, "show": cmd_show, "audit": cmd_audit}
