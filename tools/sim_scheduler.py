"""Simulate MiMo's Table 2 (arXiv 2505.07608 §3.4): naive dynamic sampling vs continuous rollout, async reward and
FIFO early termination, on heavy-tailed generation lengths. Prints a table beside the paper's figures.

    python tools/sim_scheduler.py --steps 30 --seeds 5

Assumptions (ours; MiMo gives only the outcome): S = 512 generation slots (one sequence each, all equally fast);
a step needs B = 32 informative groups of G = 16; generation time per sequence is lognormal (sigma 0.5, median
1, capped at 10: the longest of 512 traces runs about 4x the median); a prompt's pass rate is 0 with probability 0.25, 1 with
0.15, else Beta(2, 2) (after MiMo's filtering of easy problems); a group's reward takes lognormal time (median
0.05, sigma 0.5; rule-based math) and blocks the controller unless rewards are asynchronous; training takes 2.0 per step whatever
the rollout. The continuous scheduler launches a group when G slots are free and kept + p * in_flight < B (p the
running informative fraction), like mimo_eval/rl/scheduler.py. Idle ratio = idle slot-time / slot-time in the
rollout phase; waste = generation time of sequences not trained on and not needed to find the informative groups
(surplus informative groups and terminated sequences), over all generation time.
"""
from __future__ import annotations

import argparse
import heapq
import random

S, B, G, TRAIN = 512, 32, 16, 2.0
PAPER = {"w/o dynamic sampling": (2.45, 0.708, None), "naive dynamic sampling": (1.00, 0.693, 0.221),
         "+ continuous rollout": (1.99, 0.388, 0.139), "+ async reward": (2.09, 0.340, 0.164),
         "+ early termination": (2.29, 0.277, 0.129)}


def draw_group(rng: random.Random) -> tuple[list[float], bool, float]:
    u = rng.random()
    p = 0.0 if u < 0.25 else 1.0 if u < 0.40 else rng.betavariate(2, 2)
    passes = sum(rng.random() < p for _ in range(G))
    lengths = [min(rng.lognormvariate(0, 0.5), 10.0) for _ in range(G)]
    return lengths, 0 < passes < G, rng.lognormvariate(-3.0, 0.5)


def naive(rng: random.Random, filtering: bool = True) -> tuple[float, float, float]:
    """Whole batches of B prompts: wait for the slowest sequence, then all rewards, then filter; repeat."""
    t = busy = gen_waste = gen_all = 0.0
    kept = 0
    while kept < B:
        groups = [draw_group(rng) for _ in range(B)]
        span = max(max(g[0]) for g in groups)  # B * G == S: every sequence runs at once
        reward = max(g[2] for g in groups)
        work = sum(sum(g[0]) for g in groups)
        t, busy, gen_all = t + span + reward, busy + work, gen_all + work
        for lengths, informative, _ in groups:
            if informative or not filtering:
                if kept >= B:
                    gen_waste += sum(lengths)
                kept += 1
    return t, 1 - busy / (S * t), gen_waste / gen_all


def continuous(rng: random.Random, async_reward: bool, early_stop: bool) -> tuple[float, float, float]:
    t, free, busy, gen_all, waste = 0.0, S, 0.0, 0.0, 0.0
    events: list = []                      # (time, kind, group id)
    groups, kept_ids, judged, kept_total, seq = {}, [], 0, 0, 0
    controller_free_at = 0.0
    while True:
        p = (kept_total + 1) / (judged + 2)
        in_flight = sum(1 for g in groups.values() if g["state"] != "done")
        while free >= G and len(kept_ids) + p * in_flight < B and t >= controller_free_at:
            lengths, informative, rtime = draw_group(rng)
            groups[seq] = {"lengths": lengths, "ok": informative, "r": rtime, "state": "gen", "start": t}
            for x in lengths:  # each sequence frees its slot when it ends (vLLM continuous batching)
                heapq.heappush(events, (t + x, "slot_free", seq))
            heapq.heappush(events, (t + max(lengths), "gen_done", seq))
            free, in_flight, seq = free - G, in_flight + 1, seq + 1
        if _fifo_done(groups, kept_ids) if early_stop else (len(kept_ids) >= B and in_flight == 0):
            break
        when, kind, gid = heapq.heappop(events) if events else (controller_free_at, "tick", None)
        t = max(t, when)
        if kind == "slot_free":
            free += 1
        elif kind == "gen_done":
            g = groups[gid]
            work = sum(g["lengths"])
            busy, gen_all = busy + work, gen_all + work
            done_at = max(t, controller_free_at) + g["r"]
            if not async_reward:
                controller_free_at = done_at   # the controller computes it: no launches meanwhile
            heapq.heappush(events, (done_at, "reward_done", gid))
        elif kind == "reward_done":
            g = groups[gid]
            g["state"] = "done"
            judged, kept_total = judged + 1, kept_total + g["ok"]
            if g["ok"]:
                kept_ids.append(gid)
    cutoff = sorted(kept_ids)[B - 1]
    for gid, g in groups.items():  # surplus informative groups and sequences cut off by early termination
        if g["state"] == "gen":
            elapsed = sum(min(x, t - g["start"]) for x in g["lengths"])
            busy, gen_all, waste = busy + elapsed, gen_all + elapsed, waste + elapsed
        elif g["ok"] and gid > cutoff:
            waste += sum(g["lengths"])
    return t, 1 - busy / (S * t), waste / gen_all


def _fifo_done(groups: dict, kept_ids: list) -> bool:
    """B informative groups, and every group launched before the B-th of them has resolved."""
    if len(kept_ids) < B:
        return False
    cutoff = sorted(kept_ids)[B - 1]
    return all(groups[i]["state"] == "done" for i in range(cutoff + 1))


ROWS = {"w/o dynamic sampling": lambda r: naive(r, filtering=False), "naive dynamic sampling": naive,
        "+ continuous rollout": lambda r: continuous(r, False, False),
        "+ async reward": lambda r: continuous(r, True, False),
        "+ early termination": lambda r: continuous(r, True, True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    results = {}
    for name, fn in ROWS.items():
        runs = [fn(random.Random(seed * 7919 + step)) for seed in range(args.seeds) for step in range(args.steps)]
        results[name] = [sum(x[i] for x in runs) / len(runs) for i in range(3)]
    base_roll = results["naive dynamic sampling"][0]
    print(f"{S} slots, batch {B} groups x G={G}, {args.steps} steps x {args.seeds} seeds (means)\n")
    print("| method | overall speedup (paper) | rollout speedup | GPU idle ratio (paper) | sample waste (paper) |")
    print("|---|---|---|---|---|")
    for name, (roll, idle, waste) in results.items():
        p_speed, p_idle, p_waste = PAPER[name]
        overall = (base_roll + TRAIN) / (roll + TRAIN)
        pw = "/" if p_waste is None else f"{p_waste:.1%}"
        print(f"| {name} | {overall:.2f}x ({p_speed:.2f}x) | {base_roll / roll:.2f}x | {idle:.1%} ({p_idle:.1%}) "
              f"| {waste:.1%} ({pw}) |")


if __name__ == "__main__":
    main()
