"""The `mimo-eval` command. Each subcommand declares its flags here and calls one function elsewhere."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mimo_eval.cli.commands import _non_negative_int, _positive_float, _positive_int   # one set of flag checks


def _cmd_grade(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from graders.math import grade

    verdict = grade(gold=args.gold, response=args.response, mode=args.mode, timeout_s=args.timeout,
                    decimals=args.decimals, strict=not args.no_strict,
                    allow_set_relation_comp=args.allow_set_relation_comp)
    print(json.dumps(asdict(verdict), ensure_ascii=False))
    return 0 if verdict.correct else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from mimo_eval.demo import main as demo_main

    return demo_main(args)


def _cmd_sandbox_build(args: argparse.Namespace) -> int:
    from sandboxes.build import run_from_args

    return run_from_args(args)


def _cmd_harness(args: argparse.Namespace) -> int:
    from mimo_eval.cli import commands

    return commands.dispatch(args)


def _add_harness_commands(sub) -> None:
    """run / score / leaderboard / compare (mimo_eval/cli/commands.py)."""
    from mimo_eval.cli.commands import add_harness_arguments

    for name, help_text in (("run", "generate, grade and summarize one benchmark for one model (resumable)"),
                            ("score", "grade a run's ungraded samples (or all, --rescore) and rewrite its summary"),
                            ("leaderboard", "table of every run under a folder: benchmarks x models"),
                            ("compare", "paired bootstrap test between two runs or two run folders"),
                            ("merge", "join the shards of one evaluation (--shard K/N) into one run"),
                            ("show", "why samples were graded as they were: gold, extracted answer, reason, tail"),
                            ("audit", "regrade a math run with Math-Verify 0.9.0 and list every differing sample"),
                            ("export-lcb", "write a LiveCodeBench run in LiveCodeBench's own result format")):
        p = sub.add_parser(name, help=help_text)
        add_harness_arguments(name, p)
        p.set_defaults(func=_cmd_harness)


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
def _cmd_train(args: argparse.Namespace) -> int:
    from mimo_eval.cli.rl_commands import train_main

    return train_main(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from mimo_eval.cli.rl_commands import export_main

    return export_main(args)


def _add_rl_commands(sub) -> None:
    p = sub.add_parser("train", help="GRPO with MiMo's recipe on one machine (extra [rl]); resumes in output_dir")
    p.add_argument("config", type=Path, help="YAML file of RLConfig keys (see examples/rl_toy.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key (YAML value), e.g. --set steps=10; repeatable")
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser("export", help="write a verl or TRL launch with the same recipe, data and reward")
    p.add_argument("target", choices=("verl", "trl"))
    p.add_argument("config", type=Path)
    p.add_argument("--out", type=Path, required=True, help="folder to write the launch files into")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=_cmd_export)


class OneLineErrorParser(argparse.ArgumentParser):
    """A flag error is one line naming the flag; argparse's default prints the whole usage block before it,
    which buries the line that says what is wrong. Subcommands inherit the class."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from mimo_eval import __version__

    parser = OneLineErrorParser(prog="mimo-eval", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mimo-eval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

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

    p = sub.add_parser("demo", help="the embedded default: run on bundled data, no GPU or network")
    p.set_defaults(func=_cmd_demo)
    _add_harness_commands(sub)
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
    _add_rl_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
