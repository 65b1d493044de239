"""Prompts for the RL loop: verl's RL data layout, a seeded resumable cursor, and MiMo's easy-data pool.

One row per problem, as verl's `RLHFDataset` reads it (and as DAPO-Math-17k ships):
    {"data_source": "math", "prompt": [{"role": "user", "content": "..."}],
     "reward_model": {"style": "rule", "ground_truth": "..."}, "extra_info": {...}}
so the same file drives this loop and an exported verl run. Files are .jsonl/.json or .parquet, read through
`datasets`; a Hub dataset id works too when a hub is reachable.

Easy pool (MiMo §3.3.2): problems solved in every rollout are stored; each draw comes from the pool with
probability alpha (0.1). [inferred] A pool problem that is no longer solved every time leaves the pool; MiMo
says nothing about removal.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


class DataError(ValueError):
    pass


@dataclass(frozen=True)
class Problem:
    index: int                              # row number in the dataset: the id used by the cursor and the pool
    messages: tuple[Mapping[str, str], ...]
    data_source: str
    ground_truth: Any
    extra_info: Mapping[str, Any]


def load_problems(path: str) -> list[Problem]:
    import datasets

    if Path(path).suffix in (".jsonl", ".json", ".parquet"):
        if not Path(path).is_file():
            raise DataError(f"data file {path} does not exist")
        builder = "parquet" if path.endswith(".parquet") else "json"
        table = datasets.load_dataset(builder, data_files=path, split="train")
    else:
        table = datasets.load_dataset(path, split="train")
    return [_problem(i, row, path) for i, row in enumerate(table)]


def _problem(index: int, row: Mapping[str, Any], path: str) -> Problem:
    missing = [k for k in ("prompt", "data_source", "reward_model") if k not in row or row[k] is None]
    if missing:
        raise DataError(f"{path} row {index}: missing {', '.join(missing)} (verl RL layout: prompt as chat messages, "
                        "data_source, reward_model.ground_truth)")
    prompt = row["prompt"]
    if isinstance(prompt, str) or not all(isinstance(m, Mapping) and "content" in m for m in prompt):
        raise DataError(f"{path} row {index}: prompt must be a list of chat messages {{role, content}}")
    reward_model = row["reward_model"]
    if not isinstance(reward_model, Mapping) or reward_model.get("ground_truth") is None:
        raise DataError(f"{path} row {index}: reward_model.ground_truth is missing")
    return Problem(index, tuple(dict(m) for m in prompt), str(row["data_source"]), reward_model["ground_truth"],
                   dict(row.get("extra_info") or {}))


class PromptCursor:
    """Walks the problems in a fresh seeded order each epoch, forever: training length is counted in steps, so an
    epoch boundary never ends a run (verl #5725 lost every step after resuming at one)."""

    def __init__(self, size: int, seed: int):
        if size < 1:
            raise DataError("the dataset has no rows")
        self.size, self.seed = size, seed
        self.epoch, self.position = 0, 0
        self._order = self._shuffled(0)

    def _shuffled(self, epoch: int) -> list[int]:
        order = list(range(self.size))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        return order

    def next(self) -> int:
        if self.position == self.size:
            self.epoch, self.position = self.epoch + 1, 0
            self._order = self._shuffled(self.epoch)
        index = self._order[self.position]
        self.position += 1
        return index

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position, "size": self.size, "seed": self.seed}

    def load_state_dict(self, state: Mapping) -> None:
        if state["size"] != self.size:
            raise DataError(f"the checkpoint's dataset had {state['size']} rows, this one has {self.size}: "
                            "resume with the same data file")
        self.seed, self.epoch, self.position = state["seed"], state["epoch"], state["position"]
        self._order = self._shuffled(self.epoch)


class EasyPool:
    """Indices of problems every rollout solved; `draw` mixes them back in with probability alpha."""

    def __init__(self, alpha: float, seed: int):
        self.alpha = alpha
        self.members: list[int] = []
        self._rng = random.Random(seed + 17)

    def draw(self, cursor: PromptCursor) -> tuple[int, bool]:
        """(problem index, came from the pool)."""
        if self.members and self._rng.random() < self.alpha:
            return self._rng.choice(self.members), True
        return cursor.next(), False

    def update(self, index: int, solved_by_all: bool) -> None:
        if solved_by_all and index not in self.members:
            self.members.append(index)
        elif not solved_by_all and index in self.members:
            self.members.remove(index)

    def state_dict(self) -> dict:
        return {"members": list(self.members), "rng": self._rng.getstate()}

    def load_state_dict(self, state: Mapping) -> None:
        self.members = list(state["members"])
        rng = state["rng"]
        self._rng.setstate((rng[0], tuple(rng[1]), rng[2]))
