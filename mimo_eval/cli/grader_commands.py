"""Flags and entry points of the grader commands: `mimo-eval grade | sandbox build | calibrate-tests |
reward-probes` (graders/, sandboxes/)."""
from __future__ import annotations

import argparse
from pathlib import Path

from mimo_eval.cli.flags import _non_negative_int, _positive_float, _positive_int


def add_grade(sub) -> None:
    p = sub.add_parser("grade", help="grade one math response against a gold answer")
    p.add_argument("--gold", required=True, help="reference answer, e.g. '\\frac{1}{2}'")
    p.add_argument("--response", required=True, help="model output (the whole text)")
    p.add_argument("--mode", choices=("eval", "reward"), default="eval")
    p.add_argument("--timeout", type=_positive_float, default=1.0, help="hard deadline in seconds")
    p.add_argument("--decimals", type=_non_negative_int, default=None,
                   help="the problem asks for an answer rounded to this many decimal places")
    p.add_argument("--no-strict", action="store_true",
                   help="variables may be renamed (f(y) for f(x)) and a pair may equal a set (Math-Verify strict=False); "
                        "not for multiple-choice answers")
    p.add_argument("--allow-set-relation-comp", action="store_true",
                   help="an interval gold also accepts the inequality it describes (Math-Verify's flag)")
    p.set_defaults(func=_cmd_grade)


def add_tools(sub) -> None:
    """sandbox build, calibrate-tests, reward-probes."""
    p = sub.add_parser("sandbox", help="the Docker sandbox for code grading")
    sandbox_sub = p.add_subparsers(dest="sandbox_command", required=True)
    p = sandbox_sub.add_parser("build", help="build the runner image (idempotent)")
    from sandboxes.build import add_arguments as add_sandbox_build_arguments

    add_sandbox_build_arguments(p)
    p.set_defaults(func=_cmd_sandbox_build)
    p = sub.add_parser("calibrate-tests", help="MiMo test-difficulty tiers from recorded code runs' per-test verdicts")
    p.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR",
                   help="run directories (scores.jsonl rows with problem_id and per_test); best graded all_tests")
    p.add_argument("--out", type=Path, required=True, help="folder for one <problem_id>.json per problem")
    p.add_argument("--tiers", type=_positive_int, default=3, help="number of difficulty tiers K (MiMo Fig. 5: 3)")
    p.set_defaults(func=_cmd_calibrate_tests)
    p = sub.add_parser("reward-probes", help="throw known reward hacks at every reward mode; table: hack, mode, score")
    p.add_argument("--sandbox", choices=("docker", "local"), default="docker",
                   help="where the code probes run (local: no isolation, for machines without Docker)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--kinds", nargs="+", choices=("math", "code"), default=["math", "code"])
    p.add_argument("--target", metavar="MODULE:FUNCTION",
                   help="probe someone else's math reward instead of ours (e.g. trl.rewards:accuracy_reward); "
                        "exit 0 whatever it pays")
    p.add_argument("--convention", choices=("verl", "trl", "plain"), default="plain",
                   help="how --target is called: verl's compute_score(data_source, solution_str, ground_truth, "
                        "extra_info), TRL's reward(prompts=, completions=, **columns), or plain fn(response, gold)")
    p.add_argument("--data-source", default="lighteval/MATH", help="the data_source a verl --target is given")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the rows and the per-class summary as JSON")
    p.set_defaults(func=_cmd_reward_probes)


def _cmd_grade(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from graders.math import grade

    verdict = grade(gold=args.gold, response=args.response, mode=args.mode, timeout_s=args.timeout,
                    decimals=args.decimals, strict=not args.no_strict,
                    allow_set_relation_comp=args.allow_set_relation_comp)
    print(json.dumps(asdict(verdict), ensure_ascii=False))
    return 0 if verdict.correct else 1


def _cmd_sandbox_build(args: argparse.Namespace) -> int:
    from sandboxes.build import run_from_args

    return run_from_args(args)


def _cmd_calibrate_tests(args: argparse.Namespace) -> int:
    from graders.difficulty import calibrate_runs, print_calibration

    print_calibration(calibrate_runs(args.run_dirs, args.out, k=args.tiers))
    print(f"tiers written to {args.out}")
    return 0


def _cmd_reward_probes(args: argparse.Namespace) -> int:
    import json

    from graders.rewards.probes import class_summary, print_table

    if args.target:
        from graders.rewards.probe_targets import load_target, run_target

        timed = run_target(load_target(args.target), args.convention, args.data_source)
        rows = [row for row, _ in timed]
        print_table(rows, title=f"reward-hacking probes against {args.target} ({args.convention} convention)")
    else:
        from graders.rewards.pool import RewardPool
        from graders.rewards.probes import run_probes

        with RewardPool(args.workers, sandbox=args.sandbox) as pool:
            rows = run_probes(pool, tuple(args.kinds))
        print_table(rows)
    summary = class_summary(rows)
    for cls, cell in summary.items():
        print(f"{cls}: {cell}")
    if args.json:
        args.json.write_text(json.dumps({"target": args.target or "mimo-eval", "convention": args.convention,
                                         "classes": summary, "rows": [vars(r) for r in rows]}, indent=1))
    failed = [r for r in rows if not (r.ok or r.host_masked)]
    masked = sum(r.host_masked for r in rows)
    print(f"{len(rows) - len(failed) - masked}/{len(rows)} rows as required (hacks 0, controls 1); "
          f"{masked} masked by the host (undecided, not held)")
    return 1 if failed and not args.target else 0
