"""The sandbox vocabulary: limits in, one result per test out. Sandboxes never score."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Sequence

# What happened to one test run. No verdicts here (no "wrong answer"): comparing output is the grader's job.
RunStatus = Literal[
    "ok",             # exited 0 within limits
    "runtime_error",  # non-zero exit or killed by a signal other than our limits
    "timeout",        # wall deadline hit
    "memory",         # memory limit hit (cgroup OOM or MemoryError)
    "output_limit",   # stdout/stderr exceeded the cap
    "compile_error",  # the program did not compile; no test ran
    "skipped",        # not run: an earlier test failed and stop_on_error was set, or the budget ran out
]


@dataclass(frozen=True)
class Limits:
    time_s: float = 6.0              # wall clock per test (LiveCodeBench: 6 s)
    memory_mb: int = 1024            # whole container/process tree (Docker: cgroup memory+swap = this + 64 MiB
                                     # for the driver, and RLIMIT_AS = this per test; 0 = cgroup only)
    output_bytes: int = 1 << 20      # per stream, per test
    budget_s: float | None = None    # wall clock for the whole submission; None = no cap beyond per-test limits


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    stdout: str = ""
    stderr: str = ""                 # truncated to the output cap
    exit_code: int | None = None
    wall_s: float = 0.0
    peak_memory_kb: int | None = None  # max RSS of the test process (forked: includes ~10 MB of the driver's pages)


@dataclass(frozen=True)
class SandboxResult:
    """One entry per input, in order; `infra_error` set means the sandbox itself failed (not the program),
    and then `results` is empty: no verdict can be drawn. `meta` says which sandbox ran it ("sandbox"), and
    for Docker the container's short id ("container") and how many tries it took ("attempts", 2 = re-run
    once in a fresh container after an anomaly)."""
    results: tuple[RunResult, ...] = ()
    infra_error: str | None = None
    meta: dict = field(default_factory=dict)


class Sandbox(Protocol):
    def run(
        self,
        program: str,
        inputs: Sequence[str],
        limits: Limits = Limits(),
        *,
        stop_on_error: bool = False,
    ) -> SandboxResult:
        """Run Python `program` once per stdin string in `inputs`; with stop_on_error, tests after
        the first non-"ok" status come back as "skipped"."""
        ...

    def close(self) -> None: ...
