"""Running untrusted programs with limits. Imports nothing else from this project.

`get_sandbox("auto" | "docker" | "local")` picks one. The Docker SDK is only imported when a DockerSandbox
is created, so `import sandboxes` stays light.

What a submission (one `run` call) can and cannot affect, with DockerSandbox (LocalSandbox: no isolation)
  * Its own results only. Each test's status, output and wall time are decided by the driver (driver.py),
    a root process outside the test's uid, from outside the program: the deadline is the driver's clock and
    its SIGKILL, so signals, `except BaseException` or a forged time change nothing; in a session (graders'
    harness) the driver also writes input k only after answer k-1, timing each step itself. A test can see
    nothing the host did not send (the program and the inputs); graders keep expected outputs on the host.
  * Not the next submission. After every test every process of uid 65534 is SIGKILLed and reaped (fork
    bombs and setsid daemons included; no helper fork, so a full pid table cannot stop it); at the end of
    every submission, on that submission's own deadline, its SysV IPC objects are removed and /tmp,
    /dev/shm and /dev/mqueue are emptied without recursion. Scratch is bounded (tmpfs size and nr_inodes
    4096 on /tmp and /dev/shm, SysV shm 16 MiB in all), and the cgroup has DRIVER_MEMORY_MB above the test's
    limit for the driver plus all scratch, so what a dead test leaves cannot make the cgroup OOM. If the
    cleaning fails, or processes outlive the sweep, the verdicts stand and the container is replaced, on
    this submission's time.
  * Not the driver: it keeps CAP_KILL/SETUID/SETGID (tests drop to 65534 with no capabilities and no
    groups) with oom_score_adj 1000; its kill is one kill(-1) made as soon as it wakes at the deadline. Where the engine
    grants CAP_SYS_RESOURCE the driver takes -1000 and the tests' floor is pinned at 1000; where it does
    not (logged: "engine refuses CAP_SYS_RESOURCE"), a test may lower itself to the driver's 0, and a test
    that fills the cgroup while keeping its own RSS below the driver's could have the driver OOM-killed:
    that sample then ends as infra_error. That is the one known way left to turn a 0 into a masked sample.
  * The host, within constants: stdout per test <= Limits.output_bytes, stdout + stderr tails per
    submission <= Limits.total_output_bytes (16 MiB default, at most protocol.MAX_TOTAL_OUTPUT = 64 MiB),
    sent base64-encoded (4/3, never JSON-escaped), so the host holds at most about 6x that per submission
    while decoding (graders' RESULT_CAP_BYTES = 32 MiB: < 192 MiB, tested), and parses one JSON line per
    test (host CPU is linear in the bytes kept, not in what the program wrote).
Where limits are enforced: wall time, output caps and the kill sweep in the driver; memory by the cgroup
(memory = memory+swap) and RLIMIT_AS per test process; pids, CPU (1 core), nofile, fsize, network none,
read-only root by the container; the host only bounds its wait (protocol.request_deadline) and the reply.
What becomes infra_error (masked): no reply before the host deadline, a reply that breaks the protocol,
the driver or container dying, the engine failing; each is retried once in a fresh container unless the
deadline passed. A program's own failure is never one of these, except as the CAP_SYS_RESOURCE note says.
"""
from __future__ import annotations

import logging

from sandboxes.local import LocalSandbox
from sandboxes.types import Limits, RunResult, Sandbox, SandboxResult

__all__ = ["Limits", "RunResult", "SandboxResult", "Sandbox", "LocalSandbox", "get_sandbox"]
log = logging.getLogger(__name__)


def get_sandbox(kind: str = "auto", workers: int | None = None, **docker_options) -> Sandbox:
    """"docker": DockerSandbox or a DockerUnavailable error saying what to run. "local": LocalSandbox (no
    isolation). "auto": Docker when an engine answers (then a missing image is an error, never a silent
    fallback); LocalSandbox, with a warning, only when there is no engine or SDK at all."""
    from sandboxes.docker import DockerSandbox, DockerUnavailable, connect

    if kind == "local":
        return LocalSandbox(workers)
    if kind == "docker":
        return DockerSandbox(workers, **docker_options)
    if kind != "auto":
        raise ValueError(f"unknown sandbox kind {kind!r}: use 'auto', 'docker' or 'local'")
    try:
        connect()
    except DockerUnavailable as exc:
        log.warning("no Docker engine (%s); falling back to LocalSandbox WITHOUT isolation", exc)
        return LocalSandbox(workers)
    return DockerSandbox(workers, **docker_options)
