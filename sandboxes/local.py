"""LocalSandbox: the same driver as the container, run as a host subprocess. NO ISOLATION.

For machines without Docker only. Each submission runs in a fresh temporary directory with a minimal
environment, each test in a process forked by the driver's zygote, with rlimits (address space, file size,
no core dumps), a wall deadline, an output cap and a kill sweep of its descendants. What it does not do: the
program runs as the calling user, sees the host's files and network, and a fork bomb is not contained
(RLIMIT_NPROC does not bind root); no seccomp filter, no memory cgroup. Use DockerSandbox for anything untrusted.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
from typing import Sequence

from sandboxes.protocol import DRIVER_PATH, ProtocolError, encode_request, parse_reply, request_deadline
from sandboxes.types import Limits, SandboxResult

log = logging.getLogger(__name__)


class LocalSandbox:
    """Runs programs on this host with rlimits only: no isolation (see module docstring)."""

    def __init__(self, workers: int | None = None, python: str = sys.executable):
        self.python = python
        self.workers = workers or os.cpu_count() or 1
        self._slots = threading.BoundedSemaphore(self.workers)
        log.warning("LocalSandbox: programs run on this host WITHOUT isolation (rlimits only); "
                    "use the Docker sandbox for untrusted code")

    def run(self, program: str, inputs: Sequence[str], limits: Limits = Limits(), *,
            stop_on_error: bool = False, session: bool = False, relaunch: int = 0) -> SandboxResult:
        request = encode_request(program, inputs, limits, stop_on_error, session, relaunch)
        with self._slots, tempfile.TemporaryDirectory(prefix="mimo-sbx-") as workdir:
            try:
                proc = subprocess.run(
                    [self.python, "-I", str(DRIVER_PATH)], input=request, capture_output=True,
                    cwd=workdir, env=_minimal_env(workdir), timeout=request_deadline(limits, len(inputs), relaunch))
            except subprocess.TimeoutExpired:
                return _infra("local driver did not answer within the request deadline")
        if proc.returncode != 0:
            return _infra(f"local driver exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}")
        try:
            results, _ = parse_reply(proc.stdout, len(inputs))  # no scratch to recycle: a fresh driver each time
        except ProtocolError as exc:
            return _infra(str(exc))
        return SandboxResult(results=results, meta={"sandbox": "local"})

    def close(self) -> None:
        pass

    def __enter__(self) -> "LocalSandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _minimal_env(workdir: str) -> dict[str, str]:
    # No inherited variables: the program must not see the caller's tokens or proxies.
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _infra(message: str) -> SandboxResult:
    log.error("local sandbox infrastructure error: %s", message)
    return SandboxResult(results=(), infra_error=message, meta={"sandbox": "local"})
