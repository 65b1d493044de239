"""MiMo's test-difficulty-driven code reward (MiMo-7B report, arXiv 2505.07608, §3.3.1 and Fig. 5).

Calibration (offline, before RL): several models roll out on each problem; each test's pass rate over all
their solutions is computed, and tests are clustered by pass rate into K tiers, lower pass rate = harder.
The paper names neither K nor the clustering; Fig. 5 shows three levels (Easy/Medium/Hard), so K = 3 by
default, and the clustering here is optimal 1-D k-means (exact dynamic programming over the sorted rates,
so it is deterministic). Fewer distinct rates than K give fewer tiers.

Rewards from one solution's per-test verdicts (only "AC" passes):
  binary: 1 if every test passes, else 0 (the vanilla reward);
  strict: tier k's weight counts only if every test of tier k and of every easier tier passes;
  soft:   tier k's weight is split equally over its tests; the reward is the sum over passed tests.
The paper does not give tier weights: they are equal by default (each non-empty tier 1/m). Sums are exact
fractions, so both schemes give 1.0 iff all tests pass, and strict <= soft.

Partial credit guard (ours, not the paper's; on when `reward` is given the tests' expected `outputs`): as
written, partial credit pays for answers that are not solutions. A program printing one constant passes
every test that expects it, and one that hard-codes the tests shown in the prompt passes those (and its
fallback constant's). So a reward below 1 is paid only when the passed tests that are not public (the
first `public` tests, shown in the prompt) expect at least two different outputs, which neither can
match. A full pass is 1.0 as before, and the properties above still hold (the guard depends on the passed
tests only, not on the scheme, and passing more tests never closes it). The cost: a real partial solution
whose passed hidden tests all expect one output is paid 0, as the guesser would be.

Tiers are stored next to the dataset, one small JSON per problem (`save_tiers` / `load_tiers`).
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Literal, Sequence

from graders.types import CodeVerdict

Scheme = Literal["binary", "strict", "soft"]
TIER_NAMES = ("easy", "medium", "hard")
METHOD = "optimal 1-D k-means on per-test pass rates (exact DP), tier 0 = highest pass rate"


@dataclass(frozen=True)
class TestTiers:
    __test__ = False  # not a pytest test class
    problem_id: str
    tiers: tuple[int, ...]          # per test, 0 = easiest
    pass_rates: tuple[float, ...]   # per test, over the observed rollouts
    observations: tuple[int, ...]   # per test, how many rollouts ran it
    k: int = 3
    method: str = METHOD


def pass_rates(pass_matrix: Sequence[Sequence[bool | None]]) -> tuple[list[float], list[int]]:
    """Rows = rollouts, columns = tests; None = not run (e.g. SKIP after an earlier failure)."""
    if not pass_matrix:
        raise ValueError("empty pass matrix: need at least one rollout")
    width = len(pass_matrix[0])
    if any(len(row) != width for row in pass_matrix):
        raise ValueError("pass matrix rows differ in length: every rollout must cover the same tests")
    runs = [sum(row[j] is not None for row in pass_matrix) for j in range(width)]
    unseen = [j for j, n in enumerate(runs) if n == 0]
    if unseen:
        raise ValueError(f"tests {unseen[:10]} never ran in any rollout; grade calibration runs with "
                         "mode='all_tests' so every test gets a verdict")
    passes = [sum(bool(row[j]) for row in pass_matrix) for j in range(width)]
    return [p / n for p, n in zip(passes, runs)], runs


def cluster_tiers(rates: Sequence[float], k: int = 3) -> list[int]:
    """Optimal 1-D k-means of the rates into at most k groups; tier 0 = the highest-rate group."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    values = sorted(set(rates), reverse=True)
    groups = min(k, len(values))
    bounds = _kmeans_1d(values, groups)  # bounds[g] = index in `values` where group g starts
    tier_of = {}
    for g in range(groups):
        end = bounds[g + 1] if g + 1 < groups else len(values)
        for v in values[bounds[g]:end]:
            tier_of[v] = g
    return [tier_of[r] for r in rates]


