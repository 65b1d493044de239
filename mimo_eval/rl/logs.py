"""Step metrics: `metrics.jsonl` always (one JSON object per step), tensorboard or wandb when asked, a `rich`
progress bar.

Names follow TRL and verl where one exists (reward/mean, frac_reward_zero_std, clip_ratio/low_mean,
entropy, completions/mean_length, num_gen_rounds, timing/*), so dashboards carry over. Ours:
- reward/mean is every judged rollout of the step; reward/fresh_mean and reward/pool_mean split it into main-stream
  draws and easy-pool re-draws (a re-drawn solved problem raises reward/mean without learning anything);
- gpu_idle_frac: share of the step spent neither generating nor training (reward waits, scheduling, weight sync),
  MiMo's "GPU idle" of Table 2; timing/reward_wait_frac: share spent blocked on rewards alone;
- prompts/skipped_too_long: draws skipped because the prompt exceeds max_prompt_tokens;
- val/<benchmark>/pass@1 (percent) on the steps the harness evaluates (rl/evaluate.py).
On resume, rows past the checkpoint's step (written by the run that was killed) are dropped, so each step appears
once. wandb (extra [wandb]) resumes the same wandb run (its id is kept in output_dir/wandb_id); steps it already
had are not sent again.
"""
from __future__ import annotations

import json
import math
import os
import secrets
from pathlib import Path
from typing import Any, Mapping


class MetricsLog:
    def __init__(self, run_dir: Path, *, tensorboard: bool, progress: bool, total_steps: int,
                 wandb: Mapping[str, Any] | None = None):
        self.path = run_dir / "metrics.jsonl"
        self._wandb = _start_wandb(run_dir, wandb) if wandb else None
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
        if self._wandb is not None:
            self._wandb.log({k: v for k, v in row.items() if k != "step" and isinstance(v, (int, float))}, step=step)
        if self._progress is not None:
            info = f"reward {metrics['reward/mean']:.3f}  {metrics['throughput/completions_per_s']:.1f} completions/s"
            self._progress.update(self._task, completed=step, info=info)

    def close(self) -> None:
        if self._wandb is not None:
            self._wandb.finish()
        if self._progress is not None:
            self._progress.stop()
        if self._tb is not None:
            self._tb.close()


def _clean(value: Any) -> Any:
    """JSON has no NaN: an undefined metric (e.g. std of one sample) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _start_wandb(run_dir: Path, settings: Mapping[str, Any]):
    try:
        import wandb
    except ImportError:
        raise RuntimeError("wandb_project needs the wandb package: pip install 'mimo-eval[wandb]'") from None
    id_file = run_dir / "wandb_id"
    if not id_file.is_file():
        id_file.write_text(secrets.token_hex(4) + "\n")   # wandb run ids are [a-z0-9]
    return wandb.init(project=settings["project"], name=settings["name"], config=dict(settings["config"]),
                      id=id_file.read_text().strip(), resume="allow", dir=str(run_dir))
