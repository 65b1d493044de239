"""Shared test helpers.

    python -m pytest -q            # the whole suite
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("MIMO_REQUIRE_DOCKER") == "1"


def venv_python(name: str, what: str) -> Path:
    """.venvs/<name>/bin/python (made by tools/setup_frameworks.sh), or a skip; in CI a missing or half-built venv
    fails instead, so `what` can never pass by skipping there."""
    python = ROOT / ".venvs" / name / "bin" / "python"
    if python.exists() and (python.parent.parent / ".mimo-stamp").exists():
        return python
    message = f".venvs/{name} is missing or half-built: run `bash tools/setup_frameworks.sh {name}`"
    if in_ci():
        pytest.fail(f"{what} must run here: {message}")
    pytest.skip(message)


def docker_sandbox_or_skip(workers: int):
    """A DockerSandbox, or a skip when no engine or image is here; in CI (CI=true or MIMO_REQUIRE_DOCKER=1)
    a missing engine fails instead, so the Docker tests can never pass by skipping."""
    from sandboxes.docker import DockerSandbox, DockerUnavailable

    try:
        return DockerSandbox(workers=workers)
    except DockerUnavailable as exc:
        if in_ci():
            pytest.fail(f"the Docker tests must run here: {exc}")
        pytest.skip(str(exc))