def _kmeans_1d(values: list[float], groups: int) -> list[int]:
    """Exact minimum within-group sum of squares over contiguous splits of the sorted distinct values.
    (Distinct values, unweighted: a tier is a band of pass rates, whatever its test count.)"""
    n = len(values)
    prefix, prefix_sq = [0.0], [0.0]
    for v in values:
        prefix.append(prefix[-1] + v)
        prefix_sq.append(prefix_sq[-1] + v * v)

    def cost(i: int, j: int) -> float:  # values[i:j]
        s = prefix[j] - prefix[i]
        return prefix_sq[j] - prefix_sq[i] - s * s / (j - i)

    best = [[float("inf")] * (n + 1) for _ in range(groups + 1)]
    cut = [[0] * (n + 1) for _ in range(groups + 1)]
    best[0][0] = 0.0
    for g in range(1, groups + 1):
        for j in range(g, n + 1):
            for i in range(g - 1, j):  # first minimum wins: deterministic ties
                c = best[g - 1][i] + cost(i, j)
                if c < best[g][j] - 1e-12:
                    best[g][j], cut[g][j] = c, i
    starts, j = [], n
    for g in range(groups, 0, -1):
        j = cut[g][j]
        starts.append(j)
    return starts[::-1]


def calibrate(problem_id: str, pass_matrix: Sequence[Sequence[bool | None]], k: int = 3) -> TestTiers:
    rates, runs = pass_rates(pass_matrix)
    return TestTiers(problem_id=problem_id, tiers=tuple(cluster_tiers(rates, k)), pass_rates=tuple(rates),
                     observations=tuple(runs), k=k)


def _weights(tiers: Sequence[int], weights: Sequence[float] | None) -> dict[int, Fraction]:
    present = sorted(set(tiers))
    if weights is None:
        return {t: Fraction(1, len(present)) for t in present}
    if any(w <= 0 for w in weights) or len(weights) <= max(present):
        raise ValueError(f"weights must be positive, one per tier (need {max(present) + 1}), got {weights}")
    total = sum(Fraction(weights[t]) for t in present)
    return {t: Fraction(weights[t]) / total for t in present}


def reward(*, verdicts: Sequence[str], tiers: Sequence[int], scheme: Scheme = "strict",
           weights: Sequence[float] | None = None, outputs: Sequence[str] | None = None, public: int = 0) -> float:
    """Reward in [0, 1] for one solution; `verdicts` per test ("AC" passes), `tiers` from calibration.
    `outputs` (each test's expected output) and `public` (how many leading tests the prompt shows) turn on
    the partial credit guard (module docstring)."""
    if len(verdicts) != len(tiers):
        raise ValueError(f"{len(verdicts)} verdicts for {len(tiers)} calibrated tests: recalibrate "
                         "if the problem's tests changed")
    passed = [v == "AC" for v in verdicts]
    if all(passed):
        return 1.0
    if scheme == "binary" or not tiers:
        return 0.0
    if outputs is not None:
        if len(outputs) != len(verdicts):
            raise ValueError(f"{len(outputs)} expected outputs for {len(verdicts)} verdicts")
        hidden = {_canonical(out) for i, (out, p) in enumerate(zip(outputs, passed)) if p and i >= public}
        if len(hidden) < 2:
            return 0.0
    w = _weights(tiers, weights)
    if scheme == "strict":
        total = Fraction(0)
        for t in sorted(w):
            if not all(p for p, tier in zip(passed, tiers) if tier == t):
                break
            total += w[t]
        return float(total)
    if scheme == "soft":
        size = {t: sum(1 for tier in tiers if tier == t) for t in w}
        return float(sum((w[tier] / size[tier] for p, tier in zip(passed, tiers) if p), Fraction(0)))
    raise ValueError(f"scheme must be 'binary', 'strict' or 'soft', got {scheme!r}")


def _canonical(output: str) -> str:
    """Expected outputs that a program's one printout would match alike (LCB compares stripped lines)."""
    return "\n".join(line.strip() for line in output.strip().splitlines())


