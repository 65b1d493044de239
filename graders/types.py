"""The grader vocabulary: verdicts. Every grader returns one of these and never raises on model output."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# timeout: the deadline passed while the worker waited for a CPU (host load), masked; response_too_costly:
# it passed while the worker computed on the response (graders.pool.CPU_BOUND_FRACTION), a 0 like wrong.
MathReason = Literal["correct", "wrong", "no_answer", "gold_unparseable", "timeout", "response_too_costly", "error"]


@dataclass(frozen=True)
class MathVerdict:
    correct: bool
    reason: MathReason
    extracted: str | None = None      # the answer string found in the response
    parsed_gold: str | None = None    # canonical forms, for debugging
    parsed_response: str | None = None
    timed_out: bool = False
    detail: str = ""                  # which extraction rule found the answer, then which comparison decided
    rule: str = ""                    # the extraction rule's key (graders.math.extract.RULES), for filtering

    @property
    def score(self) -> float | None:
        """RL reward: None (= mask) when the grader could not decide."""
        if self.reason in ("timeout", "error", "gold_unparseable"):
            return None
        return 1.0 if self.correct else 0.0


# ---- code (graders/code/__init__.py, graders/difficulty.py) ----
# AC accepted, WA wrong answer, TLE time limit, RE runtime error, MLE memory, CE compile (or entry point missing),
# SKIP not run (an earlier test failed in "lcb" mode, or the sample's budget ran out). Only AC counts as passed.
TestVerdict = Literal["AC", "WA", "TLE", "RE", "MLE", "CE", "SKIP"]
CodeReason = Literal["passed", "failed", "no_code", "bad_tests", "infra_error"]
CodeMode = Literal["lcb", "all_tests"]


@dataclass(frozen=True)
class CodeTest:
    input: str      # stdin text, or one JSON argument per line for functional tests
    output: str     # expected stdout, or the JSON of the expected return value


@dataclass(frozen=True)
class CodeReference:
    """What is right for one problem: tests in judge order (public, then private)."""
    tests: tuple[CodeTest, ...]
    fn_name: str | None = None    # set: functional (LeetCode) tests calling Solution().<fn_name>; None: stdin
    public: int = 0               # the first `public` tests are shown in the prompt (no partial credit of their own)


@dataclass(frozen=True)
class CodeOptions:
    """Departures from LiveCodeBench's judge. Every non-default value raises scores; each is recorded."""
    float_tolerance: float | None = None   # numeric tokens equal within abs/rel tolerance (LCB: exact Decimal)
    stdout_buffer: bool = False            # give the captured stdout a .buffer (LCB: AttributeError -> RE)


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class
    verdict: TestVerdict
    wall_s: float = 0.0
    detail: str = ""                # first mismatch or the error, truncated


@dataclass(frozen=True)
class CodeVerdict:
    passed: bool
    reason: CodeReason
    per_test: tuple[TestOutcome, ...] = ()
    extracted_code: str = ""
    mode: CodeMode = "lcb"
    options: CodeOptions = CodeOptions()
    infra_error: str | None = None  # the sandbox failed, not the program: never a 0
    detail: str = ""

    @property
    def score(self) -> float | None:
        """RL reward: None (= mask) when the grader could not decide."""
        if self.reason in ("infra_error", "bad_tests"):
            return None
        return 1.0 if self.passed else 0.0

    @property
    def verdicts(self) -> tuple[str, ...]:
        return tuple(t.verdict for t in self.per_test)
