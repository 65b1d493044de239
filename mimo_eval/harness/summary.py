"""summary.json: a run's metrics from its stored rows, under its settings (the problems it asks, its truncation
policy), with the settings that label it on the leaderboard, its cost and where it is."""
from __future__ import annotations

import hashlib
import json

from benchmarks.types import Benchmark, Problem
from mimo_eval.harness.cost import summarize_cost
from mimo_eval.harness.metrics import summarize
from mimo_eval.harness.scoring import to_sample_scores
from mimo_eval.harness.files import COST, latest_by_key, read_jsonl
from mimo_eval.harness.store import COMPARABLE_DEFAULTS, COMPARABLE_KEYS, REPORT_KEYS, RunStore, comparable


def asked(problems: list[Problem], limit: int | None) -> list[Problem]:
    """The problems a run asks: all of them, or the first `limit` in the benchmark's order (--limit)."""
    return problems[:limit] if limit else problems


def write_summary(store: RunStore, problems: list[Problem], bench: Benchmark, n: int) -> dict:
    """summary.json from the stored rows: the problems the run asks (its --limit), the first n samples of each,
    scored under the run's truncation policy; with the run's settings, its cost and where it came from."""
    config = store.config
    counted = asked(problems, config.get("limit"))
    samples, scores = latest_by_key(store.samples()), latest_by_key(store.scores())
    policy = comparable(config, "truncated")
    per_problem = to_sample_scores(counted, samples, scores, n, truncated=policy)
    metadata = {p.id: p.metadata for p in counted}
    summary = summarize(per_problem, n, metadata, bench.breakdown_keys, majority=bench.grader == "math")
    tokens = [samples[(p.id, i)].get("num_tokens") for p in counted for i in range(n) if (p.id, i) in samples]
    summary.update({"model": config["model"], "benchmark": bench.name, "run_dir": str(store.path),
                    "prompt_sha256": config["prompt_sha256"], "temperature": config["temperature"],
                    "top_p": config["top_p"], "max_tokens": config["max_tokens"], "seed": config["seed"],
                    "limit": config.get("limit"), "benchmark_problems": len(problems), "truncated": policy,
                    "settings_sha256": _settings_hash(config),
                    # the leaderboard's columns and rows
                    "settings": {k: comparable(config, k) for k in COMPARABLE_KEYS + REPORT_KEYS},
                    "samples_beyond_n": sum(1 for pid, i in samples if i >= n and pid in metadata),   # n lowered
                    "mean_tokens": _mean(tokens),
                    "cost": summarize_cost(read_jsonl(store.path / COST), tokens)})
    store.write_summary(summary)
    return summary


def _settings_hash(config: dict) -> str:
    """Two runs with the same hash asked the same questions the same way and count them the same way (n aside)."""
    # keys at their COMPARABLE_DEFAULTS value are left out, so older runs keep the hash they had before the key
    values = {k: comparable(config, k) for k in COMPARABLE_KEYS + REPORT_KEYS
              if k not in COMPARABLE_DEFAULTS or comparable(config, k) != COMPARABLE_DEFAULTS[k]}
    key = json.dumps(values, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _mean(values: list) -> float | None:
    known = [v for v in values if isinstance(v, (int, float))]
    return sum(known) / len(known) if known else None