def reward_from_verdict(verdict: CodeVerdict, tiers: TestTiers, scheme: Scheme = "strict",
                        weights: Sequence[float] | None = None) -> float | None:
    """None (masked) when the grader could not decide (sandbox failure, bad tests)."""
    if verdict.score is None:
        return None
    return reward(verdicts=verdict.verdicts, tiers=tiers.tiers, scheme=scheme, weights=weights)


def tiers_path(directory: Path, problem_id: str) -> Path:
    return Path(directory) / (re.sub(r"[^A-Za-z0-9._-]", "_", problem_id) + ".json")


def save_tiers(tiers: TestTiers, directory: Path, sources: Iterable[str] = ()) -> Path:
    path = tiers_path(directory, tiers.problem_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {**asdict(tiers), "tier_names": list(TIER_NAMES[:tiers.k]) if tiers.k == 3 else None,
              "sources": list(sources)}
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def load_tiers(directory: Path, problem_id: str) -> TestTiers:
    path = tiers_path(directory, problem_id)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no tiers for {problem_id} at {path}: run `mimo-eval calibrate-tests`") from None
    return TestTiers(problem_id=record["problem_id"], tiers=tuple(record["tiers"]),
                     pass_rates=tuple(record["pass_rates"]), observations=tuple(record["observations"]),
                     k=record["k"], method=record["method"])


def pass_matrices_from_runs(run_dirs: Sequence[Path]) -> dict[str, list[list[bool | None]]]:
    """Read `scores.jsonl` of recorded runs: rows with `problem_id` and `per_test` (verdict strings; SKIP =
    not run). Rows without per_test (math, infra errors) are ignored."""
    matrices: dict[str, list[list[bool | None]]] = {}
    for run_dir in run_dirs:
        scores = Path(run_dir) / "scores.jsonl"
        if not scores.exists():
            raise FileNotFoundError(f"{scores} not found: pass run directories written by `mimo-eval run`")
        for line_no, line in enumerate(scores.read_text().splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            per_test = row.get("per_test")
            if not per_test or row.get("infra_error"):
                continue
            observed = [None if v == "SKIP" else v == "AC" for v in per_test]
            rows = matrices.setdefault(row["problem_id"], [])
            if rows and len(rows[0]) != len(observed):
                raise ValueError(f"{scores}:{line_no}: {row['problem_id']} has {len(observed)} tests here, "
                                 f"{len(rows[0])} elsewhere: the runs used different test sets")
            rows.append(observed)
    return matrices


def calibrate_runs(run_dirs: Sequence[Path], out_dir: Path, k: int = 3) -> list[TestTiers]:
    """`mimo-eval calibrate-tests`: pass matrices from runs -> tiers -> one JSON per problem in out_dir."""
    import logging

    matrices = pass_matrices_from_runs(run_dirs)
    if not matrices:
        raise ValueError(f"no rows with per-test verdicts in {[str(d) for d in run_dirs]}: "
                         "calibrate from code runs")
    skipped = sum(v is None for rows in matrices.values() for row in rows for v in row)
    if skipped:  # "lcb" grading stops at the first failure: later tests are unobserved, rates biased upwards
        logging.getLogger(__name__).warning(
            "%d per-test verdicts are SKIP (not run); regrade with mode='all_tests' for unbiased pass rates",
            skipped)
    calibrated = []
    for problem_id, matrix in sorted(matrices.items()):
        tiers = calibrate(problem_id, matrix, k)
        save_tiers(tiers, out_dir, sources=[str(d) for d in run_dirs])
        calibrated.append(tiers)
    return calibrated


def print_calibration(calibrated: Sequence[TestTiers]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"test tiers ({len(calibrated)} problems)")
    for column in ("problem", "tests", "rollouts", "tests per tier (easy..hard)", "mean pass rate per tier"):
        table.add_column(column)
    for t in calibrated:
        sizes = [t.tiers.count(g) for g in range(max(t.tiers) + 1)]
        means = [sum(r for r, g in zip(t.pass_rates, t.tiers) if g == tier) / n for tier, n in enumerate(sizes)]
        table.add_row(t.problem_id, str(len(t.tiers)), str(max(t.observations)), " / ".join(map(str, sizes)),
                      " / ".join(f"{m:.2f}" for m in means))
    Console().print(table)
