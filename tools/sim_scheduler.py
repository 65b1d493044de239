"""Simulate MiMo's Table 2 (arXiv 2505.07608 §3.4) by running the loop's own scheduler, `ContinuousScheduler` of
mimo_eval/rl/stream.py, in virtual time against a simulated engine and reward pool: the four rows are the four
RolloutModes tools/bench_rollout.py measures on vLLM, so the simulated and measured rows describe one algorithm.

    python tools/sim_scheduler.py                    # the benchmark's workload (tools/bench_rollout.py)
    python tools/sim_scheduler.py --preset paper     # MiMo's scale, the assumptions below

Assumptions (the simulation's, not the scheduler's):
- Engine: `capacity` slots (vLLM's max_num_seqs); a step gives every running sequence one token; a request beyond
  capacity waits (FIFO). A sequence's length in tokens is drawn when it is launched; it finishes that many steps
  after it starts. A step takes step_s + per_seq_s * running: bench, what vLLM's CPU build took for the chain
  model at one thread (1.9 ms + 32 us per sequence, 1 to 256 sequences, load average ~2); paper, the same time
  whatever the batch (decoding is memory-bound on a GPU).
- Workload: bench: mimo_eval/rl/chain.py's 10 math + 3 code problems (pass rates 0 for 25%, 1 for 15%, else
  Beta(2, 2) quantiles; thinking lengths a mixture of geometrics, means 24/160 with weights 0.85/0.15, capped at
  max_tokens 256); paper: the same pass rates, lengths lognormal (sigma 0.5, median 1000 tokens, capped at 10,000).
- Rewards: `workers` servers per kind in FIFO order, each call lognormal (sigma 0.5) around a median per kind (bench: math
  1 ms, code 30 ms, what the Docker sandbox took here with 2 workers; paper: 50 steps for every call). Reward work
  does not slow the engine (on the 2-core machine it does: the measured rows include that).
- Everything the scheduler does between steps takes no time (the measured rows include it).
Training time is not simulated: the ratios are of rollout time per batch (the paper's include training).
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import math
import random
import sys
from concurrent.futures import Future
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graders.rewards.types import RewardResult  # noqa: E402
from mimo_eval.rl.chain import LENGTHS, mixed_problems  # noqa: E402
from mimo_eval.rl.data import EasyPool, Problem, PromptCursor  # noqa: E402
from mimo_eval.rl.scheduler import Rollout  # noqa: E402
from mimo_eval.rl.stream import TABLE2, ContinuousScheduler, RolloutMode  # noqa: E402

PAPER = {"(a) naive dynamic sampling": "1.00x", "(b) + continuous rollout": "1.99x", "(c) + async reward": "2.09x",
         "(d) + early termination": "2.29x"}
PRESETS = {   # capacity, batch (groups), G, step seconds (+ per running sequence), reward medians, workers, cap
    "bench": dict(capacity=128, batch=16, group=8, step_s=0.0019, per_seq_s=0.000032, reward_s=(0.001, 0.030),
                  workers=2, max_tokens=256),
    "paper": dict(capacity=512, batch=32, group=16, step_s=0.001, per_seq_s=0.0, reward_s=(0.05, 0.05), workers=32,
                  max_tokens=10_000),
}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SimRewards:
    """`workers` FIFO servers per kind (the reward pool has separate math and code executors); a call's result is
    set at its virtual finish time."""

    def __init__(self, clock: Clock, workers: int, medians: tuple[float, float], rng: random.Random):
        self.clock, self.medians, self.rng = clock, medians, rng
        self.free_at = {"math": [0.0] * workers, "code": [0.0] * workers}
        self.jobs: list = []
        self.order = itertools.count()

    def submit(self, kind, response, reference, options=None) -> Future:
        future: Future = Future()
        start = max(self.clock.now, heapq.heappop(self.free_at[kind]))
        finish = start + self.rng.lognormvariate(math.log(self.medians[kind == "code"]), 0.5)
        heapq.heappush(self.free_at[kind], finish)
        heapq.heappush(self.jobs, (finish, next(self.order), future, response == "1"))
        return future

    def advance(self, until: float) -> None:
        now = self.clock.now
        while self.jobs and self.jobs[0][0] <= until:
            finish, _, future, ok = heapq.heappop(self.jobs)
            self.clock.now = finish   # the callback reads the time the call finished
            if not future.cancelled():
                future.set_result(RewardResult(float(ok), ok, "correct" if ok else "wrong", {}))
        self.clock.now = max(now, until)

    def next_finish(self) -> None:   # the scheduler is about to block: jump to the next result
        self.advance(self.jobs[0][0])


class SimEngine:
    def __init__(self, clock: Clock, rewards: SimRewards, problems, capacity: int, step_s: tuple[float, float],
                 length, rng: random.Random):
        self.clock, self.rewards, self.capacity, self.step_s = clock, rewards, capacity, step_s
        self.problems, self.length, self.rng = problems, length, rng
        self.waiting: list[str] = []
        self.running: dict[str, list] = {}   # id -> [tokens so far, length, correct]
        self.spec: dict[str, list] = {}
        self.ids = itertools.count()

    def launch(self, prompt, n: int) -> list[str]:
        problem = self.problems[prompt[0]]
        ids = [f"s{next(self.ids)}" for _ in range(n)]
        for rid in ids:
            self.spec[rid] = [0, self.length(problem), self.rng.random() < problem.pass_rate]
            self.waiting.append(rid)
        return ids

    def step(self) -> list:
        while self.waiting and len(self.running) < self.capacity:
            rid = self.waiting.pop(0)
            self.running[rid] = self.spec.pop(rid)
        self.rewards.advance(self.clock.now + self.step_s[0] + self.step_s[1] * len(self.running))
        done = []
        for rid, seq in list(self.running.items()):
            seq[0] += 1
            if seq[0] >= seq[1]:
                del self.running[rid]
                done.append((rid, Rollout((0,) * seq[0], "1" if seq[2] else "0", False)))
        return done

    def has_unfinished(self) -> bool:
        return bool(self.waiting or self.running)

    def abort(self, request_ids) -> int:
        tokens = 0
        for rid in request_ids:
            tokens += self.running.pop(rid, [0])[0]
            self.spec.pop(rid, None)
        self.waiting = [r for r in self.waiting if r not in set(request_ids)]
        return tokens


def lengths(preset: str, max_tokens: int, rng: random.Random):
    def chain(problem) -> int:   # thinking tokens + the answer + the end token, as mimo_eval/rl/chain.py samples
        mean = rng.choices([m for _, m in LENGTHS], [w for w, _ in LENGTHS])[0]
        return min(max_tokens, 2 + int(math.log(1 - rng.random()) / math.log(1 - 1 / mean)) + 1)

    def lognormal(problem) -> int:
        return min(max_tokens, max(1, int(rng.lognormvariate(math.log(1000), 0.5))))

    return chain if preset == "bench" else lognormal


def run(mode: RolloutMode, preset: str, steps: int, seed: int) -> list[dict]:
    p = PRESETS[preset]
    rng = random.Random(seed)
    chain = mixed_problems(10, 3, seed)
    problems = [Problem(i, ({"role": "user", "content": str(i)},), c.kind, None, {}) for i, c in enumerate(chain)]
    clock = Clock()
    rewards = SimRewards(clock, p["workers"], p["reward_s"], rng)
    engine = SimEngine(clock, rewards, chain, p["capacity"], (p["step_s"], p["per_seq_s"]),
                       lengths(preset, p["max_tokens"], rng), rng)
    scheduler = ContinuousScheduler(
        engine=engine, mode=mode, clock=clock, before_block=rewards.next_finish, rewards=rewards, problems=problems,
        encode=lambda q: (q.index,), kind_for=lambda source: source, cursor=PromptCursor(len(problems), seed),
        pool=EasyPool(0.0, seed), group_size=p["group"], max_gen_rounds=10)
    return [scheduler.collect(p["batch"]).metrics for _ in range(steps)]


def table(preset: str, steps: int, seeds: int) -> list[tuple[str, float, float, float, float]]:
    rows = []
    for name, mode in TABLE2.items():
        runs = [m for seed in range(seeds) for m in run(mode, preset, steps, seed)]
        mean = lambda key: sum(m[key] for m in runs) / len(runs)   # noqa: E731
        rows.append((name, mean("timing/collect"), mean("engine/idle_frac"), 1 - mean("engine/slot_occupancy"),
                     mean("sample_waste_ratio")))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=PRESETS, default="bench")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    p = PRESETS[args.preset]
    rows = table(args.preset, args.steps, args.seeds)
    print(f"preset {args.preset}: {p['capacity']} slots, batch {p['batch']} groups x G={p['group']}, "
          f"{args.steps} steps x {args.seeds} seeds (means)\n")
    print("| row | rollout s per batch | ratio to (a) (paper, overall) | engine idle | slot idle | waste |")
    print("|---|---|---|---|---|---|")
    base = rows[0][1]
    for name, wall, idle, slot_idle, waste in rows:
        print(f"| {name} | {wall:.2f} | {base / wall:.2f}x ({PAPER[name]}) | {idle:.1%} | {slot_idle:.1%} "
              f"| {waste:.1%} |")


if __name__ == "__main__":
    main()
