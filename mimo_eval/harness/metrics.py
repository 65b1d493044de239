"""Metrics over a run: pass@1 as avg@n with two labelled standard errors, unbiased pass@k, maj@k, breakdowns.

Definitions (research/eval_harness.md §5), with c_i correct out of n samples on problem i of N problems:
- pass@1 = avg@n = (1/N) Σ c_i/n. Equal to the mean of the n per-run accuracies and to the unbiased
  pass@1 estimator. Never "first sample only" (Qwen2.5-Math `evaluate.py` reports that).
- sampling SE (run-to-run): SE² = (1/N²) Σ p_i(1-p_i)/n with the unbiased p_i(1-p_i) = c_i(n-c_i)/(n(n-1)).
  It answers "how far would a rerun with other seeds move the number" and shrinks with n.
- between-problem SE: std_i(c_i/n) / √N (what lighteval prints as Stderr). It answers "how sure are we of the
  model's skill given only these problems" and does not shrink with n.
- pass@k (k ≤ n): the Codex unbiased estimator 1 - C(n-c, k)/C(n, k), averaged over problems.
- maj@k (cons@k): on the first k samples, the most frequent answer (ties: the one seen first) decides;
  samples without an answer do not vote. Answers are grouped by the grader's canonical form.
Every problem must carry exactly n samples: fewer samples than n is the lighteval#771 halving bug.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

# Outcomes that are not "the model answered and was wrong": shown separately, never folded silently into wrong.
NOT_WRONG_OUTCOMES = ("no_answer", "timeout", "error", "truncated")


@dataclass(frozen=True)
class SampleScore:
    correct: bool
    answer: str | None = None     # vote key for maj@k (canonical answer); None = no answer
    outcome: str = "wrong"        # correct | wrong | no_answer | timeout | error
    truncated: bool = False       # finish_reason == "length"


class SampleCountError(ValueError):
    """A problem does not have exactly n samples: averaging would be biased."""


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k = 1 - C(n-c, k) / C(n, k) (Chen et al. 2021), for k <= n."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def majority_correct(samples: Sequence[SampleScore]) -> bool:
    """True when the most frequent answer among samples is a correct one (ties: first seen wins)."""
    votes = Counter(s.answer for s in samples if s.answer is not None)
    if not votes:
        return False
    winner = votes.most_common(1)[0][0]    # Counter keeps insertion order among equal counts
    return any(s.correct for s in samples if s.answer == winner)


def default_ks(n: int) -> list[int]:
    """Powers of two up to n, plus n itself."""
    ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256) if k <= n]
    return ks if n in ks else ks + [n]


def check_counts(problems: Mapping[str, Sequence[SampleScore]], n: int) -> None:
    bad = {pid: len(s) for pid, s in problems.items() if len(s) != n}
    if bad:
        shown = ", ".join(f"{pid} has {m}" for pid, m in list(bad.items())[:5])
        raise SampleCountError(
            f"{len(bad)} of {len(problems)} problems do not have exactly n={n} samples ({shown}); "
            "finish the run (re-run the same command) before computing metrics")


def sampling_se(counts: Sequence[int], n: int) -> float:
    """Run-to-run standard error of avg@n (0 when n == 1: no within-problem estimate, see summarize)."""
    if n < 2:
        return float("nan")
    var_sum = sum(c * (n - c) / (n * (n - 1)) for c in counts)
    return math.sqrt(var_sum / n) / len(counts)


def between_problem_se(rates: Sequence[float]) -> float:
    m = len(rates)
    if m < 2:
        return float("nan")
    mean = sum(rates) / m
    return math.sqrt(sum((r - mean) ** 2 for r in rates) / (m - 1)) / math.sqrt(m)


def per_run_accuracies(problems: Mapping[str, Sequence[SampleScore]], n: int) -> list[float]:
    """Accuracy of run j = the j-th sample of every problem (samples ordered by sample index)."""
    return [sum(s[j].correct for s in problems.values()) / len(problems) for j in range(n)]


def _std(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return float("nan")
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def summarize(problems: Mapping[str, Sequence[SampleScore]], n: int,
              metadata: Mapping[str, dict] | None = None, breakdown_keys: Sequence[str] = (),
              majority: bool = True) -> dict:
    """All headline numbers for one run, in points (0-100). `problems` maps id -> samples by index.
    `majority=False` leaves maj@k out (code: programs have no answer to vote on)."""
    if not problems:
        raise ValueError("no problems to summarize")
    check_counts(problems, n)
    counts = [sum(s.correct for s in samples) for samples in problems.values()]
    rates = [c / n for c in counts]
    mean = sum(rates) / len(rates)
    if n == 1:   # one sample: the per-problem Bernoulli variance is estimated from the mean rate
        s_se = math.sqrt(mean * (1 - mean) / len(rates))
    else:
        s_se = sampling_se(counts, n)
    runs = per_run_accuracies(problems, n)
    out = {
        "n": n,
        "num_problems": len(problems),
        "pass@1": 100 * mean,
        "sampling_se": 100 * s_se,
        "between_problem_se": 100 * between_problem_se(rates),
        "ci95_sampling": [100 * (mean - 1.96 * s_se), 100 * (mean + 1.96 * s_se)],
        "per_run_accuracy": [100 * a for a in runs],
        "per_run_sd_observed": 100 * _std(runs),
        "per_run_sd_analytic": 100 * s_se * math.sqrt(n),
        "pass@k": {str(k): 100 * sum(pass_at_k(n, c, k) for c in counts) / len(counts) for k in default_ks(n)},
        "maj@k": {str(k): 100 * sum(majority_correct(s[:k]) for s in problems.values()) / len(problems)
                  for k in default_ks(n) if k > 1 and majority},
        "outcomes": outcome_counts(problems),
    }
    if metadata:
        out["breakdown"] = {key: breakdown(problems, n, metadata, key) for key in breakdown_keys}
    return out


def outcome_counts(problems: Mapping[str, Sequence[SampleScore]]) -> dict[str, int]:
    """Samples by outcome, plus how many were cut by the token limit (a sample may be truncated and wrong)."""
    c = Counter(s.outcome for samples in problems.values() for s in samples)
    c["truncated"] = sum(s.truncated for samples in problems.values() for s in samples)
    c["total"] = sum(len(samples) for samples in problems.values())
    return dict(sorted(c.items()))


def breakdown(problems: Mapping[str, Sequence[SampleScore]], n: int,
              metadata: Mapping[str, dict], key: str) -> dict[str, dict]:
    """avg@n and between-problem SE per value of metadata[key] (MATH level or subject, LCB difficulty)."""
    groups: dict[str, list[float]] = {}
    for pid, samples in problems.items():
        value = str(metadata.get(pid, {}).get(key, "unknown"))
        groups.setdefault(value, []).append(sum(s.correct for s in samples) / n)
    return {value: {"pass@1": 100 * sum(r) / len(r), "between_problem_se": 100 * between_problem_se(r),
                    "num_problems": len(r)}
            for value, r in sorted(groups.items())}
