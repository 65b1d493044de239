"""Prompts for the RL loop: verl's RL data layout, a seeded resumable cursor, and MiMo's easy-data pool.

One row per problem, as verl's `RLHFDataset` reads it (and as DAPO-Math-17k ships):
    {"data_source": "math", "prompt": [{"role": "user", "content": "..."}],
     "reward_model": {"style": "rule", "ground_truth": "..."}, "extra_info": {...}}
so the same file drives this loop and an exported verl run. Files are .jsonl/.json or .parquet, read through
`datasets`; a Hub dataset id works too when a hub is reachable.

Easy pool (MiMo §3.3.2): `EasyPool` below, one self-contained component that any scheduler drives through
three calls (draw, record, metrics) and checkpoints through state_dict.
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
    """MiMo's easy-data pool (arXiv 2505.07608 §3.3.2): "problems with a perfect pass rate of 1 are stored in an
    easy data pool ... during the policy update, we sample problems from this pool with a probability of 10%".

    - Admission: a problem every rollout solved (all correct) joins the pool and leaves the main stream: the
      cursor's draws skip pool members, so solved problems stop costing rollouts that dynamic sampling throws away.
    - Draw: with probability alpha a draw comes from the pool (uniformly over its members), else from the stream.
      When every problem is in the pool, draws come from the pool.
    - Removal [inferred: MiMo says nothing]: a pool problem that is re-drawn and not solved by every rollout leaves
      the pool and returns to the main stream.
    - alpha 0 disables the pool: nothing is admitted, nothing leaves the stream.
    - metrics(): pool size, share of draws from the pool, admissions and removals, and the mean reward of fresh
      and of pool draws apart (a re-drawn easy problem raises the mean reward without any learning), then reset.

        index, from_pool = pool.draw(cursor)
        pool.record(index, from_pool, solved_by_all=..., scores=[...])   # once the group's rewards are in
        metrics = pool.metrics()                                          # once per step
    """

    def __init__(self, alpha: float, seed: int):
        self.alpha = alpha
        self.members: list[int] = []       # a list, not a set: the pool's draws must be reproducible
        self._rng = random.Random(seed + 17)
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._draws, self._pool_draws, self._admitted, self._removed = 0, 0, 0, 0
        self._rewards: dict[bool, list[float]] = {False: [], True: []}

    def draw(self, cursor: PromptCursor) -> tuple[int, bool]:
        """(problem index, came from the pool)."""
        self._draws += 1
        everything_pooled = len(self.members) >= cursor.size
        if self.members and (everything_pooled or self._rng.random() < self.alpha):
            self._pool_draws += 1
            return self._rng.choice(self.members), True
        while True:
            index = cursor.next()
            if index not in self.members:
                return index, False
            # a pool member's turn in the main stream is skipped: it comes back only through the pool

    def record(self, index: int, from_pool: bool, *, solved_by_all: bool, scores: list[float | None]) -> None:
        """A judged group: admit or remove its problem, and count its rewards as a fresh or a pool draw."""
        self._rewards[from_pool].extend(s for s in scores if s is not None)
        if self.alpha == 0:
            return
        if solved_by_all and index not in self.members:
            self.members.append(index)
            self._admitted += 1
        elif not solved_by_all and index in self.members:
            self.members.remove(index)
            self._removed += 1

    def metrics(self) -> dict[str, float]:
        fresh, pooled = self._rewards[False], self._rewards[True]
        out = {"easy_pool/size": len(self.members), "easy_pool/draw_frac": self._pool_draws / max(self._draws, 1),
               "easy_pool/admitted": self._admitted, "easy_pool/removed": self._removed,
               "reward/fresh_mean": sum(fresh) / len(fresh) if fresh else float("nan"),
               "reward/pool_mean": sum(pooled) / len(pooled) if pooled else float("nan")}
        self._reset_counters()
        return out

    def state_dict(self) -> dict:
        return {"members": list(self.members), "rng": self._rng.getstate()}

    def load_state_dict(self, state: Mapping) -> None:
        self.members = list(state["members"])
        rng = state["rng"]
        self._rng.setstate((rng[0], tuple(rng[1]), rng[2]))
