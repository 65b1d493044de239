"""Flags and entry points of `mimo-eval merge | show | audit | export-lcb` (see harness/merge.py,
report/show.py, report/audit.py, report/lcb_export.py). Errors are the `mimo-eval: error: ...` line of run_commands.py."""
from __future__ import annotations

import argparse
from pathlib import Path

from mimo_eval.cli.flags import _positive_int


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
    from mimo_eval.harness.merge import merge_runs

    result = merge_runs(args.run_dirs, args.out, allow_gaps=args.allow_gaps, grade_workers=args.grade_workers)
    print(f"merged {len(args.run_dirs)} runs into {result['run_dir']}: {result['samples']} samples")
    if result["gaps"]:
        print(f"{result['gaps']} samples missing: the run is unfinished; generate only those with\n"
              f"  {result['finish']}\n(with the shards' backend flags), or merge the missing shard")
        return 0
    from mimo_eval.report.run_table import print_run

    print_run(result["run_dir"])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from mimo_eval.report.show import render, select

    rows = select(args.run_dir, problem=args.problem, outcome=args.outcome, truncated=args.truncated)
    print(render(rows, limit=args.limit, tail=args.tail), end="")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    if args.against == "math-verify":
        from mimo_eval.report.audit import audit, render

        print(render(audit(args.run_dir)), end="")
        return 0
    from graders.code import judge_sandbox
    from mimo_eval.report.audit_code import audit_code, render_code
    from mimo_eval.harness.rescore import problems_of
    from mimo_eval.harness.store import RunStore

    config = RunStore.existing(args.run_dir).config
    if config.get("grader") != "code":
        raise ValueError(f"{args.run_dir} is a {config.get('grader')} run: --against plain-judge audits code runs "
                         "(math runs: --against math-verify)")
    _, problems = problems_of(config, args.run_dir)   # refused when the data changed: other tests than graded on
    sandbox = judge_sandbox(args.sandbox)
    try:
        print(render_code(audit_code(args.run_dir, problems, sandbox)), end="")
    finally:
        sandbox.close()
    return 0


def _export_lcb_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path, help="a finished LiveCodeBench run")
    p.add_argument("--out", type=Path, help="folder for <model>/Scenario.codegeneration_<n>_<T>_eval_all.json "
                                            "(default RUN_DIR/lcb)")


def cmd_export_lcb(args: argparse.Namespace) -> int:
    from mimo_eval.report.lcb_export import export_lcb

    for path in export_lcb(args.run_dir, args.out):
        print(f"wrote {path}")
    return 0


ARGUMENTS = {"merge": _merge_args, "show": _show_args, "audit": _audit_args, "export-lcb": _export_lcb_args}
HANDLERS = {"merge": cmd_merge, "show": cmd_show, "audit": cmd_audit, "export-lcb": cmd_export_lcb}
