"""kind "code": the response's program against the problem's tests in a sandbox, MiMo's reward schemes on top.

The reference is a `graders.types.CodeReference`, or the layouts datasets ship: verl/PRIME/LCB's
`{"inputs": [...], "outputs": [...], "fn_name": ...}` (a dict or its JSON string) or a LiveCodeBench row
(`public_test_cases`, `private_test_cases`, `metadata`); a test dict may say how many of its first tests the
prompt shows ("public": n, as an LCB row's public tests are), which then earn no partial credit. Options:
  reward: "binary" (all tests pass) | "strict" | "soft" (test-difficulty rewards, `graders.difficulty`);
  tiers: per-test tier list or a `TestTiers`; or tiers_dir + problem_id (files from `mimo-eval calibrate-tests`);
      a reference dict may carry "tiers" itself;
  weights, test_timeout_s (per test, LCB's 6 s), budget_s (the whole sample, DEFAULT_BUDGET_S; not the pool's
      timeout_s, which is sized for math: a 1 s budget would fail every program), memory_mb, float_tolerance.
"binary" runs LCB's judge (stops at the first failure); strict/soft run every test ("all_tests"). The budget
bounds how long one sample can hold a sandbox worker; tests it did not reach are failures (SKIP), so a slow
program earns its own 0. A sandbox failure or unusable tests is masked (score None), never a 0 or a 1.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from graders.rewards.types import RewardResult

OPTIONS = frozenset({"reward", "tiers", "tiers_dir", "problem_id", "weights", "test_timeout_s", "budget_s",
                     "memory_mb", "float_tolerance"})
SCHEMES = ("binary", "strict", "soft")
DEFAULT_BUDGET_S = 30.0


def check_options(options: Mapping, default_scheme: str) -> None:
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"unknown code reward options {sorted(unknown)}; known: {sorted(OPTIONS)}")
    scheme = options.get("reward", default_scheme)
    if scheme not in SCHEMES:
        raise ValueError(f"code reward must be one of {SCHEMES}, got {scheme!r}")
    if "tiers_dir" in options and "problem_id" not in options:
        raise ValueError("tiers_dir needs problem_id (the calibration file's name)")


def as_reference(reference: Any):
    """(CodeReference, tiers from the reference or None). ValueError/KeyError/TypeError: unusable tests."""
    from graders.code.lcb_tests import reference_from_input_output, reference_from_lcb_row
    from graders.types import CodeReference

    if isinstance(reference, CodeReference):
        return reference, None
    if isinstance(reference, (str, bytes)):
        reference = json.loads(reference)
    if not isinstance(reference, Mapping):
        raise TypeError(f"code reference is a {type(reference).__name__}, not a CodeReference or a test dict")
    tiers = reference.get("tiers")
    lcb_row = "public_test_cases" in reference
    ref = reference_from_lcb_row(reference) if lcb_row else reference_from_input_output(reference)
    if not all(isinstance(t.input, str) and isinstance(t.output, str) for t in ref.tests):
        raise ValueError("every test input and output must be a str (stdin text / JSON lines)")
    return ref, tiers


def _tiers(options: Mapping, from_reference, n_tests: int) -> tuple[int, ...]:
    from graders.difficulty import TestTiers, load_tiers

    tiers = options.get("tiers", from_reference)
    if tiers is None and "tiers_dir" in options:
        tiers = load_tiers(options["tiers_dir"], options["problem_id"])
    if tiers is None:
        raise ValueError("strict/soft code rewards need test tiers: pass options tiers=[...] or "
                         "tiers_dir=... and problem_id=... (made by `mimo-eval calibrate-tests`)")
    tiers = tuple(tiers.tiers if isinstance(tiers, TestTiers) else tiers)
    if len(tiers) != n_tests:
        raise ValueError(f"{len(tiers)} tiers for {n_tests} tests: recalibrate if the problem's tests changed")
    return tiers


def code_reward(*, response: str, reference: Any, options: Mapping, sandbox, default_scheme: str) -> RewardResult:
    from graders.code import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, grade
    from graders.difficulty import reward
    from graders.types import CodeOptions

    scheme = options.get("reward", default_scheme)
    try:
        ref, ref_tiers = as_reference(reference)
    except (ValueError, KeyError, TypeError) as exc:
        return RewardResult(None, None, "bad_tests", {"detail": f"reference not usable: {exc}"[:300]})
    tiers = None if scheme == "binary" else _tiers(options, ref_tiers, len(ref.tests))
    verdict = grade(reference=ref, response=response, mode="lcb" if scheme == "binary" else "all_tests",
                    sandbox=sandbox, timeout_s=int(options.get("test_timeout_s", DEFAULT_TIMEOUT_S)),
                    options=CodeOptions(float_tolerance=options.get("float_tolerance")),
                    budget_s=options.get("budget_s", DEFAULT_BUDGET_S),
                    memory_mb=options.get("memory_mb", DEFAULT_MEMORY_MB))
    extra = {"verdicts": verdict.verdicts, "passed_tests": verdict.verdicts.count("AC"),
             "tests": len(ref.tests), "scheme": scheme, "detail": (verdict.infra_error or verdict.detail)[:300]}
    if verdict.score is None:
        return RewardResult(None, None, verdict.reason, extra)
    score = verdict.score if tiers is None else reward(
        verdicts=verdict.verdicts, tiers=tiers, scheme=scheme, weights=options.get("weights"),
        outputs=[t.output for t in ref.tests], public=ref.public)   # the partial credit guard (graders.difficulty)
    return RewardResult(score, verdict.passed, verdict.reason, extra)
