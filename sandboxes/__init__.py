"""Running untrusted programs with limits. Imports nothing else from this project."""
from sandboxes.types import Limits, RunResult, SandboxResult, Sandbox

__all__ = ["Limits", "RunResult", "SandboxResult", "Sandbox"]
