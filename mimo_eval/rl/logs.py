"""Step metrics: `metrics.jsonl` always (one JSON object per step), tensorboard when asked, a `rich` progress bar.

Names follow TRL and verl where one exists (reward/mean, frac_reward_zero_std, clip_ratio/low_mean,
entropy, completions/mean_length, num_gen_rounds, timing/*), so dashboards carry over. On resume, rows past the
checkpoint's step (written by the run that was killed) are dropped, so each step appears once.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Mapping


class MetricsLog:
    def __init__(self, run_dir: Path, *, tensorboard: bool, progress: bool, total_steps: int):
        self.path = run_dir / "metrics.jsonl"
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise RuntimeError("tensorboard: true needs the tensorboard package (pip install tensorboard)") from None
            self._tb = SummaryWriter(str(run_dir / "tensorboard"))
        self._progress = None
        if progress:
            from rich.progress import Progress, TextColumn, TimeRemainingColumn, BarColumn

            self._progress = Progress(TextColumn("step {task.completed}/{task.total}"), BarColumn(),
                                      TextColumn("{task.fields[info]}"), TimeRemainingColumn())
            self._task = self._progress.add_task("train", total=total_steps, info="")
            self._progress.start()

    def rewind(self, step: int) -> None:
        """Keep only rows with step <= `step` (a resumed run replays the rest)."""
        if not self.path.is_file():
            return
        kept = [line for line in self.path.read_text().splitlines() if json.loads(line)["step"] <= step]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        os.replace(tmp, self.path)
        if self._progress is not None:
            self._progress.update(self._task, completed=step)

    def write(self, step: int, metrics: Mapping[str, Any]) -> None:
        row = {"step": step, **{k: _clean(v) for k, v in metrics.items()}}
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
        if self._tb is not None:
            for k, v in row.items():
                if isinstance(v, (int, float)) and k != "step":
                    self._tb.add_scalar(k, v, step)
        if self._progress is not None:
            info = f"reward {metrics['reward/mean']:.3f}  {metrics['throughput/completions_per_s']:.1f} completions/s"
            self._progress.update(self._task, completed=step, info=info)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        if self._tb is not None:
            self._tb.close()


def _clean(value: Any) -> Any:
    """JSON has no NaN: an undefined metric (e.g. std of one sample) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
