"""The math reward-hacking probes against four rewards, one row per hack class: ours (reward mode, through the
reward pool), verl's default scorer, TRL's accuracy reward and Math-Verify's default, each in its own environment.

    python tools/probe_rewards.py [--out results/reward_probes.md]      (from the repository root; ~1-2 min)

Each column is `mimo-eval reward-probes [--target ... --convention ...] --json` run by that tool's Python
(.venvs/verl and .venvs/trl come from tools/setup_frameworks.sh); a cell "paid k/n" counts the class's probes
that scored above 0 (or came back masked by the response, which TRL trains on as advantage 0). Probes are
`graders.rewards.probes.math_probes`; the calling conventions `graders.rewards.probe_targets`.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = [   # column, python, extra arguments
    ("ours (reward mode)", sys.executable, ["--kinds", "math"]),
    ("verl 0.9.1 default_compute_score", str(ROOT / ".venvs/verl/bin/python"),
     ["--target", "verl.utils.reward_score:default_compute_score", "--convention", "verl"]),
    ("TRL 1.16.0 accuracy_reward", str(ROOT / ".venvs/trl/bin/python"),
     ["--target", "trl.rewards:accuracy_reward", "--convention", "trl"]),
    ("Math-Verify 0.9.0 default", sys.executable,
     ["--target", "tools.reward_targets:math_verify_default", "--convention", "plain"]),
]


def run(python: str, extra: list[str], out: Path) -> dict:
    if not Path(python).exists():
        raise SystemExit(f"{python} is missing: run `bash tools/setup_frameworks.sh` first")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([python, "-m", "mimo_eval.cli", "reward-probes", *extra, "--json", str(out)], cwd=ROOT,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1):   # 1: our own reward missed a probe, which the table then shows
        raise SystemExit(f"{python} reward-probes {' '.join(extra)} failed:\n{done.stderr[-2000:]}")
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results/reward_probes.md")
    args = parser.parse_args()
    from graders.rewards.probes import MATH_CLASSES

    with tempfile.TemporaryDirectory() as tmp:
        results = [run(python, extra, Path(tmp) / f"{i}.json") for i, (_, python, extra) in enumerate(TARGETS)]
    lines = ["# Math reward-hacking probes against four rewards", "", "Command: `python tools/probe_rewards.py`", "",
             "| hack class | what the probes do | " + " | ".join(name for name, _, _ in TARGETS) + " |",
             "|---|---|" + "---|" * len(TARGETS)]
    for cls, what in MATH_CLASSES.items():
        lines.append(f"| {cls} | {what} | " + " | ".join(r["classes"].get(cls, "") for r in results) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
