"""`--report-to tensorboard|wandb`: a finished run's summary as scalars, where lighteval and TRL users look first.

    mimo-eval run aime24 --model M --backend openai --report-to tensorboard    # event files in RUN_DIR/tensorboard
    mimo-eval score runs/M__aime24 --report-to wandb                             # project $WANDB_PROJECT or mimo-eval

Scalars are named `<benchmark>/<metric>`: pass@1, sampling_se, between_problem_se, pass@k/<k>, maj@k/<k>,
outcomes/<outcome>, cost/<measure>; with --limit the benchmark name carries `_limitN`, so a smoke test never lands
on a full run's curve. wandb also gets the whole config.json as the run's config, and the run directory's name
as the run's name. Both are optional extras (`pip install 'mimo-eval[tensorboard]'` or `[wandb]`), imported only
here; wandb honours its own environment (WANDB_MODE=offline, WANDB_PROJECT, WANDB_API_KEY).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from mimo_eval.backends.common import BackendError
from mimo_eval.harness.files import read_summary


def scalars(summary: dict) -> dict[str, float]:
    """The summary's numbers under `<benchmark>/...` names (NaN standard errors of n = 1 are left out)."""
    prefix = summary["benchmark"] + (f"_limit{summary['limit']}" if summary.get("limit") else "")
    flat = {"pass@1": summary["pass@1"], "sampling_se": summary["sampling_se"],
            "between_problem_se": summary["between_problem_se"], "n": summary["n"],
            "num_problems": summary["num_problems"],
            **{f"pass@k/{k}": v for k, v in summary["pass@k"].items()},
            **{f"maj@k/{k}": v for k, v in (summary.get("maj@k") or {}).items()},
            **{f"outcomes/{k}": v for k, v in summary["outcomes"].items()},
            **{f"cost/{k}": v for k, v in (summary.get("cost") or {}).items()}}
    return {f"{prefix}/{k}": float(v) for k, v in flat.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v}


def report(run_dir: Path, targets: list[str]) -> list[str]:
    """Send the run's summary to each target; returns one line per target saying where it went."""
    summary = read_summary(run_dir)
    values = scalars(summary)
    return [{"tensorboard": _tensorboard, "wandb": _wandb}[t](Path(run_dir), summary, values) for t in targets]


def _tensorboard(run_dir: Path, summary: dict, values: dict[str, float]) -> str:
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise BackendError("--report-to tensorboard needs the tensorboard package: pip install "
                           "'mimo-eval[tensorboard]'") from None
    logdir = run_dir / "tensorboard"
    writer = EventFileWriter(str(logdir))
    try:
        writer.add_event(Event(wall_time=time.time(), step=summary["n"],
                               summary=Summary(value=[Summary.Value(tag=k, simple_value=v)
                                                      for k, v in sorted(values.items())])))
    finally:
        writer.close()
    return f"tensorboard: {len(values)} scalars written to {logdir} (tensorboard --logdir {logdir})"


def _wandb(run_dir: Path, summary: dict, values: dict[str, float]) -> str:
    try:
        import wandb
    except ImportError:
        raise BackendError("--report-to wandb needs the wandb package: pip install 'mimo-eval[wandb]'") from None
    from mimo_eval.harness.store import RunStore

    run = wandb.init(project=os.environ.get("WANDB_PROJECT", "mimo-eval"), name=run_dir.name, dir=str(run_dir),
                     config=RunStore(run_dir).config, job_type="eval")
    try:
        run.log(values, step=0)
        run.summary.update(values)
        where = run.url or run.dir
    finally:
        run.finish()
        wandb.teardown()   # waits for wandb's service to write everything out (finish alone may return first)
    return f"wandb: {len(values)} scalars logged to {where}"
