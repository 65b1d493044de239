"""MiMo's Table 2 measured on vLLM's engine: rollout wall time per training batch of naive dynamic sampling against
continuous rollout, + asynchronous reward, + FIFO early termination (mimo_eval/rl/stream.py), on one started
engine, the same seed, batch and problems; then validation: `mimo-eval run` on the bundled LiveCodeBench sample
graded in the Docker sandbox as each sample finishes, against generating everything first and grading after.

    PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 .venvs/vllm/bin/python tools/bench_rollout.py --quick   # ~1-4 min, 2 cores
    PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 .venvs/vllm/bin/python tools/bench_rollout.py           # ~2-3 min

Workload: mimo_eval/rl/chain.py, a tiny Llama (mimo_eval/tiny.py's shape) set to a Markov chain: 10 math and 3
code problems, pass rates at the quantiles of 0 (25%), 1 (15%), Beta(2, 2) (60%), response lengths a mixture of
geometrics (means 24 and 160 tokens, weights 0.85 and 0.15) capped at 256, so a batch's longest sequence runs
several times its mean, as in long-CoT RL. Math answers are graded by the math grader, programs by the code grader
in the Docker sandbox (2 reward workers). Batch 16 groups of 8, engine max_num_seqs 128 (one naive batch at once),
temperature 1, easy pool off (a stationary workload). One OpenMP thread, and this process pinned to one core: the
engine's, as a GPU is; the sandbox's containers get the others. Rows alternate batch by batch after a warm-up
batch, each row with its own cursor and seeds, so they draw the same problems and sample the same tokens for the
same draw. No training: the weights stay fixed, the ratios are of rollout time (the paper's 1.99x/2.09x/2.29x
are of whole training steps). tools/sim_scheduler.py runs the same loop in virtual time. The last line is (d)'s
ratio to (a) (target: at least 1.5).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
# The engine gets one core and the sandbox's containers the others, as on a GPU machine where the engine has its
# device and rewards the host's CPUs: one OpenMP thread (two on a 2-core machine that also runs the sandbox stalled
# each other: 10x slower steps measured here under load), and this process pinned to the first core (main() does it;
# measured here: (d) 1.38x unpinned, 1.75x pinned, at load average ~3 from other jobs)
os.environ.setdefault("OMP_NUM_THREADS", "1")

from mimo_eval.rl.stream import TABLE2  # noqa: E402

PAPER = {"(a) naive dynamic sampling": "1.00x", "(b) + continuous rollout": "1.99x",
         "(c) + async reward": "2.09x", "(d) + early termination": "2.29x"}


def rl_loop(directory: Path, chain_dir: Path, args):
    from mimo_eval.rl.chain import ROUTES
    from mimo_eval.rl.config import from_mapping
    from mimo_eval.rl.trainer import GRPOLoop

    cfg = from_mapping({
        "model": str(chain_dir), "data": str(chain_dir / "train.jsonl"), "output_dir": str(directory),
        "engine": "vllm", "seed": args.seed, "train_batch": args.batch, "mini_batch": args.batch,
        "group_size": args.group, "max_new_tokens": args.max_tokens, "max_prompt_tokens": 16, "temperature": 1.0,
        "top_p": 1.0, "easy_alpha": 0.0, "reward_routes": ROUTES, "reward_workers": 2, "precision": "fp32",
        "vllm_kwargs": {"enforce_eager": True, "max_num_seqs": args.capacity}, "progress": False})
    return cfg, GRPOLoop(cfg)


def rollout_rows(cfg, loop, batches: int) -> dict[str, list[dict]]:
    from mimo_eval.rl.data import EasyPool, PromptCursor
    from mimo_eval.rl.trainer import make_scheduler

    schedulers, seeds = {}, {}
    for name, mode in TABLE2.items():
        rollout = "continuous" if mode.continuous else "naive"
        row_cfg = dataclasses.replace(cfg, rollout=rollout, async_reward=mode.async_reward,
                                      early_termination=mode.early_termination)
        schedulers[name] = make_scheduler(row_cfg, loop.engine, rewards=loop.rewards, problems=loop.problems,
                                          encode=loop.scheduler.encode, kind_for=loop.scheduler.kind_for,
                                          cursor=PromptCursor(len(loop.problems), cfg.seed),
                                          pool=EasyPool(0.0, cfg.seed))
        seeds[name] = Counter()
    loop.scheduler.collect(cfg.train_batch)   # warm-up: engine, reward workers, sandbox
    out: dict[str, list[dict]] = {name: [] for name in TABLE2}
    for _ in range(batches):
        for name, scheduler in schedulers.items():
            loop.engine.draws = seeds[name]   # the row's own draw counts: the same draw gets the same seeds
            loop.engine.llm.reset_prefix_cache()
            out[name].append(scheduler.collect(cfg.train_batch).metrics)
            print(f"  {name}: {out[name][-1]['timing/collect']:.2f} s", file=sys.stderr, flush=True)
    return out


def rollout_table(rows: dict[str, list[dict]]) -> tuple[list[str], float]:
    def mean(runs, key):
        return sum(m[key] for m in runs) / len(runs)

    lines = ["| row | s per batch | ratio to (a) (paper) | engine idle | slot idle | tokens per batch | waste "
             "| groups launched / kept / filtered / aborted | reward latency |",
             "|---|---|---|---|---|---|---|---|---|"]
    base = mean(rows[next(iter(rows))], "timing/collect")
    ratio = 0.0
    for name, runs in rows.items():
        wall = mean(runs, "timing/collect")
        ratio = base / wall
        waste = sum(m["tokens/wasted"] for m in runs) / sum(m["tokens/generated"] for m in runs)
        groups = " / ".join(f"{mean(runs, k):.1f}" for k in ("groups/generated", "groups/kept", "groups/filtered",
                                                             "groups/aborted"))
        lines.append(f"| {name} | {wall:.2f} | {ratio:.2f}x ({PAPER[name]}) | {mean(runs, 'engine/idle_frac'):.1%} "
                     f"| {1 - mean(runs, 'engine/slot_occupancy'):.1%} | {mean(runs, 'tokens/generated'):.0f} "
                     f"| {waste:.1%} | {groups} | {mean(runs, 'reward/latency_mean_s') * 1000:.0f} ms |")
    return lines, ratio


class GenerateAllFirst:
    """A backend that yields nothing until every sample is generated: the harness then grades after generation."""

    def __init__(self, backend):
        self.backend, self.name = backend, backend.name
        self.generation_s = 0.0

    def generate(self, requests, sampling):
        t0 = time.perf_counter()
        completions = list(self.backend.generate(requests, sampling))
        self.generation_s = time.perf_counter() - t0
        return iter(completions)

    def versions(self):
        return self.backend.versions()

    def thinking_opened(self, request):
        return self.backend.thinking_opened(request)

    def config(self):
        return self.backend.config()


def validation(directory: Path, loop, n: int, rounds: int, max_tokens: int) -> dict[str, list[float]]:
    """The harness's vLLM backend around the loop's engine, as evaluation during training runs it."""
    from mimo_eval.harness.run import RunSettings, execute
    from mimo_eval.types import SamplingParams

    backend = loop.engine.eval_backend("chain")
    sampling = SamplingParams(temperature=1.0, top_p=1.0, max_tokens=max_tokens, seed=0)
    times: dict[str, list[float]] = {"continuous": [], "after": [], "generation": []}
    after = GenerateAllFirst(backend)
    for k in range(rounds + 1):   # round 0 warms the engine and the sandbox image up
        for label, wrapped in (("continuous", backend), ("after", after)):
            settings = RunSettings(benchmark="lcb_sample", model="chain", out=directory / f"{label}{k}", n=n,
                                   sampling=sampling, progress=False, system_prompt=None)
            backend._llm.reset_prefix_cache()
            t0 = time.perf_counter()
            execute(settings, wrapped)
            if k:
                times[label].append(time.perf_counter() - t0)
                if wrapped is after:
                    times["generation"].append(after.generation_s)
                print(f"  validation {label}: {times[label][-1]:.2f} s", file=sys.stderr, flush=True)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 batch a row, batch 8, validation n 2 once")
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16, help="groups per training batch")
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--capacity", type=int, default=128, help="vLLM max_num_seqs")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-n", type=int, default=8, help="LiveCodeBench samples per problem (MiMo: 8)")
    ap.add_argument("--val-rounds", type=int, default=3)
    ap.add_argument("--no-pin", action="store_true", help="leave this process (engine, grader threads) on all cores")
    args = ap.parse_args()
    if args.quick:
        args.batches, args.batch, args.capacity, args.val_n, args.val_rounds = 1, 8, 64, 2, 1
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1 and not args.no_pin:
        os.sched_setaffinity(0, {cores[0]})   # before any thread or worker process starts: they inherit it
    from mimo_eval.rl import chain

    with tempfile.TemporaryDirectory(prefix="bench-rollout-") as tmp:
        tmp = Path(tmp)
        chain_dir = chain.write(tmp / "chain", chain.mixed_problems(10, 3, args.seed))
        cfg, loop = rl_loop(tmp / "rl", chain_dir, args)
        try:
            rows = rollout_rows(cfg, loop, args.batches)
            val = validation(tmp / "val", loop, args.val_n, args.val_rounds, args.max_tokens)
        finally:
            loop.close()
    lines, ratio = rollout_table(rows)
    pinned = "all cores" if args.no_pin or len(cores) == 1 else f"core {cores[0]} of {len(cores)}"
    print(f"vLLM {vllm_version()} CPU build, chain task, batch {args.batch} groups x G={args.group}, max_num_seqs "
          f"{args.capacity}, {args.max_tokens} max tokens, {args.batches} batches a row (means); engine process on "
          f"{pinned}; load average {os.getloadavg()[0]:.1f}\n")
    print("\n".join(lines))
    cont, after, gen = (sum(v) / len(v) for v in (val["continuous"], val["after"], val["generation"]))
    print(f"\nvalidation, lcb_sample x n {args.val_n} in the Docker sandbox, {args.val_rounds} rounds (means): "
          f"generate-all-then-grade {after:.2f} s (generation {gen:.2f} s, then the rest), continuous "
          f"generate-and-grade {cont:.2f} s, ratio {after / cont:.2f}x (paper 1.96x; full overlap would give "
          f"{after / max(gen, after - gen):.2f}x here)")
    print(f"(d) / (a) rollout speed-up: {ratio:.2f}")


def vllm_version() -> str:
    from mimo_eval.backends.vllm import engine_version

    return engine_version()


if __name__ == "__main__":
    main()
