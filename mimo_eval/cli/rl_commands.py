"""`mimo-eval train CONFIG.yaml` and `mimo-eval export verl|trl CONFIG.yaml --out DIR`.

A bad config (unknown key, wrong type, bad value) or bad data is one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="GRPO with MiMo's recipe on one machine (extra [rl]); resumes in output_dir")
    p.add_argument("config", type=Path, help="YAML file of RLConfig keys (see examples/rl_toy.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key (YAML value), e.g. --set steps=10; repeatable")
    p.set_defaults(func=train_main)
    p = sub.add_parser("export", help="write a verl or TRL launch with the same recipe, data and reward")
    p.add_argument("target", choices=("verl", "trl"))
    p.add_argument("config", type=Path)
    p.add_argument("--out", type=Path, required=True, help="folder to write the launch files into")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=export_main)


def _overrides(pairs: list[str]) -> dict[str, Any]:
    import yaml

    from mimo_eval.rl.config import ConfigError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value)
    return out


def train_main(args: argparse.Namespace) -> int:
    from mimo_eval.rl.config import ConfigError, load_config
    from mimo_eval.rl.data import DataError

    try:
        cfg = load_config(args.config, _overrides(args.set))
        from mimo_eval.rl.trainer import train

        run_dir = train(cfg)
    except (ConfigError, DataError) as exc:
        print(f"mimo-eval train: {exc}", file=sys.stderr)
        return 2
    print(f"trained {cfg.steps} steps; metrics in {run_dir / 'metrics.jsonl'}, checkpoints in {run_dir}")
    return 0


def export_main(args: argparse.Namespace) -> int:
    from mimo_eval.rl.config import ConfigError, load_config
    from mimo_eval.rl.export import export_trl, export_verl

    try:
        cfg = load_config(args.config, _overrides(args.set))
        written = (export_verl if args.target == "verl" else export_trl)(cfg, args.out)
    except ConfigError as exc:
        print(f"mimo-eval export: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0
