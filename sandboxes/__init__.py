"""Running untrusted programs with limits. Imports nothing else from this project.

`get_sandbox("auto" | "docker" | "local")` picks one. The Docker SDK is only imported when a DockerSandbox
is created, so `import sandboxes` stays light.
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
