"""The `mimo-eval` command. Each subcommand declares its flags in the module of its group and calls one function
of the room that does the work:

    grader_commands.py   grade, sandbox build, calibrate-tests, reward-probes   -> graders/, sandboxes/
    run_commands.py      run, score, leaderboard, compare                        -> harness/, report/
    inspect_commands.py  merge, show, audit, export-lcb                          -> harness/, report/
    rl_commands.py       train, export                                           -> rl/
    demo                                                                         -> demo.py

`run`'s request flags are in run_options.py, its backend flags in backend_options.py; flags.py checks values.
"""
from __future__ import annotations

import argparse

from mimo_eval.cli import grader_commands, rl_commands, run_commands

DESCRIPTION = "Verifiable rewards and evaluation for reasoning models: the graders, the evaluation harness, the RL loop."


def _cmd_demo(args: argparse.Namespace) -> int:
    from mimo_eval.demo import main as demo_main

    return demo_main(args)


class OneLineErrorParser(argparse.ArgumentParser):
    """A flag error is one line naming the flag; argparse's default prints the whole usage block before it,
    which buries the line that says what is wrong. Subcommands inherit the class."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from mimo_eval import __version__

    parser = OneLineErrorParser(prog="mimo-eval", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"mimo-eval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    grader_commands.add_grade(sub)
    p = sub.add_parser("demo", help="the embedded default: run on bundled data, no GPU or network")
    p.set_defaults(func=_cmd_demo)
    run_commands.add_commands(sub)
    grader_commands.add_tools(sub)
    rl_commands.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
