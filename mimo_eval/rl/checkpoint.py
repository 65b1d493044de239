"""Atomic checkpoints of everything a run needs to continue as if never stopped.

A checkpoint is a folder `checkpoint-<step>/` holding `state.pt`: model and optimiser state, the LR schedule,
the Python / NumPy / torch RNG states, the data cursor, the easy pool, the scheduler's counters and the step.
It is written under a temporary name and renamed into place, then `latest` (a one-line file) is replaced
atomically, so a `kill -9` at any moment leaves the previous checkpoint intact and `latest` pointing at a
complete one. Older checkpoints beyond `keep` are deleted after the new one is in place.
"""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any


def rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(run_dir: Path, step: int, state: dict[str, Any], keep: int) -> Path:
    import torch

    final = run_dir / f"checkpoint-{step}"
    tmp = run_dir / f".checkpoint-{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save(state, tmp / "state.pt")
    _fsync(tmp / "state.pt")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    pointer = run_dir / ".latest.tmp"
    pointer.write_text(final.name + "\n")
    _fsync(pointer)
    os.replace(pointer, run_dir / "latest")
    for old in sorted(_checkpoints(run_dir), key=_step_of)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_latest(run_dir: Path) -> dict[str, Any] | None:
    import torch

    pointer = run_dir / "latest"
    if not pointer.is_file():
        return None
    path = run_dir / pointer.read_text().strip() / "state.pt"
    # our own file, written by `save`; it holds RNG tuples and numpy arrays, so not weights_only
    return torch.load(path, map_location="cpu", weights_only=False)


def _checkpoints(run_dir: Path) -> list[Path]:
    return [p for p in run_dir.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[1].isdigit()]


def _step_of(path: Path) -> int:
    return int(path.name.split("-")[1])


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())
