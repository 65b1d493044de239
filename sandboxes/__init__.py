"""Running untrusted programs with limits. Imports nothing else from this project.

`LocalSandbox` (no isolation, for machines without Docker) is importable directly; the Docker SDK is only
imported when a DockerSandbox is created.
"""
from sandboxes.local import LocalSandbox
from sandboxes.types import Limits, RunResult, Sandbox, SandboxResult

__all__ = ["Limits", "RunResult", "SandboxResult", "Sandbox", "LocalSandbox"]
