"""What a run cost: wall time, output tokens per second, mean and p95 output tokens, for the summary.

Each `mimo-eval run` invocation appends one line to the run's `cost.jsonl` (wall time from start to summary, the
generation window from the first request to the last completion, samples and output tokens generated), so a run
resumed three times, or merged from shards, adds its invocations up. Token statistics come from the samples the
summary counts (the first n of each problem), from the token counts the backend reported.
"""
from __future__ import annotations

import math
import time


class CostMeter:
    """Counts one invocation's generations; `row()` is its cost.jsonl line."""

    def __init__(self):
        self.started = time.monotonic()
        self.first_request: float | None = None
        self.last_completion: float | None = None
        self.samples = 0
        self.output_tokens = 0

    def generating(self) -> None:
        self.first_request = self.first_request or time.monotonic()

    def generated(self, num_tokens: int | None) -> None:
        self.last_completion = time.monotonic()
        self.samples += 1
        self.output_tokens += num_tokens or 0

    def row(self) -> dict:
        generation_s = (self.last_completion - self.first_request) if self.samples and self.first_request else 0.0
        return {"wall_s": round(time.monotonic() - self.started, 3), "generation_s": round(generation_s, 3),
                "samples": self.samples, "output_tokens": self.output_tokens, "time": round(time.time(), 3)}


def summarize_cost(invocations: list[dict], num_tokens: list[int | None]) -> dict:
    """The summary's `cost`: wall and generation time summed over invocations, output tokens per second of
    generation, and the mean and p95 of the counted samples' output tokens (None where nothing was reported)."""
    generation_s = sum(r.get("generation_s") or 0.0 for r in invocations)
    generated_tokens = sum(r.get("output_tokens") or 0 for r in invocations)
    known = sorted(t for t in num_tokens if isinstance(t, int))
    return {
        "wall_s": round(sum(r.get("wall_s") or 0.0 for r in invocations), 3),
        "generation_s": round(generation_s, 3),
        "invocations": len(invocations),
        "output_tokens_per_s": round(generated_tokens / generation_s, 2) if generation_s > 0 and generated_tokens
        else None,
        "output_tokens_mean": round(sum(known) / len(known), 2) if known else None,
        "output_tokens_p95": percentile(known, 95) if known else None,
        "samples_with_token_counts": len(known),
    }


def percentile(sorted_values: list[int], q: float) -> int:
    """Nearest-rank percentile: the smallest value with at least q% of the values at or below it."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]
