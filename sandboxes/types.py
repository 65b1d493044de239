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
    time_s: float = 6.0              # wall clock per test, measured and enforced by the driver (LCB: 6 s)
    memory_mb: int = 1024            # all processes of a test together (Docker: the tests' cgroup, memory+swap,
                                     # scratch and shared memory included, beyond the zygote's own pages) and
                                     # RLIMIT_AS per process; LocalSandbox: RLIMIT_AS only, 0 = none
    output_bytes: int = 1 << 20      # stdout per test (over it: "output_limit"); stderr keeps its last 64 KiB
    total_output_bytes: int = 16 << 20  # stdout + stderr kept over the whole submission: bounds host memory
    budget_s: float | None = None    # wall clock for the whole submission; None = no cap beyond per-test limits


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    stdout: str = ""
    stderr: str = ""                 # its last 64 KiB
    exit_code: int | None = None
    wall_s: float = 0.0
    peak_memory_kb: int | None = None  # max RSS of the test process (forked: includes ~10 MB of the zygote's pages)


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
        session: bool = False,
        relaunch: int = 0,
    ) -> SandboxResult:
        """Run Python `program` once per stdin string in `inputs`; with stop_on_error, tests after
        the first non-"ok" status come back as "skipped". With `session`, ONE process gets the inputs in
        turn: input k is written to its stdin only after it answered input k-1 with one line on stdout
        (that line is result k's stdout), each within `time_s` as measured by the sandbox; after the
        first step that is not "ok" the process is gone and the rest are "skipped", unless `relaunch` = r:
        then a fresh process first answers inputs 0..r-1 again (not reported; if one fails or the budget
        ends, that is the status of the input it was relaunched for) and goes on at the next input."""
        ...

    def close(self) -> None: ...
